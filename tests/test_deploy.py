"""The deployment recipe (docs/deploy.md) run as systemd would run it: the units' ExecStartPre and
ExecStart lines, exactly, with their Environment and an environment file with every key of
``deploy/env.example``, against a temporary data folder; the web app and two workers answer
/health, and stop on the SIGTERM systemd sends. Only the install folder (/opt/support-line)
becomes this checkout, the address a free loopback port, and the web app runs one gunicorn
worker, not four, to keep the test quick."""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from dispatch.verification.secret_box import new_key
from tests.dispatch_support import REAL_CLOCK_CONFIG
from tests.support import API_TOKEN, free_port, toml_dumps

pytestmark = pytest.mark.timeout(120)

DEPLOY = PROJECT_ROOT / "deploy"
INSTALL = "/opt/support-line"


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections and their settings (a key may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def _command(line: str, env: dict, instance: str = "") -> tuple[list[str], bool]:
    """An Exec line as systemd runs it: specifiers (%i, %H) and ${VAR} filled in; returns the argv and
    whether a failure is allowed (a leading "-")."""
    allowed = line.startswith("-")
    line = line.lstrip("-@:+!")
    line = line.replace("%i", instance).replace("%H", socket.gethostname()).replace("%%", "%")
    line = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), line)
    argv = [word.replace(INSTALL, str(PROJECT_ROOT)) for word in shlex.split(line)]
    return argv, allowed


def _environment(service: dict[str, list[str]], base: dict) -> dict:
    env = dict(base)
    for assignments in service.get("Environment", []):
        for word in shlex.split(assignments):
            key, _, value = word.partition("=")
            env[key] = value
    return env


def _env_file_keys() -> list[str]:
    return [line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines()
            if line and not line.startswith("#")]


def _health(port: int) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health",
                                     headers={"Authorization": f"Bearer {API_TOKEN}"})
    with urllib.request.urlopen(request, timeout=3) as response:
        return json.loads(response.read())


def test_the_units_run_the_web_app_and_two_workers_that_answer_health(tmp_path, redis_url, database_url):
    web, worker = _unit(DEPLOY / "systemd" / "support-line-web.service"), \
        _unit(DEPLOY / "systemd" / "support-line-worker@.service")
    target = _unit(DEPLOY / "systemd" / "support-line.target")
    assert target["Unit"]["Wants"] == ["support-line-web.service support-line-worker@1.service "
                                       "support-line-worker@2.service"]
    for unit in (web, worker):
        service = unit["Service"]
        assert service["WorkingDirectory"] == [INSTALL] and service["KillMode"] == ["mixed"]
        assert service["EnvironmentFile"] == ["/etc/support-line/env"] and service["User"] == ["support-line"]

    config = tmp_path / "config.toml"
    config.write_text(toml_dumps(REAL_CLOCK_CONFIG))
    port = free_port()
    # /etc/support-line/env, with every key of the example given a value of this test's.
    env_file = {"IVR_CONFIG": str(config), "IVR_DATA_DIR": str(tmp_path / "var"), "DATABASE_URL": database_url,
                "REDIS_URL": redis_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "not-used-here",
                "API_TOKEN": API_TOKEN, "IVR_SECRET_KEY": new_key()}
    assert sorted(_env_file_keys()) == sorted(env_file)
    (tmp_path / "var").mkdir()  # systemd's StateDirectory=
    base = {"PATH": os.environ["PATH"], "LANG": os.environ.get("LANG", "C.UTF-8"), **env_file}

    web_env = {**_environment(web["Service"], base), "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    processes: list[tuple[subprocess.Popen, dict]] = []
    try:
        for line in web["Service"]["ExecStartPre"]:
            argv, allowed = _command(line, web_env)
            done = subprocess.run(argv, cwd=PROJECT_ROOT, env=web_env, capture_output=True, timeout=60)
            assert done.returncode == 0 or allowed, done.stderr.decode()[-2000:]
        for unit, instance in ((worker, "1"), (worker, "2"), (web, "")):
            env = web_env if unit is web else _environment(unit["Service"], base)
            argv, _ = _command(unit["Service"]["ExecStart"][0], env, instance)
            processes.append((subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, start_new_session=True,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), unit))
        deadline = time.monotonic() + 60
        health = {}
        while time.monotonic() < deadline:
            exited = [p.args[:4] for p, _ in processes if p.poll() is not None]
            assert not exited, exited
            try:
                health = _health(port)
                if health.get("workers") == 2:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert health.get("status") == "ok" and health["workers"] == 2, health
    finally:
        for process, _ in processes:  # KillMode=mixed: SIGTERM to each unit's main process
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, unit in processes:
            try:
                process.wait(int(unit["Service"]["TimeoutStopSec"][0]))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                raise
    # A clean stop, as systemd counts one: exit 0, or death by the SIGTERM itself (a worker that
    # had not yet set its handler when it came).
    assert all(p.returncode in (0, -signal.SIGTERM) for p, _ in processes), [p.returncode for p, _ in processes]
