"""Small helpers over twilio's TwiML builders so every route speaks with the catalogue's voice."""
from __future__ import annotations

import re

from flask import Response, request, url_for
from twilio.twiml.voice_response import VoiceResponse

import voice_prompts
from ivr.context import runtime

# Twilio's CallStatus values of a call that is over.
CALL_ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


# Characters XML 1.0 cannot carry at all, escaped or not; ElementTree writes them as they are.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def call_sid() -> str:
    """The CallSid of the call this webhook is about."""
    return (request.form.get("CallSid") or "unknown")[:64]


def call_language() -> str:
    """The caller's language, which travels in the signed URLs of the call (``?lang=``)."""
    return voice_prompts.language_or_default(request.args.get("lang"))


def call_url(endpoint: str, language: str | None = None, **values) -> str:
    """``url_for`` that keeps the call's language (English, the default, is left out)."""
    language = language or call_language()
    return url_for(endpoint, **values, lang=language if language != voice_prompts.COMPANY_LANGUAGE else None)


def speak_in_call(node, key: str, language: str | None = None, **values) -> None:
    """:func:`speak` in the call's language."""
    speak(node, key, language or call_language(), **values)


def speak(node, key: str, language: str = voice_prompts.COMPANY_LANGUAGE, **values) -> None:
    """Add a ``<Say>`` of prompt ``key`` in ``language``, with that language's voice, to a response
    or a ``<Gather>``.

    Values can come from callers (a transcript read on a voice page): characters that XML
    cannot carry are dropped, or the whole document would be unreadable to Twilio."""
    say_text(node, voice_prompts.say(key, language, **values), language)


def say_text(node, text: str, language: str = voice_prompts.COMPANY_LANGUAGE) -> None:
    """A ``<Say>`` of ``text``, already worded (by ``voice_prompts``), with ``language``'s configured voice."""
    voice, locale = runtime().config.voices[voice_prompts.language_or_default(language)]
    node.say(NOT_XML.sub("", text), voice=voice, language=locale)


def hang_up(key: str | None = None, response: VoiceResponse | None = None,
            language: str = voice_prompts.COMPANY_LANGUAGE, **values) -> Response:
    """Prompt ``key`` (if given) and ``<Hangup>``, after what ``response`` holds already, as TwiML."""
    response = response if response is not None else VoiceResponse()
    if key is not None:
        speak(response, key, language, **values)
    response.hangup()
    return twiml(response)


def twiml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


def empty() -> Response:
    return twiml(VoiceResponse())


def retried_by_twilio(view):
    """Mark a callback nobody is listening to (a call's status, a recording's, a transcription):
    on an unexpected error it is answered 503, not TwiML that would tell Twilio all went well.
    Twilio then retries it as far as its connection overrides allow (by default once, within
    15 s) and shows the failure in its debugger: a short outage loses nothing."""
    view.retried_by_twilio = True
    return view


def answer_errors_with(bp, answer, consequence: str) -> None:
    """Register on ``bp`` the handler of unexpected errors: HTTP errors (a 403) pass as they
    are; a callback marked ``retried_by_twilio`` gets a 503; anything else is logged and
    answered with ``answer()``, TwiML the person on the line can follow, never Twilio's "an
    application error has occurred"."""
    import logging

    from flask import current_app, request
    from werkzeug.exceptions import HTTPException

    log = logging.getLogger(bp.import_name)

    def unexpected_error(exc):
        if isinstance(exc, HTTPException):
            return exc
        if getattr(current_app.view_functions.get(request.endpoint), "retried_by_twilio", False):
            log.exception("error in %s; answered 503, for Twilio to retry", request.path)
            return Response("temporarily unavailable", status=503)
        log.exception("error in %s; %s", request.path, consequence)
        return answer()

    bp.register_error_handler(Exception, unexpected_error)
