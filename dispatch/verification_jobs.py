"""RQ jobs of caller verification: plain functions taking ids, safe to run twice."""
from __future__ import annotations

import logging
from core.runtime import current
from dispatch import callbacks, disclosures, rotation
from dispatch.carrier import DeliveryError
from dispatch.ticket_numbers import format_number
from dispatch.timeline import add_event
from dispatch.verification import LOCK_AFTER
from dispatch.verification_models import Disclosure, SecurityNotice
from voice_prompts import say

log = logging.getLogger(__name__)

def place_callback(callback_id: int) -> None:
    callbacks.place(current(), callback_id)


def expire_disclosure(disclosure_id: int) -> None:
    """Scheduled 24 hours after a secret is posted: destroy it if it is still there (and any other stale one)."""
    runtime = current()
    with runtime.store.transaction() as session:
        if session.get(Disclosure, disclosure_id) is not None:
            disclosures.expire_stale(session, runtime)


def send_security_notice(notice_id: int) -> None:
    """Text the primary on-call technician that a contact's PIN entry was locked."""
    runtime = current()
    config = runtime.config
    with runtime.store.transaction() as session:
        notice = session.get(SecurityNotice, notice_id)
        if notice is None or notice.sent_at is not None:
            return
    staff = rotation.who(runtime).primary  # with overrides, as the dispatcher pages
    with runtime.store.transaction() as session:
        notice = session.get(SecurityNotice, notice_id)
        until = notice.locked_until.astimezone(config.timezone).strftime("%H:%M %Z")
        body = say("verify_security_notice_sms", failures=LOCK_AFTER, contact=notice.contact.name,
                   client=notice.contact.client.name, until=until,
                   ticket=format_number(config.ticket_prefix, notice.ticket_id))
    try:
        sent = runtime.carrier.send_sms(staff.mobile, body, None)
    except DeliveryError as exc:
        with runtime.store.transaction() as session:
            notice = session.get(SecurityNotice, notice_id)
            add_event(notice.ticket, "security_notice_failed", runtime.now(), to=staff.id, reason=exc.detail)
        raise
    with runtime.store.transaction() as session:
        notice = session.get(SecurityNotice, notice_id)
        notice.sent_at, notice.sent_to, notice.sid = runtime.now(), staff.id, sent.sid
        add_event(notice.ticket, "security_notice_sent", notice.sent_at, to=staff.id, sid=sent.sid)
