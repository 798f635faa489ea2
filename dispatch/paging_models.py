"""Tables of the on-call dispatcher: rotation overrides, each ticket's escalation, every page sent.

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


class OncallOverride(Base):
    """A temporary primary on-call: ``staff_id`` replaces the rotation from ``starts_at`` to ``ends_at``."""

    __tablename__ = "oncall_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[str] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class Page(Base):
    """One message or call to one person about one ticket.

    ``kind``: ``page`` (an escalation step), ``ack_notice`` (someone else took it),
    ``final`` (nobody acknowledged), ``bridge`` (a CALL reply: ring the technician,
    then the caller). ``state`` is ours (claimed, sending, sent, failed); ``delivery``
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
