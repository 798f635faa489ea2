"""Tables of caller verification: per-contact PIN lock, calls in the flow, proofs of
identity, dual callbacks, one-time secrets and security notices.

Nothing here holds a PIN or a secret in clear: PINs live only as argon2id hashes on
``Contact.pin_hash``, secrets only as AES-GCM ciphertext, callback tokens only as
SHA-256 digests.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from dispatch.directory.models import Contact
from dispatch.tickets.models import Ticket


class PinLock(Base):
    """Per contact: wrong PINs in a row across calls and the lock they lead to.

    Its row is also what concurrent requests lock (``SELECT … FOR UPDATE``) before
    counting failures or callbacks, so two calls at once cannot both slip under a limit.
    """

    __tablename__ = "contact_guards"
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Locks since the last right PIN or reset: each lasts longer, and the last one until a manager resets it.
    locks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class VerificationCall(Base):
    """One inbound call in the verification flow, kept server-side and keyed on its CallSid."""

    __tablename__ = "verification_calls"
    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # The contact the caller claims to be and the number on file that says so; the
    # caller is never told whether these were found.
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    number: Mapped[str | None] = mapped_column(String(20))
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    ticket: Mapped[Ticket] = relationship(lazy="joined")
    contact: Mapped[Contact | None] = relationship(lazy="joined")


class Verification(Base):
    """A contact proved who they are, by PIN or by dual callback; good until ``expires_at``."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    method: Mapped[str] = mapped_column(String(20))
    call_sid: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Callback(Base):
    """A dual callback: we hang up and call the contact back at a number on file.

    The call's URL carries a one-time token; only its SHA-256 digest is stored, and
    once the call is placed the token is good only for that call's CallSid.
    """

    __tablename__ = "verification_callbacks"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    to_number: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(300))  # the public URL Twilio reached us at
    # requested → placing → placed → answered → confirmed → verified; or failed, unanswered, machine
    status: Mapped[str] = mapped_column(String(20), default="requested")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    # SHA-256 of the one-time value on the <Gather> action that releases something next (the secret
    # again, the hand-over to a person): a replayed request, however well signed, finds it spent.
    nonce_hash: Mapped[str | None] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    placed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticket: Mapped[Ticket] = relationship(lazy="joined")
    contact: Mapped[Contact] = relationship(lazy="joined")


class PinFailure(Base):
    """A wrong PIN, from which calling number and for which contact: the hourly limits per calling
    number and across the whole directory (one common PIN sprayed at every contact) count these."""

    __tablename__ = "pin_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    caller: Mapped[str] = mapped_column(String(20), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))


class OneTimeSecret(Base):
    """A one-time secret for a contact, encrypted; the ciphertext is erased once it is spoken."""

    __tablename__ = "disclosures"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(String(80))
    ciphertext: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_to: Mapped[str | None] = mapped_column(String(20))
    delivered_call_sid: Mapped[str | None] = mapped_column(String(64))
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    destroyed_reason: Mapped[str | None] = mapped_column(String(40))
    ticket: Mapped[Ticket | None] = relationship(lazy="joined")


class SecurityNotice(Base):
    """A page to the on-call technician that a contact's PIN entry was locked."""

    __tablename__ = "security_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    locked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    lock_number: Mapped[int | None] = mapped_column(Integer)  # the contact's first, second, third lock
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_to: Mapped[str | None] = mapped_column(String(40))
    sid: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[Contact] = relationship(lazy="joined")
    ticket: Mapped[Ticket] = relationship(lazy="joined")
