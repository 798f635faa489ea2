"""``python -m core.launcher``, what ``scripts/run`` runs once the configuration is checked and the
schema is current: the whole system on one machine, until it is told to stop.

It starts an embedded Redis (unless ``REDIS_URL`` is set), ``RQ_WORKERS`` workers and the
web app under gunicorn, says "running" once ``/health`` answers, and on SIGINT or SIGTERM
stops them in turn: the web app (webhooks in flight finish), the workers (each finishes
its job), then the embedded Redis if it started it. A second signal kills what is left.

The signals are its own, however it was started: each child runs in a session of its own,
so neither a terminal's Ctrl-C nor a signal to a process group reaches them past it, and
a child outlives it only until Linux tells the child that its parent died (SIGTERM). A
shell script cannot promise as much: a shell started in the background by another script
ignores SIGINT for good, and its traps with it.
"""
from __future__ import annotations

import ctypes
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from core import embedded_redis
from core.config import ConfigError, load_config
from core.settings import Settings

READY_SECONDS = 60       # for /health to answer
WORKERS_SECONDS = 15     # then, for a worker to show in it
STOP_SECONDS = 15        # per process, after SIGTERM, before SIGKILL
RESTART_PAUSE = 5.0      # a worker that died is started again, at most this often
TOKEN_FILE = "api_token"
PR_SET_PDEATHSIG = 1     # linux/prctl.h


class Stop(Exception):
    """A signal asked everything to stop."""


def _die_with_parent() -> None:
    """In a child, before it runs: SIGTERM when the launcher dies, however it dies (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _whole_number(env: dict, name: str, default: int, least: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or int(raw) < least:
        raise ConfigError(name, f"must be a whole number of at least {least}, not {raw!r}", "environment")
    return int(raw)


def _shown(path: Path) -> str:
    """``path`` as the operator would type it: relative to the current folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def api_token(env: dict, data_dir: Path) -> tuple[str, Path | None, bool]:
    """``API_TOKEN``, or the one kept in the data folder (made on first use, mode 0600);
    returns (token, the file it is kept in or None, whether it was just made)."""
    if env.get("API_TOKEN"):
        return env["API_TOKEN"], None, False
    path = data_dir / TOKEN_FILE
    made = False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        made = True
    os.chmod(path, 0o600)
    token = path.read_text().strip()
    if not token:
        raise ConfigError("API_TOKEN", f"{path} is empty: delete it to have a new token made", "environment")
    return token, path, made


