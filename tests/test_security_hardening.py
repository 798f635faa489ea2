"""The smaller defences: Twilio-shaped SIDs only, webhook bodies capped before parsing, deeply nested
JSON refused, /health's details for the token's holder only, https for the public address, a key
required with a shared database, a private data folder, and the newer redis-server preferred."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core import embedded_redis
from core.config import ConfigError
from core.settings import PROJECT_ROOT, Settings
from dispatch.calls import intake, spool
from tests.support import API_TOKEN, CLIENT_PHONE, SUPPORT_NUMBER, make_stack

VOICE = {"AccountSid": "AC" + "0" * 32, "From": CLIENT_PHONE, "To": SUPPORT_NUMBER, "CallStatus": "in-progress",
         "Direction": "inbound"}


@pytest.mark.parametrize("path, field, value", [
    ("/voice/incoming", "CallSid", "CA1"),
    ("/voice/incoming", "CallSid", "CA../../" + "a" * 24),
    ("/voice/incoming", "CallSid", "SM" + "a" * 32),
    ("/voice/recorded?box=support", "RecordingSid", "RE" + "x" * 32),
    ("/sms/incoming", "MessageSid", "SM" + "a" * 31),
])
def test_sids_not_of_twilios_shape_are_refused(stack, path, field, value):
    params = {"CallSid": "CA" + "a" * 32, **VOICE, field: value}
    status, _ = stack.hooks.post(path, params)
    assert status == 400
    assert stack.tickets() == []
    good = {**params, field: {"CallSid": "CA", "RecordingSid": "RE", "MessageSid": "SM"}[field] + "0f" * 16}
    assert stack.hooks.post(path, good)[0] == 200


def test_webhook_bodies_beyond_twilios_size_or_field_count_are_refused_before_parsing(stack):
    params = {"CallSid": "CA" + "a" * 32, **VOICE}
    big = {**params, "Padding": "x" * 40_000}  # signed, and still refused
    assert stack.hooks.post("/voice/incoming", big)[0] == 413
    many = {**params, **{f"F{n}": "1" for n in range(300)}}
    assert stack.hooks.post("/voice/incoming", many)[0] == 413
    extra = {**params, **{f"F{n}": "1" for n in range(100)}}  # Twilio adds fields now and then: fine
    assert stack.hooks.post("/voice/incoming", extra)[0] == 200


def test_deeply_nested_json_to_the_api_is_a_400_not_a_server_error(stack):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 40 + "1" + "}" * 40):
        response = stack.api("/api/disclosures", method="POST", data=body, content_type="application/json")
        assert response.status_code == 400 and "nested" in response.get_json()["error"]
    ordinary = stack.api("/api/disclosures", method="POST", json={"contact_id": 999, "secret": "Abc123"})
    assert ordinary.status_code == 404


def test_health_says_only_ok_or_degraded_without_the_token(stack):
    anonymous = stack.client.get("/health")
    assert anonymous.status_code == 200 and anonymous.get_json() == {"status": "degraded"}  # no worker runs
    wrong = stack.client.get("/health", headers={"Authorization": "Bearer nope"})
    assert wrong.get_json() == {"status": "degraded"}
    detailed = stack.client.get("/health", headers={"Authorization": f"Bearer {API_TOKEN}"}).get_json()
    assert detailed["status"] == "degraded" and detailed["workers"] == 0 and detailed["redis"] == "ok"


@pytest.mark.parametrize("base, allowed", [
    ("https://support.example.com", True), ("http://localhost:8000", True), ("http://127.0.0.1", True),
    ("http://support.example.com", False), ("http://localhost.example.com", False),
])
def test_the_public_address_must_be_https_unless_it_is_this_machine(base, allowed):
    if allowed:
        assert Settings.from_env({"PUBLIC_BASE_URL": base}).public_base_url == base
    else:
        with pytest.raises(ConfigError, match="PUBLIC_BASE_URL: .* must be https://"):
            Settings.from_env({"PUBLIC_BASE_URL": base})


def test_a_shared_database_needs_the_secret_key_and_start_up_says_so_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="IVR_SECRET_KEY: must be set whenever DATABASE_URL is set"):
        Settings.from_env({"DATABASE_URL": "postgresql+psycopg://ivr@db.example/ivr"})
    env = {"PATH": os.environ["PATH"], "DATABASE_URL": f"sqlite:///{tmp_path / 't.sqlite3'}",
           "IVR_DATA_DIR": str(tmp_path / "var")}
    check = subprocess.run([sys.executable, "-m", "core.check"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 2
    assert check.stderr.splitlines() == ["configuration error: environment: IVR_SECRET_KEY: must be set whenever "
                                         "DATABASE_URL is set (32 random bytes in URL-safe base64; see "
                                         "docs/verification.md, Keys)"]
    assert Settings.from_env({"IVR_DATA_DIR": str(tmp_path / "var")}).secret_key is None  # embedded: a key file


def test_the_data_folder_and_its_files_are_readable_by_their_owner_only(tmp_path, redis_url):
    data = tmp_path / "var"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    stack = make_stack(tmp_path, redis_url, env={"IVR_DATA_DIR": str(data)})
    try:
        # The harness sets DATABASE_URL; the embedded default keeps the SQLite file in the data folder.
        from core.db import Store

        Store(f"sqlite:///{data / 'tickets.sqlite3'}").dispose()
        kept = spool.keep(data, intake.CallReport(call_sid="CA" + "b" * 32, box="support", caller_raw=CLIENT_PHONE))
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "tickets.sqlite3").stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def _fake_redis_server(folder: Path, version: str) -> str:
    folder.mkdir()
    binary = folder / "redis-server"
    binary.write_text(f"#!/bin/sh\necho 'Redis server v={version} sha=00000000:0 malloc=libc bits=64'\n")
    binary.chmod(0o755)
    return str(folder)


def test_a_newer_redis_server_on_the_path_is_preferred_to_redislites(tmp_path):
    bundled = embedded_redis.bundled_binary()
    assert embedded_redis.version_of(bundled) == (6, 2, 14)
    newer = _fake_redis_server(tmp_path / "newer", "7.2.4")
    older = _fake_redis_server(tmp_path / "older", "6.0.16")
    assert embedded_redis.choose_binary(newer) == str(tmp_path / "newer" / "redis-server")
    assert embedded_redis.choose_binary(older) == bundled
    assert embedded_redis.choose_binary(str(tmp_path / "nothing-here")) == bundled
