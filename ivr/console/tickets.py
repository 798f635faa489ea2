"""A ticket: who called, what they said (the recording, played in the page, and the transcript), its
timeline in words, and what a technician can do about it: acknowledge, resolve, add a note, call
the caller back."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for

from core import phones
from dispatch.escalation import bridge, responses
from dispatch.escalation.models import Escalation
from dispatch.handoff import recordings
from dispatch.tickets import lists, notes
from dispatch.tickets.numbers import parse_number
from ivr.console import timeline
from ivr.console.base import bp, number_of, page, phone, say
from ivr.console.now import standing
from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)
RECORDING_LINK_LIFE = timedelta(hours=12)  # a page left open in a browser tab still plays


def _ticket_id(number: str) -> int:
    ticket_id = parse_number(number, _runtime().config.ticket_prefix)
    if ticket_id is None:
        abort(404)
    return ticket_id


@bp.get("/tickets/<number>")
def ticket(number: str):
    runtime = _runtime()
    ticket_id = _ticket_id(number)
    with runtime.store.reading() as session:
        found = lists.with_timeline(session, ticket_id)
        if found is None:
            abort(404)
        escalation = session.get(Escalation, ticket_id) if found.priority == "P1" else None
    if number != number_of(ticket_id):
        return redirect(url_for("console.ticket", number=number_of(ticket_id)))
    lines = [timeline.words(runtime.config, event) for event in found.timeline]
    return page("console/ticket.html", title=number_of(ticket_id), nav="now", ticket=found, lines=lines,
                recording=_recording_path(runtime, found),
                standing=standing(runtime.config, escalation) if found.priority == "P1" else None,
                can_call=found.caller != phones.ANONYMOUS, request_id=uuid.uuid4().hex,
                note_max=notes.MAX_LENGTH)


@bp.post("/tickets/<number>/acknowledge")
def acknowledge(number: str):
    return _set_status(number, "acknowledged")


@bp.post("/tickets/<number>/resolve")
def resolve(number: str):
    return _set_status(number, "resolved")


def _set_status(number: str, status: str):
    runtime = _runtime()
    ticket_id = _ticket_id(number)
    outcome, name = responses.set_status(runtime, ticket_id, status, g.staff.id, "console")
    if outcome == "missing":
        abort(404)
    shown = number_of(ticket_id)
    if outcome == "resolved":
        flash(say("console_already_resolved", number=shown))
    elif outcome == "taken":
        flash(say("console_ack_taken", number=shown, name=name or say("console_someone")))
    else:
        flash(say("console_acknowledged" if status == "acknowledged" else "console_resolved", number=shown))
    return redirect(url_for("console.ticket", number=shown), code=303)


@bp.post("/tickets/<number>/notes")
def add_note(number: str):
    runtime = _runtime()
    ticket_id = _ticket_id(number)
    text = request.form.get("text", "")
    reason = notes.refusal(text)
    if reason is not None:
        flash(reason[0].upper() + reason[1:] + ".", "error")
    elif not notes.add_note(runtime, ticket_id, g.staff.id, text, via="console"):
        abort(404)
    else:
        flash(say("console_note_added", number=number_of(ticket_id)))
    return redirect(url_for("console.ticket", number=number_of(ticket_id)) + "#timeline", code=303)


@bp.post("/tickets/<number>/call")
def call_back(number: str):
    """Ring the signed-in technician's mobile, then bridge them to the caller (as the SMS reply CALL does)."""
    runtime = _runtime()
    ticket_id = _ticket_id(number)
    # The form's own id: the same form sent twice (a double click, a reload) rings once.
    request_id = (request.form.get("request") or "")[:40] or uuid.uuid4().hex
    refused = bridge.ring_technician(runtime, ticket_id, g.staff, f"console-{request_id}", via="console")
    if refused is not None and refused.reason == "missing":
        abort(404)
    shown = number_of(ticket_id)
    if refused is not None and refused.reason == "withheld":
        flash(say("console_call_withheld", number=shown), "error")
    elif refused is not None:
        flash(say("console_call_refused", number=shown, reason=refused.reason), "error")
    else:
        flash(say("console_calling_you", mobile=phone(g.staff.mobile), number=shown))
    return redirect(url_for("console.ticket", number=shown), code=303)




def _recording_path(runtime, ticket) -> str | None:
    """The recording's signed link (``dispatch.handoff.recordings``), as a path on this host: the page
    plays it in an ``<audio>`` element, through the app, which fetches it from the carrier."""
    link = recordings.link(runtime, ticket, valid_for=RECORDING_LINK_LIFE)
    if link is None:
        return None
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")
