"""The real multi-process stack, started as production starts it, for benchmarks and
multi-process tests: ``gunicorn wsgi:app`` with N workers, M ``python -m dispatch.worker``
processes, and the Twilio stand-in, against a Redis URL and a database URL you give.

    from tests.processes import ProcessStack
    from tests.support import BASE_CONFIG, RedisServer

    redis_server = RedisServer(tmp_path / "redis").start()
    with ProcessStack(tmp_path, redis_server.url, config=BASE_CONFIG, web_workers=2, rq_workers=2) as stack:
        status, twiml = stack.hooks.post("/voice/incoming", {...})   # signed, over real HTTP
        stack.fake.messages                                           # what reached "Twilio"
        stack.workers[0].kill()                                       # SIGKILL one RQ worker
        stack.api("/api/tickets")                                     # bearer API_TOKEN
    redis_server.stop()

Why processes rather than the in-process ``tests.support.make_stack``: duplicate tickets,
duplicate pages, SQLite locking and latency under load only show up with several
processes, each with its own engine, Redis pool and GIL. Every process writes its output
to ``<workdir>/logs/<name>.log`` (never a pipe, which would block a busy process once
full). Leaving the ``with`` block terminates everything, then kills what is left.
The clock is the system clock here: choose ``config`` hours to suit (``hours={}`` is
closed all week), since a FixedClock cannot be handed to another process.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from core import migrations
from core.db import Store
from fake_twilio.phone import ACCOUNT_SID, Webhooks
from fake_twilio.server import FakeTwilio
from tests.support import API_TOKEN, AUTH_TOKEN, BASE_CONFIG, SECRET_KEY, free_port, toml_dumps

ROOT = Path(__file__).resolve().parent.parent
STOP_SECONDS = 10


def _get_json(url: str, headers: dict | None = None, timeout: float = 5) -> dict:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


class FakeTwilioProcess:
    """``python -m fake_twilio.server`` in its own process; reads like ``FakeTwilio``
    (``messages``, ``calls``, ``request_times``, ``sms_to``, ``fail_next``, ``base_url``),
    each read fetching the current state over loopback."""

    def __init__(self, log_path: Path, auth_token: str = AUTH_TOKEN):
        self.auth_token, self.account_sid = auth_token, ACCOUNT_SID
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fake_twilio.server", "--auth-token", auth_token], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=self._log, env=_child_env({}))
        line = self.process.stdout.readline().decode()  # "port 12345", printed once it listens
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"fake_twilio.server did not start (see {log_path})")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def state(self) -> dict:
        return _get_json(self.base_url + "/_fake/state")

    @property
    def messages(self) -> list[dict]:
        return self.state()["messages"]

    @property
    def calls(self) -> list[dict]:
        return self.state()["calls"]

    @property
    def request_times(self) -> list[float]:
        return self.state()["request_times"]

    def sms_to(self, number: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == number]

    def fail_next(self, *faults) -> None:
        """As ``FakeTwilio.fail_next``: 500, 429, ("error", 400, 21211), ("hang", seconds), "drop"."""
        request = urllib.request.Request(self.base_url + "/_fake/faults", data=json.dumps(list(faults)).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()

    def stop(self) -> None:
        stop_process(self.process)
        self.process.stdout.close()
        self._log.close()


def _child_env(extra: dict) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IVR_", "TWILIO_"))}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def stop_process(process: subprocess.Popen, timeout: float = STOP_SECONDS) -> None:
    """SIGTERM, wait up to ``timeout``, then SIGKILL."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def start_gunicorn(app: str, env: dict, log_path: Path, workers: int = 2, threads: int = 8,
                   port: int | None = None, extra_args: tuple = ()) -> tuple[subprocess.Popen, str]:
    """``gunicorn APP`` on a free loopback port with ``scripts/run``'s settings (gthread
    workers with ``threads`` threads each); returns the process and its base URL. The caller
    waits for it to answer (see ``wait_until``)."""
    port = port or free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--threads", str(threads), "--graceful-timeout", "10", "--no-control-socket", *extra_args, app]
    log = open(log_path, "ab")
    try:
        process = subprocess.Popen(command, cwd=ROOT, env=_child_env(env), stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()  # the child has its own copy
    return process, f"http://127.0.0.1:{port}"


def wait_until(check, what: str, timeout: float = 30, processes: tuple = ()) -> object:
    """Poll ``check()`` until it returns something truthy; fail fast if one of ``processes`` exits."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{what}: process {process.args[:4]} exited with {process.returncode}")
        try:
            result = check()
            if result:
                return result
        except OSError as exc:  # not listening yet
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s ({last})")


class ProcessStack:
    """The web app, RQ workers and the Twilio stand-in as separate processes; a context manager.

    Arguments: ``workdir`` (config, data dir, SQLite file and logs go there), ``redis_url``,
    ``config`` (a ``BASE_CONFIG``-like dict), ``database_url`` (default: a SQLite file in
    ``workdir``), ``web_workers`` and ``web_threads`` (gunicorn), ``rq_workers``,
    ``fake_in_process`` (keep ``FakeTwilio`` in this process: its full API, but it then
    shares this process's GIL), ``env`` (extra environment for every app process).

    Attributes once entered: ``base_url`` (gunicorn, also ``PUBLIC_BASE_URL``), ``hooks``
    (``Webhooks`` signing over real HTTP), ``fake``, ``web`` (the gunicorn master's
    ``Popen``), ``workers`` (``Popen`` of each RQ worker), ``env`` (the app environment).
    """

    def __init__(self, workdir: Path, redis_url: str, config: dict | None = None, database_url: str | None = None,
                 web_workers: int = 2, web_threads: int = 8, rq_workers: int = 1, fake_in_process: bool = False,
                 env: dict | None = None, ready_timeout: float = 60):
        self.workdir = Path(workdir)
        self.redis_url = redis_url
        self.config = config or BASE_CONFIG
        self.database_url = database_url or f"sqlite:///{self.workdir / 'tickets.sqlite3'}"
        self.web_workers, self.web_threads, self.rq_workers = web_workers, web_threads, rq_workers
        self.fake_in_process = fake_in_process
        self.extra_env = env or {}
        self.ready_timeout = ready_timeout
        self.logs = self.workdir / "logs"
        self.workers: list[subprocess.Popen] = []
        self._exit = ExitStack()

    # -- life cycle ------------------------------------------------------------------
    def __enter__(self) -> ProcessStack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()

    def _start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        config_path = self.workdir / "config.toml"
        config_path.write_text(toml_dumps(self.config))
        if self.fake_in_process:
            self.fake = FakeTwilio(AUTH_TOKEN).start()
            self._exit.callback(self.fake.stop)
        else:
            self.fake = FakeTwilioProcess(self.logs / "fake_twilio.log")
            self._exit.callback(self.fake.stop)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.env = {
            "IVR_CONFIG": str(config_path), "IVR_DATA_DIR": str(self.workdir / "var"), "REDIS_URL": self.redis_url,
            "DATABASE_URL": self.database_url, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": self.fake.base_url, "PUBLIC_BASE_URL": self.base_url, "API_TOKEN": API_TOKEN,
            "IVR_SECRET_KEY": SECRET_KEY, **self.extra_env,
        }
        # Create the schema once here, so the processes starting together do not race to create it.
        store = Store(self.database_url)
        migrations.upgrade(store)
        store.dispose()
        for _ in range(self.rq_workers):
            self.start_worker()
        self.web, _ = start_gunicorn("wsgi:app", self.env, self.logs / "gunicorn.log", workers=self.web_workers,
                                     threads=self.web_threads, port=port)
        self._exit.callback(stop_process, self.web)
        self.hooks = Webhooks(self.base_url, AUTH_TOKEN)
        wait_until(lambda: self._ready(), "the stack's /health", self.ready_timeout, (self.web, *self.workers))

    def _ready(self) -> bool:
        health = self.health()
        return health.get("status") == "ok" and health.get("workers", 0) >= len(self.alive_workers())

    def start_worker(self, name: str | None = None) -> subprocess.Popen:
        """Start one more ``python -m dispatch.worker`` (stopped with the stack)."""
        name = name or f"worker-{len(self.workers) + 1}-{os.getpid()}"
        log = open(self.logs / f"{name}.log", "ab")
        try:
            process = subprocess.Popen([sys.executable, "-m", "dispatch.worker", "--name", name], cwd=ROOT,
                                       env=_child_env(self.env), stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        self.workers.append(process)
        self._exit.callback(stop_process, process)
        return process

    def alive_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    # -- talking to it ---------------------------------------------------------------------
    def health(self) -> dict:
        return _get_json(self.base_url + "/health", {"Authorization": f"Bearer {API_TOKEN}"})

    def api(self, path: str) -> dict:
        """GET a JSON API path with the bearer token, e.g. ``stack.api("/api/tickets?limit=500")``."""
        return _get_json(self.base_url + path, {"Authorization": f"Bearer {API_TOKEN}"})

    def pids(self) -> dict[str, list[int]]:
        """Process ids by role, gunicorn's workers included (for CPU accounting or signals)."""
        return {"web": [self.web.pid, *_children(self.web.pid)], "workers": [w.pid for w in self.alive_workers()],
                "fake": [] if self.fake_in_process else [self.fake.process.pid]}


def _children(pid: int) -> list[int]:
    """Child process ids of ``pid`` (Linux /proc), e.g. gunicorn's workers."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return found
