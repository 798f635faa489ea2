"""Tables of the hand-off: events, their deliveries and every attempt, and webhooks turned off."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow

# A delivery's states: pending (waiting for its time, or for an earlier change to the same
# destination), sending (a worker has it), then delivered, failed (a day of retries),
# disabled (the webhook answered 410, now or before) or dropped (the destination left the configuration).


class HandoffEvent(Base):
    """One ticket change as the MSP's tools hear of it: ``ticket.created`` or ``ticket.updated``."""

    __tablename__ = "handoff_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)  # the "id" every destination gets
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(20))
    change: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HandoffDelivery(Base):
    """An event on its way to one destination: the e-mail, or one webhook (by its URL's hash)."""

    __tablename__ = "handoff_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "destination"),
                      Index("ix_handoff_deliveries_queue", "ticket_id", "destination", "state"),
                      Index("ix_handoff_deliveries_due", "state", "next_attempt_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("handoff_events.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    destination: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # email, json, slack, teams
    label: Mapped[str] = mapped_column(String(300))  # who it goes to, for people: addresses or a host
    state: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sender: Mapped[str | None] = mapped_column(String(120))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    via: Mapped[str | None] = mapped_column(String(10))  # smtp, console, http
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    # What is sent, made at the first attempt and sent unchanged at every retry.
    subject: Mapped[str | None] = mapped_column(String(400))
    message_id: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[str | None] = mapped_column(Text)


class HandoffAttempt(Base):
    __tablename__ = "handoff_attempts"
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("handoff_deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(12))  # delivered, failed, gone (410)
    status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status, or the SMTP reply code
    error: Mapped[str | None] = mapped_column(String(300))


class DisabledWebhook(Base):
    """A webhook that answered 410 Gone: nothing more is sent to it until an operator enables it again."""

    __tablename__ = "handoff_disabled_webhooks"
    destination: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    disabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(300))
