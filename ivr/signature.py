"""Twilio request signatures: every webhook must prove it came from Twilio.

The signature covers the URL Twilio requested, so behind a proxy or tunnel the public
URL is rebuilt from ``PUBLIC_BASE_URL`` rather than taken from what the app sees.
"""
from __future__ import annotations

import logging

from flask import abort, request
from twilio.request_validator import RequestValidator

from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)


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
    if not signature or not RequestValidator(token).validate(public_url(), request.form, signature):
        log.warning("refused %s: X-Twilio-Signature does not match (forged, or PUBLIC_BASE_URL wrong?)",
                    request.path)
        abort(403)
