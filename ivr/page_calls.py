"""The calls the dispatcher places: the voice page, and the CALL bridge to a ticket's caller.

Both are outbound calls with answering-machine detection; ``?page=`` in the signed
URL names the ``Page`` row. A voice page says its keys first, then who called and why,
and takes 4 (acknowledge), 6 (resolve), 5 (escalate), 7 (take it and be connected to the
caller), 1 (hear the message) or * (repeat), the digits GoAlert and PagerDuty use; an
answering machine is hung up on and never acknowledges. The bridge dials the caller with
the support number as caller ID, so a client never sees a technician's own number.
"""
from __future__ import annotations

import functools
import logging

from flask import Blueprint, request, url_for
from twilio.twiml.voice_response import VoiceResponse

from core import phones
from core.db import parse_id
from dispatch.escalation import bridge as bridges
from dispatch.escalation import bridging, page_text, responses
from dispatch.notification import delivery
from dispatch.notification.models import Page
from dispatch.notification.twilio import statuses
from dispatch.tickets.models import Ticket
from ivr.context import runtime as _runtime
from ivr.signature import require_twilio_signature
from ivr.twiml import answer_errors_with, empty, hang_up, retried_by_twilio, say_text, speak, twiml
from voice_prompts import paging, say, speech

log = logging.getLogger(__name__)

bp = Blueprint("page_calls", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)

MENU_ATTEMPTS = 3


def _load(kind: str):
    """(page, ticket) named by ``?page=``, or (None, None)."""
    page_id = parse_id(request.args.get("page"))
    if page_id is None:
        return None, None
    with _runtime().store.reading() as session:  # only reads: no turn at SQLite's write lock
        page = session.get(Page, page_id)
        if page is None or (page.kind == "bridge") != (kind == "bridge"):
            return None, None
        return page, session.get(Ticket, page.ticket_id)


