"""The call log's table: every inbound call, whatever became of it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from dispatch.directory.models import Client


class CallLog(Base):
    """One inbound call, written when Twilio reports it over (``dispatch.calls.log``).

    ``outcome``: ``desk`` (a person at the desk took it), ``oncall`` (the on-call technician
    took it live), ``voicemail``, ``missed`` (reached a box and left no message),
    ``verification``, ``status`` (heard a ticket's status), ``abandoned`` (none of these).
    """

    __tablename__ = "call_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    seconds: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(5), default="en")
    outcome: Mapped[str] = mapped_column(String(20))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    client: Mapped[Client | None] = relationship(lazy="joined")
