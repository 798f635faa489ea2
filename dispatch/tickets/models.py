"""Tables of tickets: a numbered ticket per call that needs a human, and its timeline."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow
from dispatch.directory.models import Client, Contact

STATUSES = ("new", "acknowledged", "waiting", "resolved", "closed")
CLOSED_STATUSES = ("resolved", "closed")  # nobody works on it any more (a resolved one may be reopened)
OPEN_STATUSES = tuple(s for s in STATUSES if s not in CLOSED_STATUSES)
PRIORITIES = ("P1", "P2", "P3", "P4")


class Ticket(Base):
    """A numbered ticket; its number is its id, so two web processes never share one."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # What made the ticket, unique so retried callbacks find it instead of opening another:
    # "call:<CallSid>" for a voicemail or missed call.
    source_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    priority: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(30))
    box: Mapped[str | None] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(20), index=True)
    caller_raw: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_seconds: Mapped[int | None] = mapped_column(Integer)
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    verified_method: Mapped[str | None] = mapped_column(String(20))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the caller chose or their client's contract set: what they hear and read.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # Its lifecycle (dispatch.followup): who has it, when its targets fall due (dispatch.sla), when they
    # were met, and the caller's rating.
    owner: Mapped[str | None] = mapped_column(String(40))
    response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    # Times the resolution clock stood still: [[start, end or null], ...] (ISO 8601), see dispatch.sla.targets.
    pauses: Mapped[list | None] = mapped_column(JSON)
    sla_alerts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # dispatch.sla.targets.BITS
    sla_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the next warning or breach
    # The next follow-up step: a reminder or the no-contact resolution while waiting, the close once resolved.
    followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    client: Mapped[Client | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    # Loaded when read (the API, the CLI, a failed transcription's check), not with every ticket:
    # the paging path writes to the timeline of tickets whose history it never reads
    # (see dispatch.tickets.timeline.add_event).
    timeline: Mapped[list[TimelineEvent]] = relationship(
        back_populates="ticket", order_by="TimelineEvent.id", cascade="all, delete-orphan")


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ticket: Mapped[Ticket] = relationship(back_populates="timeline")
