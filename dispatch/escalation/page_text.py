"""The words of pages and notices to technicians, fitted to one SMS segment.

The wording is in ``voice_prompts``; here a page's variable parts (client and contact,
the caller's language, callback, recording, the transcript's first words) are fitted
around it: the transcript gets whatever room the fixed parts leave
(``notification.gsm7``). Every text returned is GSM-7 (accents dropped).
"""
from __future__ import annotations

import voice_prompts
from core import phones
from dispatch.notification.gsm7 import SEGMENT_UNITS, first_words, gsm7, units
from dispatch.tickets.numbers import format_number
from voice_prompts import speech

MAX_CLIENT_CHARS = 40
MAX_CONTACT_CHARS = 30
MIN_WORDS_ROOM = 10  # fewer units than this for the transcript: leave it out


def _say(key: str, **values) -> str:
    return gsm7(voice_prompts.say(key, **values))


def who(ticket, spoken: bool = False) -> str:
    """Who called about ``ticket``: 'Acme Corp (Jane Doe)', 'Acme Corp', 'unknown caller', with
    '(Spanish speaker)' for a caller in another language; ``spoken``: as the voice page says it
    ('Acme Corp, Jane Doe, a Spanish speaker')."""
    return caller_words(ticket.client.name if ticket.client else None,
                        ticket.contact.name if ticket.contact else None,
                        getattr(ticket, "language", None), spoken=spoken)


def caller_words(client: str | None, contact: str | None, language: str | None, spoken: bool = False,
                 unknown: str | None = None) -> str:
    """A caller named for staff, in the company's language: by client and contact when the directory
    knows them, else ``unknown`` (by default "unknown caller"); with the caller's language when it is
    not the company's."""
    prefix = "voice_page" if spoken else "sms_page"
    client = client[:MAX_CLIENT_CHARS] if client else None
    contact = contact[:MAX_CONTACT_CHARS] if contact else None
    if client and contact:
        text = voice_prompts.say(f"{prefix}_client_contact", client=client, contact=contact)
    elif client:
        text = client
    else:
        text = unknown or voice_prompts.say(f"{prefix}_unknown_caller")
    language = voice_prompts.language_or_default(language)
    if language != voice_prompts.COMPANY_LANGUAGE:
        text = voice_prompts.say(f"{prefix}_speaker", who=text,
                                 language_name=voice_prompts.say(f"language_name_{language}"))
    return text if spoken else gsm7(text)


def _callback(ticket) -> str:
    if ticket.caller == phones.ANONYMOUS:
        return _say("sms_page_withheld")
    return _say("sms_page_callback", number=ticket.caller)


def _recording(ticket) -> str:
    seconds = ticket.recording_seconds or 0
    if seconds < 120:
        return _say("sms_page_seconds", seconds=seconds)
    return _say("sms_page_minutes", minutes=round(seconds / 60))


def page_body(ticket, prefix: str, nth: int = 1) -> str:
    """The page for ``ticket``, the ``nth`` to this person: who, what they said (or how long a message
    they left), the callback, the ticket number and the ACK reply."""
    values = {"number": format_number(prefix, ticket.id), "who": who(ticket), "callback": _callback(ticket),
              "digits": ticket.id, "nth": voice_prompts.say("sms_page_nth", nth=speech.ordinal(nth)) if nth > 1 else ""}
    if not ticket.recording_sid:
        return _say("sms_page", what=_say("sms_page_no_recording"), **values)
    recording = _recording(ticket)
    fallback = _say("sms_page", what=_say("sms_page_recording_only", recording=recording), **values)
    transcript = gsm7(ticket.transcript or "")
    if not transcript:
        return fallback
    bare = _say("sms_page", what=_say("sms_page_quote", words="", recording=recording), **values)
    room = SEGMENT_UNITS - units(bare)
    words = first_words(transcript, room) if room >= MIN_WORDS_ROOM else ""
    if not words:
        return fallback
    return _say("sms_page", what=_say("sms_page_quote", words=words, recording=recording), **values)


def transcript_body(ticket, prefix: str, taken: bool) -> str:
    """The second SMS, when the transcript came after the page: its first words (and the ACK reply,
    unless someone has taken the ticket)."""
    key = "sms_transcript_taken" if taken else "sms_transcript"
    values = {"number": format_number(prefix, ticket.id), "who": who(ticket), "digits": ticket.id}
    room = SEGMENT_UNITS - units(_say(key, words="", **values))
    return _say(key, words=first_words(gsm7(ticket.transcript or ""), max(room, MIN_WORDS_ROOM)), **values)


def final_body(ticket, prefix: str) -> str:
    return _say("sms_final_notice", number=format_number(prefix, ticket.id), who=who(ticket),
                callback=_callback(ticket), digits=ticket.id)


def notice_body(status: str, ticket, prefix: str, name: str) -> str:
    """'CS-000123 was taken by Alice Adams.' (or resolved by), for the others who were paged."""
    key = "sms_ack_notice" if status == "acknowledged" else "sms_resolved_notice"
    return _say(key, number=format_number(prefix, ticket.id), name=name)


def callback_phrase(ticket) -> str:
    """'Call +12705550199' or 'Number withheld', for replies."""
    return _callback(ticket)
