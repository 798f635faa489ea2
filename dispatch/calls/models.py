"""Tables of calls into tickets: an emergency call that joined a ticket already open for its caller."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class JoinedCall(Base):
    """A call to the emergency box from a number that had opened its hourly share of P1s already:
    it opens no ticket (nor a page) and goes on the timeline of its caller's open P1 instead. Keyed
    on the CallSid, so every later callback of that call (recording, transcription) finds it."""

    __tablename__ = "joined_calls"
    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    caller: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
