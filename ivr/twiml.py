"""Small helpers over twilio's TwiML builders so every route speaks with the catalogue's voice."""
from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import VoiceResponse

import voice_prompts

# Twilio's CallStatus values of a call that is over.
CALL_ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


def speak(node, key: str, **values) -> None:
    """Add a ``<Say>`` of prompt ``key`` to a response or a ``<Gather>``."""
    node.say(voice_prompts.say(key, **values), voice=voice_prompts.VOICE, language=voice_prompts.LANGUAGE)


def hang_up(key: str | None = None, response: VoiceResponse | None = None, **values) -> Response:
    """Prompt ``key`` (if given) and ``<Hangup>``, after what ``response`` holds already, as TwiML."""
    response = response if response is not None else VoiceResponse()
    if key is not None:
        speak(response, key, **values)
    response.hangup()
    return twiml(response)


def twiml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


def empty() -> Response:
    return twiml(VoiceResponse())


def answer_errors_with(bp, answer, consequence: str) -> None:
    """Register on ``bp`` the handler of unexpected errors: HTTP errors (a 403) pass as they
    are; anything else is logged and answered with ``answer()``, TwiML the person on the line
    can follow, never Twilio's "an application error has occurred"."""
    import logging

    from flask import request
    from werkzeug.exceptions import HTTPException

    log = logging.getLogger(bp.import_name)

    def unexpected_error(exc):
        if isinstance(exc, HTTPException):
            return exc
        log.exception("error in %s; %s", request.path, consequence)
        return answer()

    bp.register_error_handler(Exception, unexpected_error)
