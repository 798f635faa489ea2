"""Tables of escalation: where each ticket's policy stands, and the technicians' replies acted on."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class Escalation(Base):
    """Where a ticket's escalation policy stands.

    Positions number the steps of every round in order (round r, step s is
    ``r * len(steps) + s``); one past the last round is the "nobody answered" notice.
    ``next_position`` only ever moves forward, by a compare-and-set, which is what
    makes each position run once however many timers fire for it.
    """

    __tablename__ = "escalations"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_position: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # acknowledged | resolved | unacknowledged


class SmsReply(Base):
    """A technician's state-changing reply (ACK, RES, ESC, CALL), by the carrier's MessageSid.

    Twilio may deliver the same inbound message more than once; the row is inserted
    with the reply's timeline event, so only the first delivery acts. ``answer`` is
    what that delivery replied, given again to any repeat.
    """

    __tablename__ = "sms_replies"
    message_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[str] = mapped_column(String(40))
    command: Mapped[str] = mapped_column(String(10))
    answer: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
