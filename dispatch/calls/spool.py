"""Webhook payloads kept on local disk for the worker to record.

When a recording callback arrives and the database is locked or down, the payload is
written here atomically and the caller still hears that their message was saved; the
worker replays the spool every few seconds, so the ticket appears once the database
is back. Nothing a caller recorded is lost to a database outage.

A recording status callback that the call's ticket does not already hold comes this way
too (see ``ivr.phone_tree.recording_status``): a file written and synced here is as durable as
a database commit, and costs the web app no turn at the database's write lock.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path

from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from dispatch.calls.intake import CallReport, record_call
from dispatch.runtime import Runtime

log = logging.getLogger(__name__)
# The worker replays every 2 s: a file still waiting after this long is not being replayed
# (no worker runs on this host with this IVR_DATA_DIR, or the database is away).
STALE_SECONDS = 60


def spool_dir(data_dir: Path) -> Path:
    return data_dir / "spool"


def keep(data_dir: Path, report: CallReport) -> Path:
    folder = spool_dir(data_dir)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The CallSid only labels the file: whatever it holds ('/', '..', a NUL) must not make the path.
    label = re.sub(r"[^A-Za-z0-9]", "_", report.call_sid[:64])
    final = folder / f"{label}-{uuid.uuid4().hex}.json"
    temporary = final.with_suffix(".tmp")
    # Callers' numbers and transcripts: readable by this user only, whatever the umask.
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(dataclasses.asdict(report), handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, final)
    _sync_folder(folder)  # the rename too survives a power cut
    log.debug("call %s kept in the spool at %s", report.call_sid[:64], final.name)
    return final


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backlog(data_dir: Path) -> dict:
    """What this host's spool holds, for ``/health``: files ``waiting`` to be replayed, the
    oldest one's age, and files ``set_aside`` (``.bad``: a voicemail an operator must look at)."""
    waiting, oldest, set_aside = 0, None, 0
    try:
        entries = list(os.scandir(spool_dir(data_dir)))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        if entry.name.endswith(".bad"):
            set_aside += 1
        elif entry.name.endswith(".json"):
            try:
                written = entry.stat().st_mtime
            except FileNotFoundError:  # replayed meanwhile
                continue
            waiting += 1
            oldest = written if oldest is None else min(oldest, written)
    age = max(0.0, time.time() - oldest) if oldest is not None else 0.0
    return {"waiting": waiting, "oldest_seconds": round(age, 1), "set_aside": set_aside}


def needs_attention(report: dict) -> bool:
    return report["set_aside"] > 0 or report["oldest_seconds"] > STALE_SECONDS


def replay(runtime: Runtime, give_way=None) -> int:
    """Turn spooled payloads into tickets, oldest first; sets aside (``.bad``) a file that
    fails for itself, and pauses, every file kept, at an outage or an error it does not know.
    ``give_way``, if given, is called before each file (the worker pauses there for its jobs).

    One process at a time per data folder (the workers of a host share it): another one
    finds the lock taken and leaves the round to the holder. The lock ends with its holder,
    even one killed mid-round; a file recorded twice that way makes no second ticket.
    """
    folder = spool_dir(runtime.settings.data_dir)
    if not folder.is_dir():
        return 0
    with open(runtime.settings.data_dir / "spool.lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0
        return _replay_folder(runtime, folder, give_way)


def _replay_folder(runtime: Runtime, folder: Path, give_way) -> int:
    done = 0
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
        if give_way is not None:
            give_way()
        try:
            report = _read(path)
        except (ValueError, TypeError, OSError) as exc:
            log.error("unreadable spool file %s (%s); set aside as .bad", path.name, exc)
            _set_aside(path)
            continue
        try:
            record_call(runtime, report)
        except (OperationalError, InterfaceError, PoolTimeoutError) as exc:  # the database is away or locked
            log.warning("spool replay paused, database still unavailable: %s", type(exc).__name__)
            break
        except (IntegrityError, DataError) as exc:  # this payload, not the database: the others go on
            log.error("spool file %s refused by the database (%s); set aside as .bad", path.name, type(exc).__name__)
            _set_aside(path)
            continue
        except Exception:
            # Neither the payload's fault nor a known outage (a read-only standby, a bug): the
            # file stays for the next round rather than be set aside with every good one after
            # it, and /health turns degraded once it has waited a minute.
            log.exception("spool replay paused at %s", path.name)
            break
        path.unlink()
        done += 1
    return done


_INT_FIELDS = {"recording_seconds"}
_REQUIRED_FIELDS = {"call_sid", "box"}


def _read(path: Path) -> CallReport:
    """The report a spool file holds, its fields of the types ``keep`` wrote (TypeError if not)."""
    report = CallReport(**json.loads(path.read_text(encoding="utf-8")))
    for field in dataclasses.fields(report):
        value = getattr(report, field.name)
        if value is None and field.name not in _REQUIRED_FIELDS:
            continue
        expected = int if field.name in _INT_FIELDS else str
        if type(value) is not expected:
            raise TypeError(f"{field.name} is not {expected.__name__}")
    return report


def _set_aside(path: Path) -> None:
    try:
        path.rename(path.with_suffix(".bad"))
    except OSError as exc:  # it stays .json and is tried again next round
        log.error("could not set aside spool file %s: %s", path.name, exc)
