"""Tickets made from calls: created by whichever Twilio callback arrives first, completed
by the others, and handed to the dispatcher once when they page (a P1, or the after-hours
voicemail of a client whose contract says ``after_hours = "page"``, a P2).

Twilio sends a ``<Record>`` action, a recording status callback and a transcription
callback in any order, sometimes twice. All three call :func:`record_call`, keyed on
the CallSid, so the result is one ticket whatever the order or repetition.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core import phones
from core.db import get_locked, insert_now, lock_key
from dispatch import directory, jobs
from dispatch.calls.models import JoinedCall
from dispatch.escalation.steps import page_ticket, send_transcript
from dispatch.followup import outgoing, texts
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.sla import targets
from dispatch.tickets import changes
from dispatch.tickets.models import CLOSED_STATUSES, Ticket
from dispatch.tickets.timeline import add_event, store_new


@dataclass(frozen=True)
class Box:
    """A voicemail box: what its messages become."""

    name: str
    kind: str
    priority: str

    @property
    def pages(self) -> bool:
        return self.priority == "P1"


BOXES = {
    "support": Box("support", "voicemail", "P3"),
    "after_hours": Box("after_hours", "voicemail", "P3"),
    "emergency": Box("emergency", "emergency_voicemail", "P1"),
    # Twilio reached the Fallback URL: the line was failing, so whatever the caller wanted
    # may have been an emergency; a person is paged rather than left to find it in the morning.
    "fallback": Box("fallback", "voicemail", "P1"),
}
MISSED_PRIORITY = {"P1": "P1", "P3": "P4"}
PAGED_AFTER_HOURS = "P2"  # an after-hours voicemail of a client whose contract says after_hours = "page"


def priority_for(box: Box, client) -> str:
    """The priority of a message left in ``box`` by a caller of ``client`` (None: unknown)."""
    if box.name == "after_hours" and client is not None and client.after_hours == "page":
        return PAGED_AFTER_HOURS
    return box.priority


def pages(box: Box, ticket: Ticket) -> bool:
    """Whether the ticket is handed to the on-call escalation: every P1 box, even without a message;
    an after-hours message of a client whose contract says so."""
    return box.pages or (ticket.kind == box.kind and ticket.priority == PAGED_AFTER_HOURS
                         and priority_for(box, ticket.client) == PAGED_AFTER_HOURS)


@dataclass
class CallReport:
    """What one Twilio callback says about a call that reached a voicemail box."""

    call_sid: str
    box: str
    caller_raw: str | None = None
    recording_sid: str | None = None
    recording_url: str | None = None
    recording_seconds: int | None = None
    recording_status: str | None = None  # completed | absent | failed | None (an action request)
    transcript: str | None = None
    transcript_status: str | None = None
    language: str = "en"  # what the caller heard the call in


def record_call(runtime: Runtime, report: CallReport, hand_over: Callable[[Callable], None] | None = None
                ) -> tuple[Ticket, bool]:
    """Create or complete the ticket of ``report.call_sid``; returns (ticket, created).

    Callbacks of one call take their turns (SQLite's write lock, PostgreSQL's lock on
    the source key), so the later ones find the first one's ticket. Should a concurrent
    insert slip through anyway, the unique source key fails ours and the retry finds and
    completes that ticket instead.

    A P1's page is in the outbox once this commits; ``hand_over``, if given, is passed
    the step that hands it to RQ, to run when it suits (a webhook: after its response),
    instead of running it here.
    """
    if report.recording_status is not None:
        known = ticket_holding(runtime, report)
        if known is not None:
            return known, False
    for attempt in range(3):
        try:
            with runtime.store.transaction() as session:
                ticket, created, owed = _apply(session, runtime, report)
            break
        except IntegrityError:
            if attempt == 2:
                raise
    if owed:
        step = partial(_hand_over_all, owed, runtime)
        if hand_over is None:
            step()
        else:
            hand_over(step)
    return ticket, created


def ticket_holding(runtime: Runtime, report: CallReport) -> Ticket | None:
    """The call's ticket if it already says everything ``report`` (a recording status) says,
    read without the write lock.

    The recording status callback usually repeats what the ``<Record>`` action stored a
    moment before; answering it from a read spares it a writer's turn (on SQLite, the
    database's one write lock), and the web app a spool file (``ivr.phone_tree.recording_status``).
    """
    with runtime.store.reading() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.source_key == f"call:{report.call_sid}"))
        if ticket is None:
            return None
        box = BOXES.get(report.box, BOXES["support"])
        events = _complete(ticket, box, report, runtime.config.voicemail_min_seconds)
        if events or session.is_modified(ticket) or _to_page(ticket, box):
            return None
    return ticket


def _hand_over_all(owed: list[Callable], runtime: Runtime) -> None:
    for hand_over in owed:
        hand_over(runtime)


def _apply(session, runtime: Runtime, report: CallReport) -> tuple[Ticket, bool, list[Callable]]:
    """(the ticket, whether it was created, the hand-overs to RQ of what this queued: its page; the
    transcript to those already paged, when it came after the page; the text of its number to the
    caller)."""
    config, now = runtime.config, runtime.now()
    box = BOXES.get(report.box, BOXES["support"])
    source_key = f"call:{report.call_sid}"
    # Another callback of this call waits for this one, then finds its ticket (see core.db).
    lock_key(session, source_key)
    known = session.scalar(select(Ticket.id).where(Ticket.source_key == source_key))
    if known is None:
        known = _joined_ticket(session, runtime, report, box, now)
    created = known is None
    if created:
        ticket = _new_ticket(session, config, report, box, source_key, now)
    else:
        ticket = get_locked(session, Ticket, known)
    kind, priority = ticket.kind, ticket.priority
    events = _complete(ticket, box, report, config.voicemail_min_seconds)
    for event, detail in events:
        add_event(ticket, event, now, **detail)
    if created or ticket.priority != priority:
        targets.refresh(config, ticket)  # its service targets, from its creation
    late_words = any(event == "transcript" for event, _ in events) and _page_texted(session, ticket)
    paged = _to_page(ticket, box)
    if paged:
        ticket.paged_at = now
        add_event(ticket, "page_requested", now)
    if created:  # the ticket's number, for the job below and for the caller to hear
        insert_now(session, ticket)
        store_new(session, ticket)
        changes.publish(session, ticket, "created", now)
    owed = [jobs.enqueue_after_commit(session, page_ticket, ticket.id, now=now, new=True, claim=True)] if paged else []
    if late_words and ticket.status not in CLOSED_STATUSES:
        owed.append(jobs.enqueue_after_commit(session, send_transcript, ticket.id, now=now))
    if kind == "missed_call" and ticket.kind != kind and config.followup.confirm_by_sms:
        body = texts.to_caller(ticket, "followup_confirm", company=config.company_name,
                               number=texts.number(config, ticket))
        owed += [h for h in [outgoing.to_caller(session, ticket, "caller_confirm", "confirm", body, now)] if h]
    return ticket, created, owed


def _page_texted(session, ticket: Ticket) -> bool:
    """Whether an SMS page of the ticket is out (or going), made before its transcript came: its
    first words are then sent after it (``steps.send_transcript``). The ticket is locked, so a page
    made later reads the transcript itself."""
    return ticket.paged_at is not None and session.scalar(select(Page.id).where(
        Page.ticket_id == ticket.id, Page.channel == "sms", Page.kind.in_(("page", "final"))).limit(1)) is not None


def _to_page(ticket: Ticket, box: Box) -> bool:
    """Whether the ticket is still to be handed to the dispatcher: a P1 box (or a paged contract's
    after-hours message) not paged yet, that nobody has taken (an emergency call taken live is
    acknowledged from the start)."""
    return pages(box, ticket) and ticket.paged_at is None and ticket.status == "new"


def _joined_ticket(session, runtime: Runtime, report: CallReport, box: Box, now) -> int | None:
    """The open P1 this call joins instead of opening a ticket of its own (see the module's note), if any."""
    joined = session.get(JoinedCall, report.call_sid)
    if joined is not None:
        return joined.ticket_id
    if not box.pages:
        return None
    caller = phones.caller_id(report.caller_raw, runtime.config.region)
    lock_key(session, f"emergencies:{caller}")  # two calls from one number at once count one after the other
    since = now - timedelta(hours=1)
    opened = session.scalar(select(func.count(Ticket.id)).where(
        Ticket.caller == caller, Ticket.priority == "P1", Ticket.paged_at.is_not(None), Ticket.created_at > since))
    if opened < runtime.config.emergencies_per_caller_per_hour:
        return None
    target = session.scalar(select(Ticket).where(
        Ticket.caller == caller, Ticket.priority == "P1", Ticket.paged_at.is_not(None),
        Ticket.status.not_in(CLOSED_STATUSES)).order_by(Ticket.id.desc()).limit(1))
    if target is None:
        return None
    session.add(JoinedCall(call_sid=report.call_sid, ticket_id=target.id, caller=caller, at=now))
    changes.record(session, target, "joined_call", now, call_sid=report.call_sid, caller=caller, box=box.name,
                   reason=f"more than {runtime.config.emergencies_per_caller_per_hour} emergencies from this "
                          "number in an hour")
    return target.id


def _new_ticket(session, config, report: CallReport, box: Box, source_key: str, now) -> Ticket:
    """The call's ticket, not stored yet (``_apply`` inserts it with its events in two statements)."""
    caller = phones.caller_id(report.caller_raw, config.region)
    client, contact = directory.match_caller(session, None if caller == phones.ANONYMOUS else caller)
    ticket = Ticket(source_key=source_key, call_sid=report.call_sid, box=box.name,
                    status="new", kind="missed_call", priority=MISSED_PRIORITY[box.priority],
                    caller=caller, caller_raw=(report.caller_raw or "")[:64] or None,
                    client=client, client_id=client.id if client else None,
                    contact=contact, contact_id=contact.id if contact else None, created_at=now,
                    language=report.language or "en")
    add_event(ticket, "created", now, box=box.name, caller=caller, client=client.name if client else None)
    return ticket


def _complete(ticket: Ticket, box: Box, report: CallReport, min_seconds: int) -> list[tuple[str, dict]]:
    """Fold what this callback adds into the ticket; returns the events (name, detail) it makes,
    only real changes, for the caller to note on the timeline."""
    events = []
    if _another_recording(ticket, report.recording_sid):
        # A second recording on the same call (a failing action sent the caller to the Fallback
        # URL, and they spoke again): the first stays the ticket's, this one goes on the timeline.
        if report.recording_status in (None, "completed") and not _noted(ticket, "another_recording",
                                                                           report.recording_sid):
            events.append(("another_recording", {"sid": report.recording_sid, "url": report.recording_url,
                                                 "seconds": report.recording_seconds}))
        if report.transcript_status == "completed" and report.transcript and not _noted(
                ticket, "another_transcript", report.recording_sid):
            events.append(("another_transcript", {"sid": report.recording_sid, "text": report.transcript[:2000]}))
        return events
    if report.recording_sid and report.recording_status in (None, "completed"):
        seconds = report.recording_seconds
        changed = ticket.recording_sid != report.recording_sid or (
            seconds is not None and ticket.recording_seconds != seconds)
        ticket.recording_sid = report.recording_sid
        ticket.recording_url = report.recording_url or ticket.recording_url
        if seconds is not None:
            ticket.recording_seconds = seconds
        if changed:
            events.append(("recording", {"seconds": ticket.recording_seconds}))
    elif report.recording_status in ("absent", "failed") and not ticket.recording_sid and not any(
            e.event == "recording_" + report.recording_status for e in ticket.timeline):  # Twilio's retries
        events.append(("recording_" + report.recording_status, {}))
    has_message = ticket.recording_sid is not None and (ticket.recording_seconds or 0) >= min_seconds
    if has_message and ticket.kind == "missed_call":
        ticket.kind = box.kind
        ticket.priority = priority_for(box, ticket.client)
    if report.transcript_status == "completed" and report.transcript and ticket.transcript != report.transcript:
        ticket.transcript = report.transcript[:20000]
        events.append(("transcript", {"words": len(ticket.transcript.split())}))
    elif report.transcript_status == "failed" and not any(e.event == "transcript_failed" for e in ticket.timeline):
        events.append(("transcript_failed", {}))
    return events


def _another_recording(ticket: Ticket, recording_sid: str | None) -> bool:
    return bool(recording_sid and ticket.recording_sid and recording_sid != ticket.recording_sid)


def _noted(ticket: Ticket, event: str, recording_sid: str) -> bool:
    return any(e.event == event and (e.detail or {}).get("sid") == recording_sid for e in ticket.timeline)
