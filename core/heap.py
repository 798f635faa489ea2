"""Garbage-collector pauses kept short in the long-running processes (web workers, RQ workers).

CPython's full collection walks every container object the process holds, and a
process that has imported Flask, SQLAlchemy, twilio and phonenumbers holds over 100,000
of them: in a load run, each web and worker process ran one full collection of 42-57 ms,
all four within a second of each other, each stopping its interpreter (every thread of
the process, including one that may hold SQLite's one write lock that all the others
then wait for). Those objects live as long as the process: frozen after start-up
(``gc.freeze``), a collection skips them, and a full one takes 2-3 ms.
"""
from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Collect once, then set every object alive now aside from future collections. Call it
    when start-up is done, before serving."""
    gc.collect()
    gc.freeze()
