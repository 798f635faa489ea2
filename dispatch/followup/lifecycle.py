"""A ticket's lifecycle, as rules applied inside the caller's transaction to a ticket it has locked.

    new ──ACK──► acknowledged ──WAIT──► waiting ──reply, call, any change──► acknowledged (new)
     │                │                    └── last reminder, no contact ──┐
     └────────────────┴──────RES──────────────────────────────────────────┴─► resolved
    resolved ──REOPEN within reopen_within──► acknowledged (new without an owner)
    resolved ──reopen_within later──► closed

Every change goes through ``tickets.changes.record`` (the timeline and its listeners) and
brings the ticket's service targets up to date (``sla.targets.refresh``). Each function
returns the hand-overs to RQ of what it queued (texts, notices), to run once the
transaction has committed; a change the ticket's state does not allow raises
:class:`Refused`.
"""
from __future__ import annotations

from datetime import datetime

from core.config import Staff
from dispatch import oncall
from dispatch.followup import outgoing, texts
from dispatch.jobs.outbox import Handover
from dispatch.notification.gsm7 import gsm7
from dispatch.runtime import Runtime
from dispatch.sla import targets
from dispatch.tickets import changes
from dispatch.tickets.models import CLOSED_STATUSES, Ticket

NO_CONTACT = "no contact"


class Refused(Exception):
    """The ticket's state does not allow the change; the message says why."""


def _done(*handovers: Handover | None) -> list[Handover]:
    return [h for h in handovers if h is not None]


def responded(runtime: Runtime, ticket: Ticket, now: datetime) -> None:
    """A technician responded (an ACK, a status change, a CALL to the caller): the response target is met."""
    if ticket.responded_at is None:
        ticket.responded_at = now
        targets.refresh(runtime.config, ticket)


def acknowledge(session, runtime: Runtime, ticket: Ticket, now: datetime, by: str, via: str) -> list[Handover]:
    """``by`` takes the ticket (and owns it, if nobody does); a wait on the caller ends."""
    _refuse_unless_open(ticket)
    _leave_waiting(session, ticket, now, "acknowledged")
    ticket.status = "acknowledged"
    takes = ticket.owner is None and by in runtime.config.staff
    if takes:  # one change, not two: whoever acknowledges an unowned ticket owns it
        ticket.owner = by
    changes.record(session, ticket, "acknowledged", now, by=by, via=via, **({"owner": by} if takes else {}))
    return _touched(runtime, ticket, now)


def resolve(session, runtime: Runtime, ticket: Ticket, now: datetime, by: str | None, via: str,
            no_contact: bool = False) -> list[Handover]:
    """Resolve the ticket: its resolution clock stops, its caller is told (and may reopen it within
    ``reopen_within``, after which it is closed)."""
    _refuse_unless_open(ticket)
    config = runtime.config
    _leave_waiting(session, ticket, now, "resolved")
    ticket.status, ticket.resolved_at = "resolved", now
    ticket.followup_at, ticket.reminders_sent = now + config.followup.reopen_within, 0
    _pause(ticket, now)  # a reopening resumes the resolution clock where it stood
    changes.record(session, ticket, "resolved", now, by=by, via=via, **({"reason": NO_CONTACT} if no_contact else {}))
    handovers = _touched(runtime, ticket, now)
    values = {"company": config.company_name, "number": texts.number(config, ticket), "digits": ticket.id,
              "within": texts.length(config.followup.reopen_within)}
    if no_contact:
        body = texts.to_caller(ticket, "followup_resolved_no_contact", **values)
    else:
        body = texts.to_caller(ticket, "followup_resolved", **values)
        if config.followup.survey:
            body += " " + texts.to_caller(ticket, "followup_survey")
    key = f"resolved:{len(ticket.pauses)}"  # each resolution begins a pause of its own
    return handovers + _done(outgoing.to_caller(session, ticket, "caller_resolved", key, body, now))


