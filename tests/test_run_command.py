"""``bash scripts/run`` as a first-time operator starts it: it makes an API token, says "running"
only once /health answers, and stops everything on SIGINT even when started from a script,
whose background jobs ignore SIGINT (the signal a shell script cannot trap then)."""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from core import embedded_redis
from core.settings import PROJECT_ROOT
from tests.dispatch_support import REAL_CLOCK_CONFIG
from tests.support import SUPPORT_NUMBER, free_port, toml_dumps

pytestmark = pytest.mark.timeout(150)


def _ours(marker: bytes) -> list[int]:
    """Processes whose environment holds ``marker`` (our data folder): every one the run started."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as file:
                    if marker in file.read():
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _wait_for(path, text: str, process: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = path.read_text(errors="replace")
        if text in output:
            return output
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} from scripts/run:\n{path.read_text(errors='replace')[-3000:]}")


def test_run_says_running_once_it_answers_and_stops_everything_on_sigint_from_a_script(tmp_path):
    data_dir = tmp_path / "var"
    config = tmp_path / "config.toml"
    config.write_text(toml_dumps(REAL_CLOCK_CONFIG))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(IVR_DATA_DIR=str(data_dir), IVR_CONFIG=str(config), PORT=str(port), RQ_WORKERS="1",
               WEB_CONCURRENCY="1", WEB_THREADS="2", PYTHONUNBUFFERED="1")
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        # As a script's background job starts it: SIGINT ignored from the start.
        run = subprocess.Popen(["bash", "scripts/run"], cwd=PROJECT_ROOT, env=env, stdout=out,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        output = _wait_for(log, "Support line running at", run, 90)
        assert _get(f"http://127.0.0.1:{port}/health") == 200  # it answered before it said so
        banner = output[output.index("Support line running at"):]
        assert f"http://127.0.0.1:{port} (this machine only" in banner
        assert f"Support number {SUPPORT_NUMBER} (SmartPath Technologies)" in banner
        assert "Twilio cannot reach 127.0.0.1" in banner and "set PUBLIC_BASE_URL" in banner
        assert "/health: ok (Redis ok, database ok, 1 worker)" in banner

        token_file = data_dir / "api_token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert token not in output  # the curl line reads the file instead
        assert f'curl -H "Authorization: Bearer $(cat {token_file})" http://127.0.0.1:{port}/api/tickets' in banner
        assert _get(f"http://127.0.0.1:{port}/api/tickets", token) == 200
        assert _get(f"http://127.0.0.1:{port}/api/tickets") == 401
        started = _ours(str(data_dir).encode())
        assert len(started) >= 4  # the launcher, gunicorn's master and worker, the RQ worker

        os.kill(run.pid, signal.SIGINT)  # the script itself only, not its group
        assert run.wait(60) == 0
        deadline = time.monotonic() + 5  # the daemonized Redis exits a moment after it answered SHUTDOWN
        while (left := _ours(str(data_dir).encode())) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        for pid in _ours(str(data_dir).encode()):
            os.kill(pid, signal.SIGKILL)
        redis_left = embedded_redis.stop(data_dir)  # Redis rewrites its environment: not found above
    assert left == [] and not redis_left
    output = log.read_text(errors="replace")
    assert "run: SIGINT: stopping" in output and "run: stopped: web app, workers, embedded Redis" in output
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
