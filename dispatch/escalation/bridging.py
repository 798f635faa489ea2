"""Whom a CALL may ring: the rule checked when a technician asks and again when the bridge dials.

A CALL bridges a technician to a ticket's caller from the support number, at our expense
and under our name. Caller ID is whatever the caller chose to show, so the number is
dialled only when:

- the ticket is a call that asked for help (an emergency or support voicemail, or a
  missed call), never a verification: its caller asked to be verified, and only the
  dual callback, to a number on file, may call them;
- the number is shown (not withheld);
- it is an ordinary line (fixed, mobile, toll-free or VoIP): never premium-rate,
  shared-cost, personal, pager, satellite or of an unknown type, which a fraudster
  leaves as their caller ID to be paid per minute;
- it is in a country of ``[security] callable_countries`` (by default the support
  number's own).
"""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType

from core import phones
from core.config import Config

CALLABLE_KINDS = ("emergency_voicemail", "voicemail", "missed_call")
ORDINARY_LINES = {PhoneNumberType.FIXED_LINE: "fixed", PhoneNumberType.MOBILE: "mobile",
                  PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed", PhoneNumberType.TOLL_FREE: "toll-free",
                  PhoneNumberType.VOIP: "VoIP"}
TYPE_NAMES = {PhoneNumberType.PREMIUM_RATE: "premium-rate", PhoneNumberType.SHARED_COST: "shared-cost",
              PhoneNumberType.PERSONAL_NUMBER: "personal", PhoneNumberType.PAGER: "pager",
              PhoneNumberType.UAN: "universal access", PhoneNumberType.VOICEMAIL: "voicemail access"}


@dataclass(frozen=True)
class Refusal:
    """Why a CALL may not dial: ``reason`` is ``kind``, ``withheld``, ``type`` or ``country``."""

    reason: str
    detail: str = ""


def refusal(config: Config, ticket) -> Refusal | None:
    """Why ``ticket``'s caller may not be rung by a CALL, or None if they may."""
    if ticket.kind not in CALLABLE_KINDS:
        return Refusal("kind", ticket.kind)
    if ticket.caller == phones.ANONYMOUS:
        return Refusal("withheld")
    return number_refusal(config, ticket.caller)


def number_refusal(config: Config, e164: str) -> Refusal | None:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return Refusal("type", "unknown")
    region = phonenumbers.region_code_for_number(number)
    if region in (None, "ZZ", "001"):  # +881/+882/+883/+870: satellite and international networks
        return Refusal("type", "satellite or international network")
    kind = phonenumbers.number_type(number)
    if kind not in ORDINARY_LINES:
        return Refusal("type", TYPE_NAMES.get(kind, "unknown"))
    if region not in config.callable_countries:
        return Refusal("country", region)
    return None
