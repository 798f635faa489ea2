"""The vendor-neutral face of outbound messages and calls.

Paging and verification code talks to a carrier through these two calls and these
two results; only ``dispatch.twilio_adapter`` knows the vendor behind them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Sent:
    sid: str
    status: str


class DeliveryError(Exception):
    """The carrier refused or could not be reached.

    ``permanent`` errors (an invalid number, a recipient who replied STOP) must not be
    retried; the others (rate limits, 5xx, time-outs, dropped connections) may be.
    """

    def __init__(self, detail: str, *, permanent: bool, code: int | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.code = code
        self.status = status


class Carrier(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent: ...

    def place_call(self, to: str, url: str, status_callback: str | None, *,
                   machine_detection: bool = False, timeout: int = 30) -> Sent: ...

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        """(sid, body) of the latest messages sent to ``to``: how a retry finds out whether a request
        that got no answer created a message after all."""
        ...
