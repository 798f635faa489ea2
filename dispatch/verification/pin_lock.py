"""The PIN lock: wrong PINs in a row for one contact, across calls, lock PIN entry; and the
hourly limits on wrong PINs per calling number and across the whole directory.

``LOCK_AFTER`` wrong PINs in a row lock PIN entry, each lock longer than the one before
(``LOCKED_FOR``: 30 minutes, then 2 hours); the third lock holds until a manager resets
it (``reset``: the API or the CLI). A lock that ended more than ``LOCKS_FORGOTTEN_AFTER``
before the next one is forgotten, so a contact who mistypes now and then never drifts
towards the third. Each lock texts the on-call technician one security notice (the job
``send_security_notice``; it goes out as a page of its own kind, so a job run twice or
retried sends it once); wrong PINs during a lock count towards nothing, so no second
notice comes until the lock is over.

Per lock, one contact: spraying one common PIN at every contact, or one number trying
contact after contact, is stopped by the hourly limits: ``PER_CALLER_PER_HOUR`` wrong PINs
from one calling number (withheld numbers share one count) and ``DIRECTORY_PER_HOUR``
across the directory; past either, PIN entry from that number (or from everywhere)
answers as a wrong PIN does until the hour has passed.

The contact's lock row is also what concurrent requests lock before counting failures
or callbacks, so two calls at once cannot both slip under a limit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from dispatch import jobs, oncall
from dispatch.directory.models import Contact
from dispatch.jobs.outbox import Handover
from dispatch.notification import delivery, gsm7
from dispatch.notification.models import Page
from dispatch.runtime import Runtime, current
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number
from dispatch.tickets.timeline import add_event
from dispatch.verification import pins
from dispatch.verification.models import PinFailure, PinLock, SecurityNotice
from voice_prompts import say

log = logging.getLogger(__name__)

LOCK_AFTER = 5
LOCKED_FOR = (timedelta(minutes=30), timedelta(hours=2))  # the first and second lock; the third needs a reset
RESET_NEEDED_AT = len(LOCKED_FOR) + 1
LOCKS_FORGOTTEN_AFTER = timedelta(hours=24)
PER_CALLER_PER_HOUR = 10
DIRECTORY_PER_HOUR = 30


def lock_row(session, contact_id: int) -> PinLock:
    """The contact's lock row, locked for the rest of the transaction (made on first use)."""
    query = select(PinLock).where(PinLock.contact_id == contact_id).with_for_update()
    row = session.scalar(query)
    if row is None:
        try:
            # Two calls for this contact may both find no row yet (PostgreSQL lets them read
            # side by side): the second insert fails, and that call locks the first one's row.
            with session.begin_nested():
                row = PinLock(contact_id=contact_id, consecutive_failures=0)
                session.add(row)
                session.flush()
        except IntegrityError:
            row = session.scalar(query)
    return row


def needs_reset(row: PinLock | None) -> bool:
    return row is not None and (row.locks or 0) >= RESET_NEEDED_AT


def is_locked(row: PinLock | None, now) -> bool:
    return needs_reset(row) or (row is not None and row.locked_until is not None and row.locked_until > now)


def succeeded(row: PinLock) -> None:
    """A right PIN: the count of wrong ones in a row starts again (the locks so far are not forgotten)."""
    row.consecutive_failures = 0


def clear(row: PinLock) -> None:
    """A new PIN was set, or a manager reset PIN entry: no count and no lock carry over."""
    row.consecutive_failures, row.locked_until, row.locks = 0, None, 0


def may_reset(config, staff_id) -> bool:
    """Whether ``staff_id`` may lift a PIN lock: a manager (by role, or as the policy's last level)."""
    person = config.staff.get(staff_id) if isinstance(staff_id, str) else None
    return person is not None and (person.role == "manager" or person.id in config.managers)


@dataclass(frozen=True)
class PinState:
    """What staff see of a contact's PIN: whether one is set, whether it is a short one from before
    today's minimum (the contact should be asked for a new one), and whether PIN entry is locked
    (``until`` when, or ``reset_needed``)."""

    has_pin: bool
    short: bool
    locked: bool
    reset_needed: bool
    until: datetime | None


def states(session, contacts: list[Contact], now) -> dict[int, PinState]:
    """The PIN state of each of ``contacts`` (one query for their locks)."""
    ids = [c.id for c in contacts]
    locks = {row.contact_id: row for row in session.scalars(select(PinLock).where(PinLock.contact_id.in_(ids)))
             } if ids else {}
    found = {}
    for contact in contacts:
        row, has_pin = locks.get(contact.id), contact.pin_hash is not None
        locked = is_locked(row, now)
        found[contact.id] = PinState(has_pin, has_pin and pins.is_short(contact.pin_digits), locked,
                                     needs_reset(row), row.locked_until if locked and not needs_reset(row) else None)
    return found


