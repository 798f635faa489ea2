"""The carrier used when no Twilio credentials are set: what would have been sent is logged
and stored in the ``console_outbox`` table, never silently dropped."""
from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from dispatch.notification.carrier import DeliveryState, Media, Sent

log = logging.getLogger(__name__)


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


class ConsoleOutbox:
    """Stands in for Twilio when no credentials are set: logs and stores what would have gone out."""

    def __init__(self, store, from_number: str):
        self.store = store
        self.from_number = from_number

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        return self._keep("sms", to, body)

    def place_call(self, to: str, url: str, status_callback: str | None, *,
                   machine_detection: bool = False, timeout: int = 30) -> Sent:
        return self._keep("call", to, url)

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        with self.store.transaction() as session:
            rows = session.execute(select(ConsoleMessage.sid, ConsoleMessage.content).where(
                ConsoleMessage.kind == "sms", ConsoleMessage.to == to).order_by(ConsoleMessage.id.desc()).limit(20))
            return [(sid, content) for sid, content in rows]

    def fetch_recording(self, url: str, byte_range: str | None = None) -> Media | None:
        return None  # without credentials there is no carrier account to fetch a recording from

    def _keep(self, kind: str, to: str, content: str) -> Sent:
        sid = ("SM" if kind == "sms" else "CA") + uuid.uuid4().hex
        with self.store.transaction() as session:
            session.add(ConsoleMessage(sid=sid, kind=kind, to=to, from_=self.from_number, content=content))
        log.warning("console outbox (no Twilio credentials): %s to %s: %s", kind, to, content)
        return Sent(sid, DeliveryState.SENDING)