def _health(port: int, token: str) -> dict | None:
    """/health's full report (the token shows what is up and what is not), or None while it does not answer."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


class Launcher:
    def __init__(self, env: dict):
        self.env = dict(env)
        self.settings = Settings.from_env(self.env)
        self.config = load_config(self.settings.config_path)
        self.port = _whole_number(self.env, "PORT", 8000, 1)
        self.rq_workers = _whole_number(self.env, "RQ_WORKERS", 2, 1)
        self.web_concurrency = _whole_number(self.env, "WEB_CONCURRENCY", 2, 1)
        self.web_threads = _whole_number(self.env, "WEB_THREADS", 8, 1)
        self.rq_log_level = (self.env.get("RQ_LOG_LEVEL") or "WARNING").upper()
        self.data_dir = self.settings.data_dir
        self.web: subprocess.Popen | None = None
        self.workers: dict[int, subprocess.Popen] = {}
        self.started_redis = False
        self.stopping = False

    # -- signals -----------------------------------------------------------------------------
    def _on_signal(self, signum, _frame) -> None:
        if self.stopping:  # a second signal: do not wait for anyone
            for process in self._children():
                if process.poll() is None:
                    process.kill()
            return
        self.stopping = True
        raise Stop(signal.Signals(signum).name)

    def _children(self) -> list[subprocess.Popen]:
        return [p for p in (self.web, *self.workers.values()) if p is not None]

    # -- starting ----------------------------------------------------------------------------
    def _spawn(self, command: list[str]) -> subprocess.Popen:
        # A session of its own: only this launcher signals it (see the module's docstring); gunicorn's
        # gthread workers, given a terminal's Ctrl-C besides their master's SIGQUIT, now and then
        # deadlocked in their thread pool's shutdown.
        return subprocess.Popen(command, env=self.env, start_new_session=True, preexec_fn=_die_with_parent)

    def _start_worker(self, n: int) -> None:
        self.workers[n] = self._spawn([sys.executable, "-m", "dispatch.worker", "--name",
                                       f"worker-{socket.gethostname()}-{os.getpid()}-{n}",
                                       "--rq-log-level", self.rq_log_level])

    def start(self) -> None:
        token, self.token_file, self.token_made = api_token(self.env, self.data_dir)
        self.env["API_TOKEN"] = token
        if self.settings.redis_url is None:
            url, self.started_redis = embedded_redis.ensure_running(self.data_dir)
            self.env["REDIS_URL"] = url
            _say(f"embedded Redis started at {url} ({embedded_redis.server_binary()})" if self.started_redis else
                 f"embedded Redis already running at {url}: not started by this run, it is left running at exit")
        for n in range(1, self.rq_workers + 1):
            self._start_worker(n)
        self.web = self._spawn([sys.executable, "-m", "gunicorn", "--bind", f"0.0.0.0:{self.port}",
                                "--workers", str(self.web_concurrency), "--threads", str(self.web_threads),
                                "--access-logfile", "-", "--graceful-timeout", "10", "--no-control-socket",
                                "wsgi:app"])

    def wait_until_ready(self) -> dict:
        """/health's answer once it answers and shows a worker (or, after ``WORKERS_SECONDS`` more,
        whatever it says); raises SystemExit if the web app exits first or never answers."""
        deadline = time.monotonic() + READY_SECONDS
        answered_at = None
        while True:
            if self.web.poll() is not None:
                raise SystemExit(f"run: the web app exited with {self.web.returncode} before it answered")
            health = _health(self.port, self.env["API_TOKEN"])
            if health is not None:
                answered_at = answered_at or time.monotonic()
                if health.get("workers") or time.monotonic() > answered_at + WORKERS_SECONDS:
                    return health
            elif time.monotonic() > deadline:
                raise SystemExit(f"run: http://127.0.0.1:{self.port}/health did not answer within "
                                 f"{READY_SECONDS} s")
            time.sleep(0.2)

    def supervise(self) -> int:
        """Until a signal: the web app exiting ends the run; a worker that died is started again."""
        restarted: dict[int, float] = {}
        while True:
            if self.web.poll() is not None:
                _say(f"the web app exited with {self.web.returncode}: stopping")
                return 1
            for n, worker in list(self.workers.items()):
                if worker.poll() is not None and time.monotonic() - restarted.get(n, 0) > RESTART_PAUSE:
                    _say(f"worker {n} exited with {worker.returncode}: starting it again")
                    restarted[n] = time.monotonic()
                    self._start_worker(n)
            time.sleep(0.5)

    # -- stopping ----------------------------------------------------------------------------
    def stop(self) -> None:
        """The web app first (webhooks in flight finish: a caller's message is stored), then the workers
        (each finishes its job), then the embedded Redis if this run started it (it saves its data)."""
        self.stopping = True
        _stop([self.web] if self.web else [])
        _stop(list(self.workers.values()))
        if self.started_redis:
            embedded_redis.stop(self.data_dir)
            _say("stopped: web app, workers, embedded Redis")
        elif self.settings.redis_url is None:
            _say("stopped: web app, workers. The embedded Redis was running before this run and is left "
                 f"running; stop it with: kill $(cat {_shown(self.data_dir / 'redis.pid')})")
        else:
            _say("stopped: web app, workers")

    # -- what the operator reads -------------------------------------------------------------------
    def banner(self, health: dict) -> str:
        local = f"http://127.0.0.1:{self.port}"
        config, settings = self.config, self.settings
        workers = health.get("workers", 0)
        lines = ["", f"  Support line running at {local} (this machine only; listening on port {self.port})",
                 f"    /health: {health.get('status')} (Redis {health.get('redis')}, database "
                 f"{health.get('database')}, {workers} worker{'s' if workers != 1 else ''})",
                 f"  Support number {config.support_number} ({config.company_name}), from "
                 f"{_shown(settings.config_path)}"]
        if self.token_file is not None:
            lines += [f"  JSON API: curl -H \"Authorization: Bearer $(cat {_shown(self.token_file)})\" "
                      f"{local}/api/tickets",
                      f"    (API_TOKEN is unset: {'a new token was made and is' if self.token_made else 'the token'}"
                      f" kept in {_shown(self.token_file)}, readable by you only)"]
        else:
            lines.append(f"  JSON API: curl -H \"Authorization: Bearer $API_TOKEN\" {local}/api/tickets")
        base = settings.public_base_url
        if base:
            lines += [f"  Twilio reaches it at {base} (PUBLIC_BASE_URL); the number's webhooks:",
                      f"    Voice \"A call comes in\"        POST {base}/voice/incoming",
                      f"    Voice \"Primary handler fails\"  POST {base}/voice/fallback",
                      f"    Voice \"Call status changes\"    POST {base}/voice/status",
                      f"    Messaging \"A message comes in\" POST {base}/sms/incoming",
                      "    `.venv/bin/flask --app wsgi twilio configure` sets them; `... doctor` checks it all."]
        else:
            lines += ["  Twilio cannot reach 127.0.0.1: put an https tunnel or reverse proxy in front of port "
                      f"{self.port},",
                      "    set PUBLIC_BASE_URL to its address and restart; then `.venv/bin/flask --app wsgi twilio "
                      "configure` points the number here."]
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            lines.append("  No Twilio credentials: webhooks are refused (403); SMS and calls go to the console outbox "
                         "(`.venv/bin/flask --app wsgi outbox`).")
        staff = next(iter(config.staff), "alice")
        lines += ["  Try a call:   .venv/bin/flask --app wsgi simulate",
                  f"  Try a reply:  .venv/bin/flask --app wsgi sms --from {staff} \"ACK\"",
                  "  Ctrl-C stops everything.", ""]
        return "\n".join(lines)


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _say(text: str) -> None:
    print(f"run: {text}", flush=True)


def main() -> int:
    try:
        launcher = Launcher(os.environ)
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, launcher._on_signal)
    code = 0
    try:
        launcher.start()
        print(launcher.banner(launcher.wait_until_ready()), flush=True)
        code = launcher.supervise()
    except Stop as stop:
        _say(f"{stop}: stopping")
    except ConfigError as exc:
        sys.stderr.write(f"configuration error: {exc}\n")
        code = 2
    except SystemExit as exc:
        sys.stderr.write(f"{exc}\n")
        code = 1
    finally:
        try:
            launcher.stop()
        except Stop:  # a second signal while stopping: what was left was killed
            pass
    return code


if __name__ == "__main__":
    raise SystemExit(main())