def reset(runtime: Runtime, contact_id: int, manager_id: str) -> tuple[str, bool] | None:
    """``manager_id`` (see :func:`may_reset`) lifts the contact's lock (any lock, the third included):
    the contact's name, and whether a lock was on (one whose time ran out was not); None when there
    is no such contact. The same from the console, the CLI and the API."""
    now = runtime.now()
    with runtime.store.transaction() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            return None
        name = contact.name
        row = lock_row(session, contact_id)
        was_locked = is_locked(row, now)
        clear(row)
    log.warning("PIN lock of contact %s reset by manager %s", contact_id, manager_id)
    return name, was_locked


def over_hourly_limit(session, now, caller: str) -> str | None:
    """Why PIN entry from ``caller`` is refused for now (too many wrong PINs in the last hour from that
    number, or across the directory), or None."""
    since = now - timedelta(hours=1)
    if session.scalar(select(func.count(PinFailure.id)).where(PinFailure.caller == caller,
                                                              PinFailure.at > since)) >= PER_CALLER_PER_HOUR:
        return "too many wrong PINs from this number"
    if session.scalar(select(func.count(PinFailure.id)).where(PinFailure.at > since)) >= DIRECTORY_PER_HOUR:
        return "too many wrong PINs across the directory"
    return None


def note_failure(session, now, caller: str, contact_id: int | None) -> None:
    """A wrong (or refused) PIN from ``caller``, for the hourly limits."""
    session.add(PinFailure(at=now, caller=caller[:20], contact_id=contact_id))


def count_failure(session, runtime: Runtime, row: PinLock, contact: Contact, ticket: Ticket) -> Handover | None:
    """One more wrong PIN in a row for ``contact``; at ``LOCK_AFTER`` lock PIN entry and queue the
    on-call technician's security notice. Returns the notice's hand-over to RQ (to call after the
    commit) if it locked, else None. During a lock nothing is counted: one notice per lock."""
    now = runtime.now()
    if is_locked(row, now):
        return None
    row.consecutive_failures += 1
    if row.consecutive_failures < LOCK_AFTER:
        return None
    if row.locked_until is not None and now - row.locked_until > LOCKS_FORGOTTEN_AFTER:
        row.locks = 0
    row.locks = (row.locks or 0) + 1
    row.locked_until = now + LOCKED_FOR[row.locks - 1] if row.locks < RESET_NEEDED_AT else now
    row.consecutive_failures = 0
    notice = SecurityNotice(contact_id=contact.id, ticket_id=ticket.id, locked_until=row.locked_until,
                            lock_number=row.locks, created_at=now)
    session.add(notice)
    session.flush()
    add_event(ticket, "pin_locked", now, contact=contact.name, failures=LOCK_AFTER, lock=row.locks,
              until=row.locked_until.isoformat() if row.locks < RESET_NEEDED_AT else None,
              reset_needed=row.locks >= RESET_NEEDED_AT)
    return jobs.enqueue_after_commit(session, send_security_notice, notice.id, now=now)


def send_security_notice(notice_id: int) -> None:
    """Job: text the primary on-call technician that a contact's PIN entry was locked."""
    runtime = current()
    config = runtime.config
    staff = oncall.who(runtime).primary  # with overrides, as the dispatcher pages
    key = f"security:{notice_id}"
    try:
        with runtime.store.transaction() as session:
            notice = session.get(SecurityNotice, notice_id)
            if notice is None:
                return
            page = session.scalar(select(Page).where(Page.ticket_id == notice.ticket_id, Page.key == key))
            if page is None:
                until = notice.locked_until.astimezone(config.timezone).strftime("%H:%M %Z")
                reset_needed = (notice.lock_number or 0) >= RESET_NEEDED_AT
                body = gsm7.gsm7(say("verify_security_notice_reset_sms" if reset_needed
                                     else "verify_security_notice_sms", failures=LOCK_AFTER,
                                     contact=notice.contact.name, client=notice.contact.client.name, until=until,
                                     locks=notice.lock_number,
                                     ticket=format_number(config.ticket_prefix, notice.ticket_id)))
                page = Page(ticket_id=notice.ticket_id, key=key, kind="security_notice", staff_id=staff.id,
                            channel="sms", to=staff.mobile, body=body, created_at=runtime.now())
                session.add(page)
                session.flush()
            page_id = page.id
    except IntegrityError:
        return  # the same job, run twice at once: the other run made the page and sends it
    delivery.send(runtime, page_id)
