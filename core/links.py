"""The web addresses the domain hands to the carrier, as an interface.

A page's SMS carries the URL of its status callback, a voice page the URL of its TwiML,
a dual callback the URL of its own. The domain asks for them by what they are for;
``ivr.links`` knows the paths, and the composition root hands it in.
"""
from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    def sms_status(self, page_id: int) -> str | None:
        """Status callback of a page's SMS; None when there is no public address to give."""

    def voice_page(self, page_id: int) -> str | None:
        """TwiML of a voice page; None when there is no public address (it cannot be placed)."""

    def voice_page_status(self, page_id: int) -> str | None: ...

    def bridge(self, page_id: int) -> str | None:
        """TwiML of a CALL: the technician's leg, bridged to the caller."""

    def bridge_status(self, page_id: int) -> str | None: ...

    def callback_answer(self, base: str, token: str) -> str:
        """TwiML of a dual callback, at ``base`` (the address Twilio reached us at)."""

    def callback_status(self, base: str, token: str) -> str: ...

    def recording(self, number: str, expires: int, signature: str) -> str:
        """A ticket's recording, for people to play (a signed link); without a public address, its
        path only."""
