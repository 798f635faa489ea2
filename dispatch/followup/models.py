"""Tables of the follow-up: which caller numbers may be texted, and which mornings had their digest."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class CallerNumber(Base):
    """A caller's number that must not be texted: it replied STOP (until START), or texts to it
    cannot be delivered (a landline, a number the carrier refuses)."""

    __tablename__ = "caller_numbers"
    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unreachable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(200))


class MorningDigest(Base):
    """A business day whose morning digest went out (or had nothing to say): once a day, whichever
    worker gets there first."""

    __tablename__ = "morning_digests"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    waiting: Mapped[int] = mapped_column(default=0)
