"""Caller IDs as Twilio sends them, turned into E.164 or the word ``anonymous``.

Withheld numbers arrive as words (``Anonymous``, ``Restricted``), an empty string,
or keypad-spelled pseudo-numbers (+266696687 spells ANONYMOUS); none of them may
ever be called back or matched to a client.
"""
from __future__ import annotations

import phonenumbers

ANONYMOUS = "anonymous"

# Keypad spellings Twilio uses for withheld caller IDs.
WITHHELD_PSEUDO_NUMBERS = frozenset({
    "+266696687",     # ANONYMOUS
    "+7378742833",    # RESTRICTED
    "+2562533",       # BLOCKED
    "+8656696",       # UNKNOWN
    "+86282452253",   # UNAVAILABLE
})


def normalise(raw: str | None, region: str) -> str | None:
    """E.164 form of ``raw`` read in ``region``, or None if it is not a real, callable number."""
    text = (raw or "").strip()
    if not text or text in WITHHELD_PSEUDO_NUMBERS or len(text) > 40:
        return None
    if not any(ch.isdigit() for ch in text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def caller_id(raw: str | None, region: str) -> str:
    """What a ticket stores as its caller: E.164, or ``anonymous`` for anything withheld or unparsable."""
    return normalise(raw, region) or ANONYMOUS
