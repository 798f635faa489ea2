"""The job outbox's table."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class OutboxJob(Base):
    """A job to hand to RQ, written in the same transaction as the change that calls for it.

    If Redis is down when the change is committed the row stays pending, and the web
    app or the worker enqueues it once Redis is back: a page is never lost with Redis.
    """

    __tablename__ = "outbox_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    job_key: Mapped[str] = mapped_column(String(120), unique=True)  # also the RQ job id
    function: Mapped[str] = mapped_column(String(120))
    args: Mapped[list] = mapped_column(JSON, default=list)
    queue: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
