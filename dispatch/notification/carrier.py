"""The vendor-neutral face of outbound messages and calls.

Paging and verification talk to a carrier through these calls and these results; the
carrier's own words (Twilio's statuses, its answering-machine verdicts, its error
codes) are turned into a :class:`DeliveryState` by its adapter (``notification.twilio``)
before any policy sees them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

# How long a request to the carrier may take before it counts as unanswered.
REQUEST_TIMEOUT_SECONDS = 10


class DeliveryState(str, Enum):
    """How far a message or call got, in the order it happens; a later report never moves it back."""

    SENDING = "sending"                       # accepted by the carrier, on its way
    SENT = "sent"                             # handed to the network; a call is ringing
    ANSWERED = "answered"                     # a call was picked up
    DELIVERED = "delivered"                   # the handset has the message; a call ended after it was answered
    FAILED_TEMPORARILY = "failed_temporarily"  # not reached this time: busy, no answer, unreachable for now
    FAILED = "failed"                         # not reached, and trying again changes nothing

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def final(self) -> bool:
        return self.rank == FINAL_RANK

    @property
    def reached_nobody(self) -> bool:
        return self in (DeliveryState.FAILED, DeliveryState.FAILED_TEMPORARILY)


_RANK = {DeliveryState.SENDING: 1, DeliveryState.SENT: 2, DeliveryState.ANSWERED: 3, DeliveryState.DELIVERED: 4,
         DeliveryState.FAILED_TEMPORARILY: 4, DeliveryState.FAILED: 4}
FINAL_RANK = 4


@dataclass(frozen=True)
class DeliveryReport:
    """What the carrier says of a message or call it was given.

    ``detail`` is the carrier's own word for it, kept for people (the ticket's timeline);
    ``machine``: a call was answered by an answering machine or a fax, not a person."""

    state: DeliveryState
    detail: str
    error_code: str | None = None
    machine: bool = False
    answered_by: str | None = None


@dataclass(frozen=True)
class Sent:
    sid: str
    state: DeliveryState


class DeliveryError(Exception):
    """The carrier refused or could not be reached.

    ``permanent`` errors (an invalid number, a recipient who replied STOP) must not be
    retried; the others (rate limits, 5xx, time-outs, dropped connections) may be.
    ``status`` is the HTTP status of the refusal, None when no answer came at all (the
    request may have been carried out).
    """

    def __init__(self, detail: str, *, permanent: bool, code: int | None = None, status: int | None = None):
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Media:
    """Audio the carrier holds (a recording), as it streams: ``status`` 200, or 206 for a byte range;
    ``headers`` those worth passing on (length, range); ``close`` ends the stream early."""

    status: int
    content_type: str
    chunks: Iterator[bytes]
    headers: dict[str, str] = field(default_factory=dict)
    close: Callable[[], None] = lambda: None


class Carrier(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent: ...

    def place_call(self, to: str, url: str, status_callback: str | None, *,
                   machine_detection: bool = False, timeout: int = 30) -> Sent: ...

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        """(sid, body) of the latest messages sent to ``to``: how a retry finds out whether a request
        that got no answer created a message after all."""
        ...

    def fetch_recording(self, url: str, byte_range: str | None = None) -> Media | None:
        """The audio of the recording at ``url`` (as the carrier reported it), or the HTTP Range
        ``byte_range`` of it; None when the carrier has no such recording. Raises ``DeliveryError``
        when it cannot be reached."""
        ...
