"""The support number as the carrier keeps it, in neutral terms: the webhooks it calls for what
(``PURPOSES``), and the account it belongs to. ``flask --app wsgi twilio configure`` sets them
and ``doctor`` checks them, through the adapter the composition root hands in
(``notification.twilio.numbers``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# What each of the number's webhooks is for: a call comes in; the first request failed; a call's
# status changed; a text comes in.
PURPOSES = ("voice", "voice_fallback", "voice_status", "sms")


class AccountError(Exception):
    """The carrier refused or could not be reached; ``detail`` says which, for a person."""

    def __init__(self, detail: str, refused: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.refused = refused  # the credentials themselves were refused


@dataclass(frozen=True)
class Account:
    name: str
    status: str  # active | suspended | closed
    trial: bool  # a trial account reaches only verified numbers, after a notice of its own


@dataclass(frozen=True)
class NumberWebhooks:
    """A number's webhooks: ``urls`` and ``methods`` by purpose (``PURPOSES``). ``overridden_by`` names
    what handles its calls instead of its own URLs (an application, a trunk), when something does."""

    sid: str
    phone_number: str
    urls: dict[str, str | None]
    methods: dict[str, str | None]
    overridden_by: str | None


class NumberAdmin(Protocol):
    def account(self) -> Account:
        """The account the credentials open; AccountError when they are refused."""

    def find(self, phone_number: str) -> NumberWebhooks | None:
        """The number's webhooks, or None when the account has no such number."""

    def point(self, phone_number: str, urls: dict[str, str]) -> tuple[NumberWebhooks, NumberWebhooks] | None:
        """Set the number's webhooks to ``urls`` (by purpose), each requested with POST; returns
        (before, after), or None when the account has no such number."""
