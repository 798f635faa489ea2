"""The table of notifications: every message or call to one person about one ticket.

A ``Page`` row is claimed (inserted under a unique key) *before* anything is sent, so
a job run twice, two workers or a duplicated RQ job can never send a second message
for the same step and person: only the process that inserted the row, and then won
the ``claimed -> sending`` update, talks to the carrier.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class Page(Base):
    """One message or call to one person about one ticket.

    ``kind``: ``page`` (an escalation step), ``ack_notice`` (someone else took it),
    ``final`` (nobody acknowledged), ``bridge`` (a CALL reply: ring the technician,
    then the caller), ``transcript`` (the caller's first words, when they came after the page),
    ``security_notice``. ``state`` is ours (claimed, sending, sent, failed); ``delivery``
    is the carrier's latest status, never moved backwards (see ``delivery_rank``).
    """

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("ticket_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int | None] = mapped_column(Integer)
    staff_id: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    to: Mapped[str] = mapped_column("to_number", String(20))
    body: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="claimed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    delivery: Mapped[str | None] = mapped_column(String(20))
    delivery_rank: Mapped[int] = mapped_column(Integer, default=0)
    answered_by: Mapped[str | None] = mapped_column(String(30))
    error: Mapped[str | None] = mapped_column(String(300))
    # When an attempt got no answer from the carrier (a time-out, a dropped connection): the message
    # may exist even if the page is later skipped or waits for its retry.
    unanswered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who moved it to ``sending`` and when: a dead sender's page is taken over (dispatch.recovery).
    sender: Mapped[str | None] = mapped_column(String(120))
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
