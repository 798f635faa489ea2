"""Small helpers over twilio's TwiML builders so every route speaks with the catalogue's voice."""
from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import VoiceResponse

import voice_prompts


def speak(node, key: str, **values) -> None:
    """Add a ``<Say>`` of prompt ``key`` to a response or a ``<Gather>``."""
    node.say(voice_prompts.say(key, **values), voice=voice_prompts.VOICE, language=voice_prompts.LANGUAGE)


def twiml(response) -> Response:
    return Response(str(response), mimetype="text/xml")


def empty() -> Response:
    return twiml(VoiceResponse())
