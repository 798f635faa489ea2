"""The vendor-neutral face of outbound messages and calls.

Paging and verification talk to a carrier through these calls and these results; the
carrier's own words (Twilio's statuses, its answering-machine verdicts, its error
codes) are turned into a :class:`DeliveryState` by its adapter (``notification.twilio``)
before any policy sees them.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class RecordingMedia:
    """A recording's audio as the carrier streams it: the whole file (200) or the byte range asked for (206).
    ``close`` must be called once the chunks are read (or abandoned)."""

    status: int
    content_type: str
    length: int | None
    content_range: str | None
    chunks: Iterable[bytes]
    close: Callable[[], None]


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


class Carrier(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent: ...

    def place_call(self, to: str, url: str, status_callback: str | None, *,
                   machine_detection: bool = False, timeout: int = 30) -> Sent: ...

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        """(sid, body) of the latest messages sent to ``to``: how a retry finds out whether a request
        that got no answer created a message after all."""
        ...

    def recording_media(self, recording_sid: str, byte_range: str | None = None) -> RecordingMedia | None:
        """The audio of a recording the carrier made, fetched with the account's credentials; None when
        the carrier has no such recording (or, without credentials, cannot fetch any). Raises
        DeliveryError when the carrier cannot be reached or refuses."""
        ...
