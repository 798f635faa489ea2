"""Sending claimed pages through the carrier, exactly once each, and following their delivery.

A ``Page`` row moves ``claimed -> sending -> sent | failed``. Only the process that
inserted it already ``sending`` (an escalation step), or whose ``UPDATE ... WHERE
state = 'claimed'`` matched, or that took over a dead sender's row (``notification.recovery``)
may call the carrier, so duplicate jobs and concurrent workers cannot send twice.
Its RQ jobs are ``send_page`` and ``check_delivery``.

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
``sending`` page whose sender is dead (``notification.recovery``, then ``resume`` here);
``check``, scheduled at claim time for the delivery deadline, is the last guard: it
sends a ``claimed`` page and reconciles a ``sending`` one, or fails it and escalates.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from core.db import get_locked
from dispatch import jobs
from dispatch.notification.carrier import FINAL_RANK, DeliveryError, DeliveryReport, DeliveryState, Sent
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

RETRY_SECONDS = (5, 20, 60)  # after the 1st, 2nd, 3rd failed attempt; then the page is failed
REACHED_NOBODY = tuple(s.value for s in DeliveryState if s.reached_nobody)
EVENTS = {"page": "page_sent", "ack_notice": "notice_sent", "final": "final_notice_sent", "bridge": "callback_call",
          "security_notice": "security_notice_sent", "transcript": "transcript_sent", "digest": "digest_sent"}
_warned_no_base = False

# What to do when a page of a kind reached nobody: the composition root hands in the
# escalation's rule for policy pages (``when_unreached``), so that this package need not know it.
_unreached: dict[str, Callable[[Runtime, Page, str], None]] = {}
_unreached_whatever_status: set[str] = set()


def when_unreached(kind: str, handler: Callable[[Runtime, Page, str], None], only_while_new: bool = True) -> None:
    """Have ``handler(runtime, page, reason)`` run when a page of ``kind`` reached nobody (by default only
    while its ticket is still ``new``: a policy step's page matters no more once someone took the ticket)."""
    _unreached[kind] = handler
    if not only_while_new:
        _unreached_whatever_status.add(kind)


def _reached_nobody(runtime: Runtime, page: Page, reason: str) -> None:
    handler = _unreached.get(page.kind)
    if handler is not None:
        handler(runtime, page, reason)


def _warn_once_without_public_address() -> None:
    global _warned_no_base
    if not _warned_no_base:
        _warned_no_base = True
        log.warning("PUBLIC_BASE_URL is not set: pages go out without status callbacks, so undelivered "
                    "messages are not noticed, and voice pages cannot be placed")


def send_page(page_id: int) -> None:
    """Job: send a claimed page (a retry after a transient error, or a CALL bridge)."""
    send(current(), page_id)


def check_delivery(page_id: int) -> None:
    """Job: a page's delivery deadline; not delivered by now counts as failed."""
    check(current(), page_id)


def send(runtime: Runtime, page_id: int) -> None:
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


def send_claimed(runtime: Runtime, page: Page) -> None:
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


def _request(runtime: Runtime, page: Page) -> Sent:
    links = runtime.links
    if page.channel == "sms":
        status_callback = links.sms_status(page.id)
        if status_callback is None:
            _warn_once_without_public_address()
        return runtime.carrier.send_sms(page.to, page.body, status_callback)
    bridge = page.kind == "bridge"
    url = links.bridge(page.id) if bridge else links.voice_page(page.id)
    if url is None:
        _warn_once_without_public_address()
        raise DeliveryError("voice pages need PUBLIC_BASE_URL for their TwiML", permanent=True)
    return runtime.carrier.place_call(page.to, url, links.bridge_status(page.id) if bridge
                                      else links.voice_page_status(page.id), machine_detection=True, timeout=30)


def _adopt_existing(runtime: Runtime, page: Page) -> bool:
    """A message an earlier, unanswered attempt created after all: take its SID instead of resending."""
    try:
        candidates = runtime.carrier.recent_sms(page.to)
    except DeliveryError:
        return False  # cannot tell: sending again risks a duplicate less than staying silent risks a miss
    with runtime.store.reading() as session:
        owned = set(session.scalars(select(Page.sid).where(Page.to == page.to, Page.sid.is_not(None))))
    for sid, body in candidates:
        if body == page.body and sid not in owned:
            record_sent(runtime, page.id, Sent(sid, DeliveryState.SENDING), adopted=True)
            return True
    return False


def record_sent(runtime: Runtime, page_id: int, sent: Sent, adopted: bool = False) -> None:
    now = runtime.now()
    with runtime.store.transaction() as session:
        page = get_locked(session, Page, page_id)  # a status callback may be folding in right now
        ticket = session.get(Ticket, page.ticket_id)
        page.sid = page.sid or sent.sid
        page.state, page.sent_at, page.error = "sent", now, None
        if sent.state.rank > page.delivery_rank:
            page.delivery, page.delivery_rank = sent.state.value, sent.state.rank
        add_event(ticket, EVENTS.get(page.kind, f"{page.kind}_sent"), now, staff=page.staff_id, channel=page.channel,
                  sid=page.sid, **({"adopted": True} if adopted else {}),
                  **({"to": page.staff_id} if page.kind == "security_notice" else {}))
        what = (format_number(runtime.config.ticket_prefix, ticket.id), page.kind.replace("_", " "),
                step_label(runtime.config, page.position if page.kind == "page" else None), page.staff_id,
                page.channel, page.sid)
    log.info("%s: %s%s sent to %s by %s (%s)", *what)


def step_label(config, position: int | None) -> str:
    """`` (step 2)``, `` (step 1, round 2)`` of a policy position; empty for anything else."""
    if position is None or not config.escalation:
        return ""
    rounds, index = divmod(position, len(config.escalation))
    return f" (step {index + 1}" + (f", round {rounds + 1})" if rounds else ")")


def _failed_attempt(runtime: Runtime, page: Page, exc: DeliveryError, now) -> None:
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
        jobs.enqueue(runtime, send_page, page.id, key=f"{page.id}-{page.attempts + 1}",
                     at=now + timedelta(seconds=delay))
    else:
        _reached_nobody(runtime, page, "permanent error" if exc.permanent else "carrier unreachable")


def update_status(runtime: Runtime, page_id: int, sid: str | None, report: DeliveryReport) -> None:
    """Fold a carrier status callback into the page; an earlier state never overwrites a later one.

    A page that reached nobody (failed, or answered by a machine) moves its ticket's escalation
    on at once.
    """
    now = runtime.now()
    unreached = False
    with runtime.store.transaction() as session:
        # Locked: the carrier reports "sent" and "delivered" close together; compared unlocked, the
        # later state could be overwritten by the earlier one, and each noted twice.
        page = get_locked(session, Page, page_id)
        if page is None or (sid and page.sid and page.sid != sid):
            return
        ticket = session.get(Ticket, page.ticket_id)
        if page.sid is None and sid:  # the callback outran the worker recording the REST answer
            page.sid = sid
            page.state = "sent" if page.state in ("claimed", "sending") else page.state
        machine = report.machine and page.answered_by is None
        if machine:
            page.answered_by = report.answered_by or "machine"
        if report.state.rank > page.delivery_rank:
            page.delivery, page.delivery_rank = report.state.value, report.state.rank
        elif not machine:
            return
        add_event(ticket, "delivery", now, staff=page.staff_id, channel=page.channel, status=report.detail,
                  state=report.state.value, **({"error_code": report.error_code} if report.error_code else {}),
                  **({"answered_by": report.answered_by} if report.answered_by else {}))
        unreached = (report.state.reached_nobody or machine) and (
            ticket.status == "new" or page.kind in _unreached_whatever_status)
    if unreached:
        _reached_nobody(runtime, page, f"answered by {report.answered_by}" if machine else report.detail)


def check(runtime: Runtime, page_id: int) -> None:
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
    if state != "sent" or page.channel != "sms" or runtime.links.sms_status(page_id) is None:
        return
    with runtime.store.transaction() as session:
        stuck = session.execute(update(Page).where(Page.id == page_id, Page.delivery_rank < FINAL_RANK)
                                .values(delivery=DeliveryState.FAILED_TEMPORARILY.value, delivery_rank=FINAL_RANK,
                                        error="not delivered by the deadline")).rowcount
        ticket = session.get(Ticket, page.ticket_id)
        if stuck:
            add_event(ticket, "delivery_timeout", now, staff=page.staff_id, channel=page.channel, sid=page.sid,
                      minutes=runtime.config.delivery_deadline_minutes)
        unreached = stuck and ticket.status == "new"
    if unreached:
        _reached_nobody(runtime, page, "not delivered by the deadline")


def resume(runtime: Runtime, page: Page) -> None:
    """Finish a page whose sender died mid-request; this process has just taken it over (still ``sending``).

    An SMS is adopted if the carrier has it, else sent now. A call cannot be matched to
    an earlier request, so it counts as failed and the policy moves on.
    """
    if page.channel == "sms":
        send_claimed(runtime, page)
    else:
        _lost(runtime, page, runtime.now())


def _lost(runtime: Runtime, page: Page, now) -> None:
    """A ``sending`` page that nobody will finish: fail it and, for a policy step, escalate."""
    _fail(runtime, page, now, "sending", "the sending worker stopped", "lost")


def not_acknowledged_on_the_call(runtime: Runtime, page: Page) -> None:
    """A voice page picked up, played until it gave up, and no key pressed: it reached nobody, as
    the person is told ("it goes on to the next person"), so the step may move on."""
    _fail(runtime, page, runtime.now(), "sent", "answered, no key pressed", "no key pressed on the call")


def _fail(runtime: Runtime, page: Page, now, from_state: str, error: str, reason: str) -> None:
    """Fail ``page`` if it is still ``from_state``, note why, and say it reached nobody."""
    with runtime.store.transaction() as session:
        won = session.execute(update(Page).where(Page.id == page.id, Page.state == from_state)
                              .values(state="failed", error=error)).rowcount
        if won:
            add_event(session.get(Ticket, page.ticket_id), "page_failed", now, staff=page.staff_id,
                      channel=page.channel, error=error, permanent=False)
    if won:
        _reached_nobody(runtime, page, reason)
