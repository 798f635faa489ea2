"""A burst of emergencies reaches each person as one SMS, not one per ticket.

Anyone can dial the emergency extension, from as many numbers as they can spoof: a flood
of P1s must not bury the on-call phone under pages (nor make it hard to find the real
one). An escalation step's SMS to someone who was sent an emergency SMS (a page or a
digest) for another ticket in the last ``WINDOW`` is *held*: its row is kept, so the
ticket counts as paged to them (they may ACK it, and the policy goes on by its timers),
but nothing is sent. At the end of the window the job ``send_digest`` sends that person
one SMS naming every held ticket still unacknowledged: "3 new emergencies: CS-000124,
CS-000125, CS-000126. Reply ACK n for each." So each person gets at most one emergency
SMS a window, however many P1s arrive; the first of a burst is never delayed. Voice
pages are not held: a call is placed per ticket when its policy reaches a voice step.
The window is ``[security] page_burst_seconds`` (60; 0 sends every page on its own).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

import voice_prompts
from core.db import locking
from dispatch import jobs
from dispatch.notification import delivery, gsm7
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number
from dispatch.tickets.timeline import add_event

MAX_LISTED = 8  # ticket numbers in one digest; the rest are counted ("and 4 more")
SENT_STATES = ("claimed", "sending", "sent")


def hold(session, config, ticket_id: int, rows: list[Page], now: datetime) -> list[tuple[str, datetime]]:
    """Mark as held, before they are inserted, the SMS pages of ``rows`` whose person had an emergency
    SMS for another ticket within the window; returns the digests they wait for, (staff id, when)."""
    window = timedelta(seconds=config.page_burst_seconds)
    digests = []
    if not window:
        return digests
    for row in rows:
        if row.channel != "sms" or row.kind != "page":
            continue
        last = session.scalar(select(func.max(Page.created_at)).where(
            Page.staff_id == row.staff_id, Page.channel == "sms", Page.kind.in_(("page", "digest")),
            Page.ticket_id != ticket_id, Page.state.in_(SENT_STATES), Page.created_at > now - window))
        if last is not None:
            row.state, row.attempts, row.sender, row.sending_at = "held", 0, None, None
            row.error = f"held for the digest due {(last + window).isoformat()}"
            digests.append((row.staff_id, last + window))
    return digests


def schedule(runtime: Runtime, digests: list[tuple[str, datetime]]) -> None:
    """Queue each digest a page was just held for, at the end of its person's window (one job a window:
    its id names the person and the time)."""
    for staff_id, due in digests:
        jobs.enqueue(runtime, send_digest, staff_id, int(due.timestamp()), at=due)


def send_digest(staff_id: str, due: int) -> None:
    """Job: one SMS to ``staff_id`` naming the held pages' tickets still unacknowledged. Safe to run
    twice: the held pages are taken once, and the digest's row is claimed before it is sent."""
    runtime = current()
    config = runtime.config
    person = config.staff.get(staff_id)
    key = f"digest:{staff_id}:{due}"
    now = runtime.now()
    with runtime.store.transaction() as session:
        held = session.scalars(select(Page).where(Page.staff_id == staff_id, Page.state == "held")
                               .order_by(Page.ticket_id).with_for_update(**locking(Page))).all()
        tickets = {page.ticket_id: session.get(Ticket, page.ticket_id) for page in held}
        waiting = sorted(i for i, t in tickets.items() if t is not None and t.status == "new")
        for page in held:
            page.state = "bundled" if page.ticket_id in waiting else "skipped"
            page.error = "sent in a digest" if page.ticket_id in waiting else "acknowledged before the digest"
        digest = None
        if waiting and person is not None:
            numbers = [format_number(config.ticket_prefix, i) for i in waiting]
            listed = ", ".join(numbers[:MAX_LISTED]) + (
                voice_prompts.say("sms_burst_more", count=len(numbers) - MAX_LISTED)
                if len(numbers) > MAX_LISTED else "")
            body = voice_prompts.say("sms_burst" if len(waiting) > 1 else "sms_burst_one", count=len(waiting),
                                     numbers=listed, digits=waiting[0])
            digest = Page(ticket_id=waiting[0], key=key, kind="digest", staff_id=staff_id, channel="sms",
                          to=person.mobile, created_at=now, state="claimed", body=gsm7.gsm7(body))
            session.add(digest)
            session.flush()
            for ticket_id in waiting:
                add_event(tickets[ticket_id], "page_bundled", now, staff=staff_id, digest=digest.id,
                          tickets=numbers)
        else:
            digest = session.scalar(select(Page).where(Page.key == key, Page.state == "claimed"))  # a rerun
        digest_id = digest.id if digest is not None else None
    if digest_id is not None:
        delivery.send(runtime, digest_id)
