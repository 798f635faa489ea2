"""Technicians' SMS replies and the delivery status of every SMS we send."""
from __future__ import annotations

from flask import Blueprint

from ivr.signature import require_twilio_signature

bp = Blueprint("sms", __name__, url_prefix="/sms")
bp.before_request(require_twilio_signature)
