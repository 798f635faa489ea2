"""Tables of the directory: the MSP's clients and their contacts, with the phones on file."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base

AFTER_HOURS = ("next_day", "page")  # a client's after-hours voicemail: waits for the morning, or pages
LANGUAGES = ("en", "es")


class Client(Base):
    """A client of the MSP, with its contract: ``after_hours`` (``page``: its after-hours voicemail
    is a P2 that pages the on-call), ``require_pin`` and ``language``."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    after_hours: Mapped[str] = mapped_column(String(10), default="next_day", server_default="next_day")
    require_pin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The contract's language: its contacts hear the phone line in it from the greeting on.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("client_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    # Digits of the PIN, once known (set with it, or learnt when it is first keyed right): PINs set
    # under the older 4-digit rule keep working, and are flagged until renewed.
    pin_digits: Mapped[int | None] = mapped_column(Integer)
    client: Mapped[Client] = relationship(lazy="joined")
    phones: Mapped[list[ContactPhone]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ContactPhone.id")


class ContactPhone(Base):
    __tablename__ = "contact_phones"
    __table_args__ = (UniqueConstraint("contact_id", "e164"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    e164: Mapped[str] = mapped_column(String(20), index=True)