def wait(session, runtime: Runtime, ticket: Ticket, now: datetime, by: str, via: str) -> list[Handover]:
    """Waiting on the caller: the resolution clock stands still, the caller is reminded
    ``waiting_reminders`` times, ``reminder_every`` apart (the first now), and after the last
    reminder the ticket is resolved for no contact."""
    if ticket.status not in ("new", "acknowledged"):
        raise Refused(f"a ticket that is {ticket.status} cannot wait on its caller")
    ticket.status, ticket.reminders_sent, ticket.followup_at = "waiting", 0, now
    _pause(ticket, now)
    changes.record(session, ticket, "waiting", now, by=by, via=via)
    return _touched(runtime, ticket, now) + step(session, runtime, ticket, now)


def end_wait(session, runtime: Runtime, ticket: Ticket, now: datetime, reason: str, **detail) -> list[Handover]:
    """The caller answered (a text, a call): the ticket is worked again, its resolution clock runs."""
    if ticket.status != "waiting":
        return []
    _leave_waiting(session, ticket, now, reason, **detail)
    ticket.status = "acknowledged" if ticket.owner else "new"
    targets.refresh(runtime.config, ticket)
    owner = runtime.config.staff.get(ticket.owner or "")
    words = detail.get("text")
    if owner is None or not words:
        return []
    body = texts.say("sms_reply_notice", number=texts.number(runtime.config, ticket), words=gsm7(words)[:80],
                     digits=ticket.id)
    return _done(outgoing.to_staff(session, ticket, "reply_notice", f"reply:{len(ticket.pauses or [])}", owner,
                                   body, now))


def step(session, runtime: Runtime, ticket: Ticket, now: datetime) -> list[Handover]:
    """The follow-up due at ``ticket.followup_at``, if it is due: the next reminder, or the
    no-contact resolution, of a waiting ticket; the close of a resolved one."""
    if ticket.followup_at is None or ticket.followup_at > now:
        return []
    config = runtime.config
    if ticket.status == "waiting":
        if ticket.reminders_sent >= config.followup.waiting_reminders:
            return resolve(session, runtime, ticket, now, None, "followup", no_contact=True)
        ticket.reminders_sent += 1
        ticket.followup_at = max(ticket.followup_at + config.followup.reminder_every, now)
        body = texts.to_caller(ticket, "followup_reminder", company=config.company_name,
                               number=texts.number(config, ticket), support=config.support_number)
        key = f"reminder:{len(ticket.pauses or [])}:{ticket.reminders_sent}"
        return _done(outgoing.to_caller(session, ticket, "caller_reminder", key, body, now))
    if ticket.status == "resolved":
        return close(session, runtime, ticket, now)
    ticket.followup_at = None
    return []


def close(session, runtime: Runtime, ticket: Ticket, now: datetime) -> list[Handover]:
    """The reopening window is over: the ticket is closed for good."""
    if ticket.status != "resolved":
        raise Refused(f"a ticket that is {ticket.status} cannot be closed")
    ticket.status, ticket.closed_at, ticket.followup_at = "closed", now, None
    changes.record(session, ticket, "closed", now)
    targets.refresh(runtime.config, ticket)
    return []


def reopenable(runtime: Runtime, ticket: Ticket, now: datetime) -> bool:
    return (ticket.status == "resolved" and ticket.resolved_at is not None
            and now <= ticket.resolved_at + runtime.config.followup.reopen_within)


def reopen(session, runtime: Runtime, ticket: Ticket, now: datetime, by: str, via: str) -> list[Handover]:
    """The caller says it is not fixed: back to ``acknowledged`` (``new`` without an owner), the
    resolution clock running again, and the owner (or else the on-call primary) told."""
    if not reopenable(runtime, ticket, now):
        raise Refused(f"a ticket that is {ticket.status} cannot be reopened")
    config = runtime.config
    ticket.status = "acknowledged" if ticket.owner else "new"
    ticket.resolved_at = ticket.followup_at = None
    _unpause(ticket, now)
    changes.record(session, ticket, "reopened", now, by=by, via=via)
    targets.refresh(config, ticket)
    person = config.staff.get(ticket.owner or "") or _primary(session, runtime, now)
    body = texts.say("sms_reopen_notice", number=texts.number(config, ticket), who=texts.who(ticket),
                     callback=texts.callback(ticket), digits=ticket.id)
    return _done(outgoing.to_staff(session, ticket, "reopen_notice", f"reopened:{len(ticket.pauses or [])}",
                                   person, body, now))


