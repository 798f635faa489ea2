"""Sending claimed pages through the carrier, exactly once each, and following their delivery.

A ``Page`` row moves ``claimed -> sending -> sent | failed``. Only the process that
inserted it already ``sending`` (an escalation step), or whose ``UPDATE ... WHERE
state = 'claimed'`` matched, or that took over a dead sender's row (``dispatch.recovery``)
may call the carrier, so duplicate jobs and concurrent workers cannot send twice.

Errors, per ``DeliveryError``:
- permanent (invalid number, recipient opted out): never retried; the ticket's
  timeline says why and the escalation moves on at once (once no page of the step can
  still reach anyone: one manager's failure does not skip the others);
- transient with an answer (429, 5xx: Twilio created nothing): retried with backoff;
- no answer at all (time-out, dropped connection): the message may exist, so before
  sending again the retry lists the messages sent to that number and adopts one with
  the same body that no other page owns. Calls cannot be matched that way, so an
  unanswered call request is counted as failed and the escalation moves on: a voice
  page is delivered at most once, never twice.

A worker killed between claim and send leaves the row ``sending`` (or ``claimed``, when
a retry timer was lost). Within seconds another worker's housekeeping resumes a
``sending`` page whose sender is dead (``dispatch.recovery``, then ``resume`` here);
``check``, scheduled at claim time for the delivery deadline, is the last guard: it
sends a ``claimed`` page and reconciles a ``sending`` one, or fails it and escalates.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from core.db import get_locked
from core.models import Ticket
from dispatch import timers
from dispatch.carrier import DeliveryError, Sent
from dispatch.paging_models import Page
from dispatch.timeline import add_event

log = logging.getLogger(__name__)

RETRY_SECONDS = (5, 20, 60)  # after the 1st, 2nd, 3rd failed attempt; then the page is failed
# The carrier's statuses in the order they happen; a callback never moves a page backwards.
RANK = {"accepted": 1, "scheduled": 1, "queued": 2, "initiated": 3, "sending": 3, "ringing": 4, "sent": 4,
        "in-progress": 5, "answered": 5, "delivered": 6, "read": 7, "undelivered": 6, "failed": 6,
        "completed": 6, "busy": 6, "no-answer": 6, "canceled": 6}
FINAL_RANK = 6
NOT_REACHED = {"undelivered", "failed", "busy", "no-answer", "canceled"}
EVENTS = {"page": "page_sent", "ack_notice": "notice_sent", "final": "final_notice_sent", "bridge": "callback_call"}
_warned_no_base = False


def _public_base(runtime) -> str | None:
    global _warned_no_base
    base = runtime.settings.public_base_url
    if base is None and not _warned_no_base:
        _warned_no_base = True
        log.warning("PUBLIC_BASE_URL is not set: pages go out without status callbacks, so undelivered "
                    "messages are not noticed, and voice pages cannot be placed")
    return base


def is_machine(answered_by: str | None) -> bool:
    return bool(answered_by) and (answered_by.startswith("machine") or answered_by == "fax")


def send(runtime, page_id: int) -> None:
    """Send page ``page_id`` if it is still ``claimed``; otherwise someone else has (or had) it."""
    with runtime.store.transaction() as session:
        won = session.execute(update(Page).where(Page.id == page_id, Page.state == "claimed")
                              .values(state="sending", attempts=Page.attempts + 1, sender=runtime.process_name,
                                      sending_at=runtime.now())).rowcount
        if not won:
            return
        page = session.get(Page, page_id)
        ticket = session.get(Ticket, page.ticket_id)
        if page.kind == "page" and ticket.status != "new":
            page.state, page.error = "skipped", f"ticket {ticket.status} before sending"
            return
    send_claimed(runtime, page)


def send_claimed(runtime, page: Page) -> None:
    """Send ``page``, which this process has just moved (or inserted) to ``sending``."""
    if page.attempts > 1 and page.channel == "sms" and _adopt_existing(runtime, page):
        return
    now = runtime.now()
    try:
        sent = _request(runtime, page)
    except DeliveryError as exc:
        _failed_attempt(runtime, page, exc, now)
    else:
        record_sent(runtime, page.id, sent)


def _request(runtime, page: Page) -> Sent:
    base = _public_base(runtime)
    if page.channel == "sms":
        return runtime.carrier.send_sms(page.to, page.body, f"{base}/sms/status?page={page.id}" if base else None)
    if base is None:
        raise DeliveryError("voice pages need PUBLIC_BASE_URL for their TwiML", permanent=True)
    route = "bridge" if page.kind == "bridge" else "page"
    return runtime.carrier.place_call(page.to, f"{base}/voice/{route}?page={page.id}",
                                      f"{base}/voice/{route}/status?page={page.id}",
                                      machine_detection=True, timeout=30)


def _adopt_existing(runtime, page: Page) -> bool:
    """A message an earlier, unanswered attempt created after all: take its SID instead of resending."""
    try:
        candidates = runtime.carrier.recent_sms(page.to)
    except DeliveryError:
        return False  # cannot tell: sending again risks a duplicate less than staying silent risks a miss
    with runtime.store.reading() as session:
        owned = set(session.scalars(select(Page.sid).where(Page.to == page.to, Page.sid.is_not(None))))
    for sid, body in candidates:
        if body == page.body and sid not in owned:
            record_sent(runtime, page.id, Sent(sid, "queued"), adopted=True)
            return True
    return False


def record_sent(runtime, page_id: int, sent: Sent, adopted: bool = False) -> None:
    now = runtime.now()
    with runtime.store.transaction() as session:
        page = get_locked(session, Page, page_id)  # a status callback may be folding in right now
        ticket = session.get(Ticket, page.ticket_id)
        page.sid = page.sid or sent.sid
        page.state, page.sent_at, page.error = "sent", now, None
        if RANK.get(sent.status, 0) > page.delivery_rank:
            page.delivery, page.delivery_rank = sent.status, RANK[sent.status]
        add_event(ticket, EVENTS[page.kind], now, staff=page.staff_id, channel=page.channel, sid=page.sid,
                  **({"adopted": True} if adopted else {}))


def _failed_attempt(runtime, page: Page, exc: DeliveryError, now) -> None:
    unanswered = exc.status is None and not exc.permanent
    retryable = not exc.permanent and page.attempts <= len(RETRY_SECONDS) and not (
        unanswered and page.channel == "voice")
    with runtime.store.transaction() as session:
        row = get_locked(session, Page, page.id)
        ticket = session.get(Ticket, page.ticket_id)
        row.error = exc.detail[:300]
        if unanswered:
            row.unanswered_at = now
        if retryable:
            row.state = "claimed"
            delay = RETRY_SECONDS[page.attempts - 1]
            add_event(ticket, "page_retry", now, staff=page.staff_id, channel=page.channel, error=exc.detail,
                      attempt=page.attempts, retry_in_seconds=delay)
        else:
            row.state = "failed"
            add_event(ticket, "page_failed", now, staff=page.staff_id, channel=page.channel, error=exc.detail,
                      permanent=exc.permanent, attempts=page.attempts)
    log.warning("page %s to %s: %s (%s)", page.id, page.staff_id, exc.detail,
                "will retry" if retryable else "gave up")
    if retryable:
        timers.at(runtime, now + timedelta(seconds=delay), "send_page", page.id,
                  job_id=f"send-page-{page.id}-{page.attempts + 1}")
    elif page.kind == "page":
        escalate_after(runtime, page, "permanent error" if exc.permanent else "carrier unreachable")


def escalate_after(runtime, page: Page, reason: str) -> None:
    """``page`` reached nobody: run the next step now, unless another page of its step (the
    managers, say) may still reach someone. Each page that fails commits before it looks, so the
    last of a step's pages to fail always sees the others failed."""
    with runtime.store.reading() as session:
        others_alive = session.scalar(select(Page.id).where(
            Page.ticket_id == page.ticket_id, Page.kind == "page", Page.position == page.position,
            Page.id != page.id, Page.state.in_(("claimed", "sending", "sent")), Page.answered_by.is_(None),
            or_(Page.delivery.is_(None), Page.delivery.not_in(NOT_REACHED))).limit(1))
    if others_alive is not None:
        return
    timers.now(runtime, "escalate_now", page.ticket_id, page.position + 1, f"{page.staff_id}: {reason}",
               job_id=f"escalate-{page.ticket_id}-{page.position + 1}-now")


