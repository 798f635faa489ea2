"""The table of staff accounts: one row per staff id that has a console password or a calendar link."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class StaffAccount(Base):
    """A staff member's console account; ``staff_id`` is the configuration's ``[[staff]] id``.

    ``password_version`` grows with each new password: a session remembers the version it
    signed in with, so setting a password ends every session opened with the old one.
    ``calendar_generation`` grows when the person asks for a new calendar link: the old one
    stops working (the link is derived from it, see ``dispatch.staff.accounts.calendar_token``).
    """

    __tablename__ = "staff_accounts"
    staff_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_version: Mapped[int] = mapped_column(Integer, default=0)
    password_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calendar_generation: Mapped[int] = mapped_column(Integer, default=0)
