"""Texts to the support number (technicians' commands, callers' replies) and the delivery status
of every SMS we send.

Twilio's own keywords (STOP, START, HELP-like words it answers itself) are Twilio's
business: they get no answer from us, though a caller's STOP or START is honoured
(``followup.outgoing.opt``) before anything more is sent to them.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.messaging_response import MessagingResponse

from core import phones
from core.db import parse_id
from dispatch.escalation import sms_commands
from dispatch.followup import outgoing, replies
from dispatch.notification import delivery
from dispatch.notification.twilio import statuses
from ivr.context import runtime as _runtime
from ivr.signature import require_twilio_signature

log = logging.getLogger(__name__)

bp = Blueprint("sms", __name__, url_prefix="/sms")
bp.before_request(require_twilio_signature)


def _reply(text: str | None) -> Response:
    response = MessagingResponse()
    if text:
        response.message(text)
    return Response(str(response), mimetype="text/xml")


def _page_id() -> int | None:
    return parse_id(request.args.get("page"))


@bp.post("/incoming")
def incoming():
    """A text to the support number: a staff mobile's command, or a caller's reply about their own
    tickets (``followup.replies``); anyone else learns nothing."""
    runtime = _runtime()
    sender = phones.normalise(request.form.get("From"), runtime.config.region)
    staff = runtime.config.staff_with_mobile(sender)
    body = (request.form.get("Body") or "")[:500]
    if staff is None:
        opted = statuses.opts_out(body)
        if sender is not None and opted is not None:
            outgoing.opt(runtime, sender, stop=opted)
        elif not statuses.is_carrier_keyword(body):
            return _reply(replies.handle(runtime, sender, body))
        return _reply(None)
    if statuses.is_carrier_keyword(body):
        return _reply(None)
    sid = (request.form.get("MessageSid") or request.form.get("SmsSid") or "")[:64]
    return _reply(sms_commands.handle(runtime, staff, body, sid))


@bp.post("/status")
def status():
    """Status callback of every SMS we send (``?page=`` names the page): out-of-order safe."""
    page_id = _page_id()
    form = request.form
    report = statuses.report((form.get("MessageStatus") or "")[:20], call=False,
                             error_code=(form.get("ErrorCode") or "")[:10] or None)
    if page_id is not None and report is not None:
        delivery.update_status(_runtime(), page_id, (form.get("MessageSid") or "")[:64] or None, report)
    return _reply(None)


@bp.errorhandler(SQLAlchemyError)
def database_unavailable(exc):
    """Twilio retries status callbacks on a 5xx; a reply to a technician cannot be saved, so say nothing."""
    log.error("database error on %s: %s", request.path, type(exc).__name__)
    if request.path.endswith("/status"):
        return Response("database unavailable", status=503)
    return _reply(None)
