"""Tables of the IVR foundation: directory, tickets and their timelines, the job outbox."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime, utcnow


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    client: Mapped[Client] = relationship(lazy="joined")
    phones: Mapped[list["ContactPhone"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContactPhone.id")

    def as_dict(self) -> dict:
        return {"id": self.id, "client": self.client.name, "name": self.name,
                "phones": [p.e164 for p in self.phones], "email": self.email,
                "has_pin": self.pin_hash is not None}


class ContactPhone(Base):
    __tablename__ = "contact_phones"
    __table_args__ = (UniqueConstraint("contact_id", "e164"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(20), index=True)


class Ticket(Base):
    """A numbered ticket; its number is its id, so two web processes never share one."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # What made the ticket, unique so retried callbacks find it instead of opening another:
    # "call:<CallSid>" for a voicemail or missed call.
    source_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="new")
    priority: Mapped[str] = mapped_column(String(2))
    kind: Mapped[str] = mapped_column(String(30))
    box: Mapped[str | None] = mapped_column(String(20))
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    caller: Mapped[str] = mapped_column(String(20))
    caller_raw: Mapped[str | None] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(String(500))
    recording_seconds: Mapped[int | None] = mapped_column(Integer)
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_method: Mapped[str | None] = mapped_column(String(20))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[Client | None] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")
    # Loaded when read (the API, the CLI, a failed transcription's check), not with every ticket:
    # the paging path writes to the timeline of tickets whose history it never reads
    # (see dispatch.timeline.add_event).
    timeline: Mapped[list["TimelineEvent"]] = relationship(
        back_populates="ticket", order_by="TimelineEvent.id", cascade="all, delete-orphan")


class TimelineEvent(Base):
    __tablename__ = "timeline_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ticket: Mapped[Ticket] = relationship(back_populates="timeline")


class OutboxJob(Base):
    """A job to hand to RQ, written in the same transaction as the ticket it is about.

    If Redis is down when the ticket is committed the row stays pending, and the web
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


class ConsoleMessage(Base):
    """What would have been sent through Twilio, had credentials been set."""

    __tablename__ = "console_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    to: Mapped[str] = mapped_column(String(20))
    from_: Mapped[str] = mapped_column("from_number", String(20))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
