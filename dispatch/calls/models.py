"""Tables of calls: the call log (every inbound call, whatever became of it), and an emergency call
that joined a ticket already open for its caller."""
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


class JoinedCall(Base):
    """A call to the emergency box from a number that had opened its hourly share of P1s already:
    it opens no ticket (nor a page) and goes on the timeline of its caller's open P1 instead. Keyed
    on the CallSid, so every later callback of that call (recording, transcription) finds it."""

    __tablename__ = "joined_calls"
    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    caller: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