def update_status(runtime, page_id: int, sid: str | None, status: str, *, error_code: str | None = None,
                  answered_by: str | None = None) -> None:
    """Fold a carrier status callback into the page; an earlier status never overwrites a later one.

    A page that reached nobody (undelivered, failed, busy, no-answer, an answering
    machine) moves its ticket's escalation on at once.
    """
    now = runtime.now()
    escalate = False
    with runtime.store.transaction() as session:
        # Locked: Twilio sends "sent" and "delivered" close together; compared unlocked, the
        # later status could be overwritten by the earlier one, and each noted twice.
        page = get_locked(session, Page, page_id)
        if page is None or (sid and page.sid and page.sid != sid):
            return
        ticket = session.get(Ticket, page.ticket_id)
        if page.sid is None and sid:  # the callback outran the worker recording the REST answer
            page.sid = sid
            page.state = "sent" if page.state in ("claimed", "sending") else page.state
        machine = is_machine(answered_by) and page.answered_by is None
        if machine:
            page.answered_by = answered_by
        rank = RANK.get(status, 0)
        if rank > page.delivery_rank:
            page.delivery, page.delivery_rank = status, rank
        elif not machine:
            return
        add_event(ticket, "delivery", now, staff=page.staff_id, channel=page.channel, status=status,
                  **({"error_code": error_code} if error_code else {}),
                  **({"answered_by": answered_by} if answered_by else {}))
        escalate = page.kind == "page" and ticket.status == "new" and (status in NOT_REACHED or machine)
    if escalate:
        escalate_after(runtime, page, f"answered by {answered_by}" if machine else status)