def set_priority(session, runtime: Runtime, ticket: Ticket, now: datetime, priority: str, by: str,
                 via: str) -> list[Handover]:
    """A new priority: both targets are recomputed from the ticket's creation, and its notices
    start afresh for them."""
    if ticket.status == "closed":
        raise Refused("a closed ticket keeps its priority")
    if ticket.priority == priority:
        return []
    before, ticket.priority, ticket.sla_alerts = ticket.priority, priority, 0
    changes.record(session, ticket, "priority", now, before=before, after=priority, by=by, via=via)
    targets.refresh(runtime.config, ticket)
    return []


def set_owner(session, runtime: Runtime, ticket: Ticket, now: datetime, owner: str | None, by: str,
              via: str) -> list[Handover]:
    if ticket.status == "closed":
        raise Refused("a closed ticket keeps its owner")
    if ticket.owner == owner:
        return []
    before, ticket.owner = ticket.owner, owner
    changes.record(session, ticket, "owner", now, before=before, after=owner, by=by, via=via)
    return []


def add_note(session, runtime: Runtime, ticket: Ticket, now: datetime, text: str, by: str, via: str) -> list[Handover]:
    changes.record(session, ticket, "note", now, text=text, by=by, via=via)
    return []


def rate(session, runtime: Runtime, ticket: Ticket, now: datetime, rating: int) -> list[Handover]:
    """The caller's rating, 1 (Poor) to 4 (Excellent); a 1 or a 2 is told to the managers."""
    config = runtime.config
    ticket.rating = rating
    changes.record(session, ticket, "rating", now, rating=rating)
    if rating > 2:
        return []
    owner = config.staff.get(ticket.owner or "")
    body = texts.say("sms_rating_notice", number=texts.number(config, ticket), rating=rating,
                     word=texts.say(f"rating_{rating}"), who=texts.who(ticket), callback=texts.callback(ticket),
                     owner=owner.name if owner else texts.say("sla_no_owner"))
    return _done(*(outgoing.to_staff(session, ticket, "rating_notice", "rating", config.staff[m], body, now)
                   for m in config.managers))


def _refuse_unless_open(ticket: Ticket) -> None:
    if ticket.status in CLOSED_STATUSES:
        raise Refused(f"the ticket is {ticket.status}")


def _touched(runtime: Runtime, ticket: Ticket, now: datetime) -> list[Handover]:
    """A status change is a response; the targets follow the new state."""
    if ticket.responded_at is None:
        ticket.responded_at = now
    targets.refresh(runtime.config, ticket)
    return []


def _leave_waiting(session, ticket: Ticket, now: datetime, reason: str, **detail) -> None:
    """Any change out of ``waiting`` ends the wait: the resolution clock runs again."""
    if ticket.status != "waiting":
        return
    _unpause(ticket, now)
    ticket.followup_at, ticket.reminders_sent = None, 0
    changes.record(session, ticket, "wait_ended", now, reason=reason, **detail)


def _pause(ticket: Ticket, now: datetime) -> None:
    if not targets.paused_now(ticket):
        ticket.pauses = [*(ticket.pauses or []), [now.isoformat(), None]]


def _unpause(ticket: Ticket, now: datetime) -> None:
    if targets.paused_now(ticket):
        pauses = [list(p) for p in ticket.pauses]
        pauses[-1][1] = now.isoformat()
        ticket.pauses = pauses


def _primary(session, runtime: Runtime, now: datetime) -> Staff:
    return oncall.on_call(runtime.config, oncall.overrides_near(session, now), now).primary