def _with_page(kind: str):
    """The view gets (page, ticket) from ``?page=``; a page that is not there (or not of ``kind``)
    is answered "no longer active" and hung up on."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper():
            page, ticket = _load(kind)
            if page is None:
                return hang_up("voice_page_gone")
            return view(page, ticket)
        return wrapper
    return decorate


def _spoken(ticket) -> str:
    return speech.spoken_ticket(ticket.id)


def _taken_by(name: str | None) -> str:
    return name or say("voice_page_someone")


def _answered_by_machine(page) -> bool:
    """An answering machine picked up: hang up and let the escalation move on (never an ack)."""
    answered_by = (request.form.get("AnsweredBy") or "")[:30]
    if not statuses.is_machine(answered_by):
        return False
    delivery.update_status(_runtime(), page.id, request.form.get("CallSid"),
                           statuses.report("in-progress", call=True, answered_by=answered_by))
    return True


@bp.post("/page")
@_with_page("page")
def page_call(page, ticket):
    if _answered_by_machine(page):
        return hang_up()
    if ticket.status != "new":
        return _settled(ticket)
    try:
        attempt = max(1, int(request.args.get("attempt", "1")))
    except ValueError:
        attempt = 1
    if attempt > MENU_ATTEMPTS:
        delivery.not_acknowledged_on_the_call(_runtime(), page)
        return hang_up("voice_page_unanswered")
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=6, finish_on_key="",
                             action=url_for("page_calls.page_key", page=page.id), method="POST")
    speak(gather, "voice_page_intro", company=_runtime().config.company_name)
    say_text(gather, paging.voice_page_keys(connect=ticket.caller != phones.ANONYMOUS,
                                            hear=bool(ticket.recording_url)))
    _summary(gather, ticket)
    response.redirect(url_for("page_calls.page_call", page=page.id, attempt=attempt + 1), method="POST")
    return twiml(response)


def _summary(node, ticket) -> None:
    speak(node, "voice_page_ticket", spoken=_spoken(ticket), who=page_text.who(ticket, spoken=True))
    if ticket.caller == phones.ANONYMOUS:
        speak(node, "voice_page_withheld")
    else:
        speak(node, "voice_page_caller_number", digits=speech.phone_number(ticket.caller))
    if ticket.transcript:
        speak(node, "voice_page_transcript", transcript=ticket.transcript[:600])
    elif ticket.recording_url:
        speak(node, "voice_page_recording_only", seconds=ticket.recording_seconds or 0)
    else:
        speak(node, "voice_page_no_message")


def _settled(ticket):
    """The ticket was acknowledged or resolved while the phone rang."""
    if ticket.status == "resolved":
        return hang_up("voice_page_already_resolved", spoken=_spoken(ticket))
    runtime = _runtime()
    with runtime.store.reading() as session:
        name = responses.acknowledged_by(session, runtime.config, ticket.id)
    return hang_up("voice_page_taken", spoken=_spoken(ticket), name=_taken_by(name))


@bp.post("/page/key")
@_with_page("page")
def page_key(page, ticket):
    digit = (request.form.get("Digits") or "")[:1]
    runtime = _runtime()
    if digit in ("4", "6", "7"):
        status = "resolved" if digit == "6" else "acknowledged"
        if digit == "7" and ticket.caller == phones.ANONYMOUS:
            response = VoiceResponse()
            speak(response, "voice_bridge_withheld_menu")
            response.redirect(url_for("page_calls.page_call", page=page.id), method="POST")
            return twiml(response)
        outcome, name = responses.set_status(runtime, ticket.id, status, page.staff_id, "voice")
        if outcome == "done" and digit == "7":
            return _connect(page, ticket)
        if outcome == "done":
            return hang_up("voice_page_acknowledged" if digit == "4" else "voice_page_resolved",
                           spoken=_spoken(ticket))
        if outcome == "taken" and status == "acknowledged":
            return hang_up("voice_page_taken", spoken=_spoken(ticket), name=_taken_by(name))
        return hang_up("voice_page_already_resolved", spoken=_spoken(ticket))
    if digit == "5":
        return _escalate(page, ticket)
    response = VoiceResponse()
    if digit == "1" and ticket.recording_url:
        response.play(ticket.recording_url)
    elif digit != "*":
        speak(response, "voice_page_invalid")
    response.redirect(url_for("page_calls.page_call", page=page.id), method="POST")
    return twiml(response)


def _escalate(page, ticket):
    """5: page the next step now, and say who that is."""
    done = responses.escalate_on_request(_runtime(), ticket.id, page.staff_id,
                                         f"voice-{(request.form.get('CallSid') or '')[:64]}", "voice")
    if done.outcome == "resolved":
        return hang_up("voice_page_already_resolved", spoken=_spoken(ticket))
    if done.outcome == "done":
        return hang_up("voice_page_esc_done")
    if done.only_you:
        return hang_up("voice_page_escalated_you")
    return hang_up("voice_page_escalated", spoken=_spoken(ticket),
                   next=", ".join(p.name for p in done.others) or say("sms_reply_esc_next_step"))


def _connect(page, ticket):
    """7: the ticket is theirs (acknowledged), and this call is put through to the caller, showing the
    support number."""
    return _dial_caller(page, ticket, "voice_page_connecting", "page_calls.page_connect_result")


@bp.post("/page/connect-result")
@_with_page("page")
def page_connect_result(page, ticket):
    return _call_back_ended(page, ticket)


@bp.post("/page/status")
@bp.post("/bridge/status")
@retried_by_twilio
def call_status():
    """Status callback of the calls we place: no-answer, busy, failed or a machine escalates at once."""
    page_id = parse_id(request.args.get("page"))
    if page_id is None:
        return empty()
    form = request.form
    report = statuses.report((form.get("CallStatus") or "")[:20], call=True,
                             answered_by=(form.get("AnsweredBy") or "")[:30] or None)
    if report is not None:
        delivery.update_status(_runtime(), page_id, (form.get("CallSid") or "")[:64] or None, report)
    return empty()


@bp.post("/bridge")
@_with_page("bridge")
def bridge(page, ticket):
    """The technician answered a CALL: connect them to the caller, showing the support number."""
    if _answered_by_machine(page):
        return hang_up()
    if ticket.caller == phones.ANONYMOUS:
        return hang_up("voice_bridge_withheld")
    refused = bridging.refusal(_runtime().config, ticket)  # checked again: the ticket may have changed
    if refused is not None:
        log.warning("bridge of page %s refused at dialling: %s %s", page.id, refused.reason, refused.detail)
        return hang_up("voice_bridge_refused")
    return _dial_caller(page, ticket, "voice_bridge_connecting", "page_calls.bridge_result")


@bp.post("/bridge/result")
@_with_page("bridge")
def bridge_result(page, ticket):
    return _call_back_ended(page, ticket)


def _dial_caller(page, ticket, prompt: str, result_endpoint: str):
    """Say ``prompt``, then put this call through to the ticket's caller, showing the support number;
    how it ended goes to ``result_endpoint``."""
    response = VoiceResponse()
    speak(response, prompt, spoken=_spoken(ticket))
    dial = response.dial(caller_id=_runtime().config.support_number, timeout=30,
                         action=url_for(result_endpoint, page=page.id), method="POST")
    dial.number(ticket.caller)
    return twiml(response)


def _call_back_ended(page, ticket):
    """The technician's call to the caller ended: on the timeline, with how it went."""
    outcome = statuses.dial_outcome(request.form.get("DialCallStatus"))
    duration = (request.form.get("DialCallDuration") or "")[:9]
    bridges.call_back_ended(_runtime(), ticket.id, page.staff_id, outcome, int(duration) if duration.isdigit() else 0)
    return hang_up("voice_bridge_result" if outcome == "connected" else "voice_bridge_no_answer")


answer_errors_with(bp, lambda: hang_up("voice_page_error"), "the technician is told where to look")
