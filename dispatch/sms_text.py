"""SMS bodies that fit one GSM-7 segment: transliterated, then trimmed at a word.

One character outside GSM-7 (an emoji, a curly quote, an accented letter GSM-7 lacks)
switches the whole message to UCS-2 and its limit from 160 to 70 characters, so a
transcript's "café – it’s down" would triple the cost and split the page. Everything
variable in a page goes through :func:`gsm7` (Unidecode, then '?' for what is left);
the transcript then gets whatever room the fixed parts leave.
"""
from __future__ import annotations

import re

from unidecode import unidecode

import voice_prompts
from core import phones
from dispatch.ticket_numbers import format_number

SEGMENT_UNITS = 160
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = frozenset("^{}\\[~]|€")  # each takes two units (an escape, then the character)
MAX_CLIENT_CHARS = 40


def gsm7(text: str) -> str:
    """``text`` in GSM-7 characters only, on one line."""
    out = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENDED:
            out.append(ch)
        else:
            out.append("".join(c if c in GSM7_BASIC or c in GSM7_EXTENDED else "?" for c in unidecode(ch)))
    return re.sub(r"\s+", " ", "".join(out)).strip()


def units(text: str) -> int:
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def first_words(text: str, room: int) -> str:
    """As many whole words of ``text`` as fit in ``room`` units, with '...' when cut."""
    if units(text) <= room:
        return text
    words, kept = text.split(" "), ""
    for word in words:
        candidate = f"{kept} {word}" if kept else word
        if units(candidate) + 3 > room:
            break
        kept = candidate
    return kept + "..." if kept else ""


def _say(key: str, **values) -> str:
    return voice_prompts.say(key, **values)


def _who(ticket) -> str:
    if ticket.client is None:
        return _say("sms_page_unknown_caller")
    return gsm7(ticket.client.name)[:MAX_CLIENT_CHARS]


def _callback(ticket) -> str:
    if ticket.caller == phones.ANONYMOUS:
        return _say("sms_page_withheld")
    return _say("sms_page_callback", number=ticket.caller)


def _recording(ticket) -> str:
    if not ticket.recording_sid:
        return _say("sms_page_no_recording")
    seconds = ticket.recording_seconds or 0
    return _say("sms_page_recording", minutes=seconds // 60, seconds=seconds % 60)


def page_body(ticket, prefix: str, repeat: bool = False) -> str:
    """The page for ``ticket``: number, client, callback, recording length, first words, the ACK reply."""
    values = {"number": format_number(prefix, ticket.id), "who": _who(ticket), "callback": _callback(ticket),
              "recording": _recording(ticket), "digits": ticket.id}
    key = "sms_page_repeat" if repeat else "sms_page"
    bare = _say(key, quote="", **values)
    transcript = gsm7(ticket.transcript or "")
    room = SEGMENT_UNITS - units(bare) - units(_say("sms_page_quote", words=""))
    words = first_words(transcript, room) if transcript and room > 10 else ""
    return _say(key, quote=_say("sms_page_quote", words=words) if words else "", **values)


def final_body(ticket, prefix: str) -> str:
    return _say("sms_final_notice", number=format_number(prefix, ticket.id), who=_who(ticket),
                callback=_callback(ticket), digits=ticket.id)


def notice_body(status: str, ticket, prefix: str, name: str) -> str:
    """'CS-000123 was taken by Alice Adams.' (or resolved by), for the others who were paged."""
    key = "sms_ack_notice" if status == "acknowledged" else "sms_resolved_notice"
    return _say(key, number=format_number(prefix, ticket.id), name=gsm7(name))


def callback_phrase(ticket) -> str:
    """'call +12705550199' or 'number withheld', for replies."""
    return _callback(ticket).capitalize()
