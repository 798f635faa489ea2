"""Garbage-collector pauses kept short in the long-running processes (web workers, RQ workers).

CPython's full collection walks every container object the process holds, and a
process that has imported Flask, SQLAlchemy, twilio and phonenumbers holds over 100,000
of them: one full collection took about 60 ms, with the interpreter (every thread of
the process) stopped. Under load it struck the thread holding SQLite's one write lock as
well, and then every webhook and page of every process waited behind it, in bursts of
60-130 ms in the load benchmark. Those objects live as long as the process: frozen
after start-up (``gc.freeze``), a collection skips them, and a full one takes 2-3 ms.
"""
from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect once, then set every object alive now aside from future collections; returns
    how many were set aside. Call it when start-up is done, before serving."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
