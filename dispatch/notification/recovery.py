"""Pages a worker left ``sending`` when it died, taken over by another worker's housekeeping.

An SMS is adopted if the carrier has it (the request got through before the worker
died), else sent now, once; a voice page cannot be matched like that, so it counts as
failed and the policy moves on (delivered at most once, never twice). A page is only
taken over once it has been ``sending`` longer than the carrier's request timeout plus a
margin, so that a live sender whose liveness key went missing (Redis restarted empty)
has finished its own request by then.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from dispatch.jobs.recovery import is_alive
from dispatch.notification import delivery
from dispatch.notification.carrier import REQUEST_TIMEOUT_SECONDS
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

SENDING_GRACE = timedelta(seconds=REQUEST_TIMEOUT_SECONDS + 5)


def resume_pages(runtime: Runtime) -> int:
    """Take over pages left ``sending`` by a worker that is no longer alive; returns how many."""
    now = runtime.now()
    with runtime.store.reading() as session:  # every 2 s in every worker: a read takes no write lock
        stale = session.scalars(select(Page).where(Page.state == "sending", Page.sending_at < now - SENDING_GRACE)
                                .order_by(Page.id)).all()
    resumed = 0
    for page in stale:
        if is_alive(runtime, page.sender):
            continue  # slow, not dead: its own request timeout will settle it
        with runtime.store.transaction() as session:
            won = session.execute(update(Page).where(
                Page.id == page.id, Page.state == "sending", Page.attempts == page.attempts).values(
                attempts=page.attempts + 1, sender=runtime.process_name, sending_at=now)).rowcount
            if won:
                add_event(session.get(Ticket, page.ticket_id), "page_resumed", now, staff=page.staff_id,
                          channel=page.channel, stopped_worker=page.sender)
        if not won:
            continue
        resumed += 1
        log.warning("page %s was being sent by worker %s, which stopped: resuming it", page.id, page.sender)
        page.attempts += 1
        delivery.resume(runtime, page)
    return resumed
