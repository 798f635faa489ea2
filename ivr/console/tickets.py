"""A ticket: who called, what they said (the recording, played in the page, and the transcript), its
owner and due times, its timeline in words, and what a technician can do about it: acknowledge,
resolve, set its priority, have it wait on the caller, give it to someone (or take it), add a
note, call the caller back. Each action goes through the rule the SMS commands and the API use."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, flash, g, redirect, request, url_for

import voice_prompts
from core import phones
from dispatch.escalation import bridge, responses
from dispatch.escalation.models import Escalation
from dispatch.followup import actions, lifecycle, texts
from dispatch.handoff import recordings
from dispatch.sla import targets
from dispatch.staff import roles
from dispatch.tickets import lists, notes
from dispatch.tickets.models import PRIORITIES, Ticket
from dispatch.tickets.numbers import parse_number
from ivr.console import timeline
from ivr.console.base import bp, number_of, page, phone, say, staff_name
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
    config = runtime.config
    lines = [timeline.words(config, event) for event in found.timeline]
    me = g.staff
    return page("console/ticket.html", title=number_of(ticket_id), nav="now", ticket=found, lines=lines,
                at=runtime.now(), recording=_recording_path(runtime, found),
                standing=standing(config, escalation) if found.priority == "P1" else None,
                can_call=found.caller != phones.ANONYMOUS, request_id=uuid.uuid4().hex,
                note_max=notes.MAX_LENGTH, paused=targets.paused_now(found),
                rating=voice_prompts.say(f"rating_{found.rating}") if found.rating in (1, 2, 3, 4) else None,
                priorities=[(p, config.sla[p].name if p in config.sla else None) for p in PRIORITIES],
                may_give=roles.is_manager(me), may_take=found.owner != me.id and roles.may_give_to(me, me.id),
                staff=list(config.staff.values()))


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


@bp.post("/tickets/<number>/priority")
def set_priority(number: str):
    """A new priority (as the SMS replies P1-P4): its due times are recomputed from its creation."""
    ticket_id = _ticket_id(number)
    priority = request.form.get("priority")
    shown = number_of(ticket_id)
    if priority not in PRIORITIES:
        flash(say("console_priority_bad"), "error")
    elif _act(ticket_id, lifecycle.set_priority, priority, g.staff.id, "console") is None:
        flash(say("console_closed_unchanged", number=shown), "error")
    else:
        flash(say("console_priority_set", number=shown, priority=priority))
    return redirect(url_for("console.ticket", number=shown), code=303)


@bp.post("/tickets/<number>/waiting")
def wait_on_caller(number: str):
    """Waiting on the caller (as the SMS reply WAIT): reminded, then resolved for no contact."""
    runtime = _runtime()
    config = runtime.config
    ticket_id = _ticket_id(number)
    shown = number_of(ticket_id)
    waiting = _act(ticket_id, lifecycle.wait, g.staff.id, "console")
    if waiting is None:
        with runtime.store.reading() as session:
            status = session.get(Ticket, ticket_id).status
        flash(say("console_already_waiting" if status == "waiting" else "console_wait_refused", number=shown,
                  status=status), "error")
    elif waiting.caller == phones.ANONYMOUS:
        flash(say("console_waiting_anonymous", number=shown))
    else:
        flash(say("console_waiting", number=shown, reminders=config.followup.waiting_reminders,
                  every=texts.length(config.followup.reminder_every)))
    return redirect(url_for("console.ticket", number=shown), code=303)


@bp.post("/tickets/<number>/owner")
def give_to(number: str):
    """Give the ticket to someone (a manager, to anyone or nobody) or take it (anyone, for themselves)."""
    runtime = _runtime()
    ticket_id = _ticket_id(number)
    owner = request.form.get("owner") or None
    shown = number_of(ticket_id)
    if not roles.may_give_to(g.staff, owner):  # first: a refusal must not tell which staff ids exist
        abort(403)
    if owner is not None and owner not in runtime.config.staff:
        flash(say("console_owner_bad"), "error")
        return redirect(url_for("console.ticket", number=shown), code=303)
    if _act(ticket_id, lifecycle.set_owner, owner, g.staff.id, "console") is None:
        flash(say("console_closed_unchanged", number=shown), "error")
    elif owner is None:
        flash(say("console_owner_none", number=shown))
    elif owner == g.staff.id:
        flash(say("console_owner_you", number=shown))
    else:
        flash(say("console_owner_set", number=shown, name=staff_name(owner)))
    return redirect(url_for("console.ticket", number=shown), code=303)


def _act(ticket_id: int, rule, *args) -> Ticket | None:
    """Apply a lifecycle rule to the ticket (``followup.actions.act``): the ticket as it left, None when its
    state refused the change; 404 when there is no such ticket."""
    try:
        return actions.act(_runtime(), ticket_id, rule, *args)
    except actions.Missing:
        abort(404)
    except actions.Refused:
        return None


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
        flash(say("console_call_refused", number=shown, reason=say(f"console_call_refused_{refused.reason}")), "error")
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
