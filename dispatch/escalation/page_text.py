"""The words of pages and notices to technicians, fitted to one SMS segment.

The wording is in ``voice_prompts``; here a page's variable parts (client, caller,
recording, the transcript's first words) are fitted around it: the transcript gets
whatever room the fixed parts leave (``notification.gsm7``).
"""
from __future__ import annotations

import voice_prompts
from core import phones
from dispatch.notification.gsm7 import SEGMENT_UNITS, first_words, gsm7, units
from dispatch.tickets.numbers import format_number

MAX_CLIENT_CHARS = 40


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
