"""Twilio request signatures: every webhook must prove it came from Twilio.

The signature covers the URL Twilio requested, so behind a proxy or tunnel the public
URL is rebuilt from ``PUBLIC_BASE_URL`` rather than taken from what the app sees.

Before anything is parsed, a body larger than Twilio ever sends (``MAX_BODY_BYTES``) or
with more fields (``MAX_FIELDS``) is refused (413), so a flood of huge forms costs
neither memory nor the signature's hashing; after the signature, a ``CallSid``,
``MessageSid`` or ``RecordingSid`` not of Twilio's shape (two letters and 32 hex digits)
is refused (400): no such value reaches a key, a file name or a log line.
"""
from __future__ import annotations

import logging
import re

from flask import abort, request
from twilio.request_validator import RequestValidator

from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 1024  # Twilio's webhooks are a few KB, a long transcript included
MAX_FIELDS = 200            # Twilio sends some 20 to 40
SID_SHAPES = {
    "CallSid": "CA", "ParentCallSid": "CA", "DialCallSid": "CA",
    "MessageSid": "SM|MM", "SmsSid": "SM|MM", "SmsMessageSid": "SM|MM",
    "RecordingSid": "RE",
}
_SID = {name: re.compile(rf"(?:{prefixes})[0-9a-fA-F]{{32}}") for name, prefixes in SID_SHAPES.items()}


def public_url() -> str:
    """The URL as Twilio saw it when it signed the request."""
    base = _runtime().settings.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def require_twilio_signature() -> None:
    """``before_request`` hook of the Twilio blueprints: 403 unless the signature validates."""
    token = _runtime().settings.twilio_auth_token
    signature = request.headers.get("X-Twilio-Signature", "")
    if not token:
        log.error("TWILIO_AUTH_TOKEN is not set, so no webhook can be verified: refusing %s", request.path)
        abort(403)
    if not signature:
        log.warning("refused %s: no X-Twilio-Signature", request.path)
        abort(403)
    if (request.content_length or 0) > MAX_BODY_BYTES:
        log.warning("refused %s: a body of %s bytes", request.path, request.content_length)
        abort(413)
    body = request.get_data(cache=True)  # the form is parsed from this copy, once it passed
    if len(body) > MAX_BODY_BYTES or body.count(b"&") >= MAX_FIELDS:
        log.warning("refused %s: a body of %d bytes, %d fields", request.path, len(body), body.count(b"&") + 1)
        abort(413)
    if not RequestValidator(token).validate(public_url(), request.form, signature):
        log.warning("refused %s: X-Twilio-Signature does not match (forged, or PUBLIC_BASE_URL wrong?)",
                    request.path)
        abort(403)
    malformed = malformed_sid(request.form)
    if malformed is not None:
        log.warning("refused %s: %s is not of Twilio's shape", request.path, malformed)
        abort(400)


def malformed_sid(form) -> str | None:
    """The name of the first SID in ``form`` that is not of Twilio's shape, or None."""
    for name, shape in _SID.items():
        value = form.get(name)
        if value and not shape.fullmatch(value):
            return name
    return None