def check(runtime, page_id: int) -> None:
    """The delivery deadline of a page: send it if a dead worker never did, fail it if it is stuck."""
    now = runtime.now()
    with runtime.store.reading() as session:
        page = session.get(Page, page_id)
        if page is None:
            return
        state = page.state
    if state == "claimed":
        send(runtime, page_id)
        return
    if state == "sending":  # the worker sending it died mid-request
        if page.channel == "sms" and _adopt_existing(runtime, page):
            state = "sent"
        else:
            _lost(runtime, page, now)
            return
    if state != "sent" or page.channel != "sms" or runtime.settings.public_base_url is None:
        return
    with runtime.store.transaction() as session:
        stuck = session.execute(update(Page).where(Page.id == page_id, Page.delivery_rank < FINAL_RANK)
                                .values(delivery="failed", delivery_rank=FINAL_RANK,
                                        error="not delivered by the deadline")).rowcount
        ticket = session.get(Ticket, page.ticket_id)
        if stuck:
            add_event(ticket, "delivery_timeout", now, staff=page.staff_id, channel=page.channel, sid=page.sid,
                      minutes=runtime.config.delivery_deadline_minutes)
        escalate = stuck and page.kind == "page" and ticket.status == "new"
    if escalate:
        escalate_after(runtime, page, "not delivered by the deadline")


def resume(runtime, page: Page) -> None:
    """Finish a page whose sender died mid-request; this process has just taken it over (still ``sending``).

    An SMS is adopted if the carrier has it, else sent now. A call cannot be matched to
    an earlier request, so it counts as failed and the policy moves on.
    """
    if page.channel == "sms":
        send_claimed(runtime, page)
    else:
        _lost(runtime, page, runtime.now())


def _lost(runtime, page: Page, now) -> None:
    """A ``sending`` page that nobody will finish: fail it and, for a policy step, escalate."""
    _fail(runtime, page, now, "sending", "the sending worker stopped", "lost")


def not_acknowledged_on_the_call(runtime, page: Page) -> None:
    """A voice page picked up, played until it gave up, and no key pressed: it reached nobody, as
    the person is told ("it goes on to the next person"), so the step may move on."""
    _fail(runtime, page, runtime.now(), "sent", "answered, no key pressed", "no key pressed on the call")


def _fail(runtime, page: Page, now, from_state: str, error: str, reason: str) -> None:
    """Fail ``page`` if it is still ``from_state``, note why, and escalate once no page of its step
    can reach anyone (:func:`escalate_after`)."""
    with runtime.store.transaction() as session:
        won = session.execute(update(Page).where(Page.id == page.id, Page.state == from_state)
                              .values(state="failed", error=error)).rowcount
        if won:
            add_event(session.get(Ticket, page.ticket_id), "page_failed", now, staff=page.staff_id,
                      channel=page.channel, error=error, permanent=False)
    if won and page.kind == "page":
        escalate_after(runtime, page, reason)
