"""Technicians' SMS replies: ACK, RES, ESC, CALL, WHO, HELP, with or without a ticket number.

``handle`` does only quick database work and returns the reply to put in the TwiML;
sending to other people (who took it, the next step, the CALL bridge) is queued, through the
outbox: with Redis away it waits for Redis, and is never lost after the reply promised it.
The carrier's own keywords (STOP, START, ...) never reach here: its adapter answers them.
A state-changing reply (ACK, RES, ESC, CALL) acts once per MessageSid: Twilio delivering
the same message again gets the first delivery's answer and changes nothing.

A technician acts only on tickets paged to them (a stolen or borrowed staff phone reaches
no other ticket); managers, the policy's last step, act on any. CALL rings only whom
``bridging`` allows, and says why not otherwise.
"""
from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

import redis
from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

import voice_prompts
from core.config import Staff
from dispatch import jobs, oncall
from dispatch.escalation import bridging, page_text, responses
from dispatch.escalation.models import SmsReply
from dispatch.notification import delivery, gsm7
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.tickets.numbers import format_number, parse_number
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

COMMANDS = ("ACK", "RES", "ESC", "CALL", "WHO", "HELP")
HELP_REPLIES_PER_HOUR = 3
QUOTES = "'\"\u2018\u2019\u201c\u201d"  # straight and curly: phones type the curly ones


@dataclass(frozen=True)
class Command:
    word: str
    ticket_id: int | None


def parse(body: str, prefix: str) -> Command | None:
    """A ``Command``, or None for anything else."""
    text = (body or "").strip().strip(QUOTES).rstrip(".!?").strip().strip(QUOTES)
    match = re.fullmatch(r"([A-Za-z]+)[\s,:;#-]*(.*)", text, re.DOTALL)
    if not match:
        return None
    word, rest = match.group(1).upper(), match.group(2).strip()
    if word not in COMMANDS:
        return None
    if not rest:
        return Command(word, None)
    number = parse_number(rest, prefix)
    return Command(word, number) if number is not None and word not in ("WHO", "HELP") else None


def _say(key: str, **values) -> str:
    return gsm7.gsm7(voice_prompts.say(key, **values))


def handle(runtime: Runtime, staff: Staff, body: str, message_sid: str) -> str | None:
    """The reply to ``body`` from staff member ``staff``, or None for no reply."""
    config = runtime.config
    command = parse(body, config.ticket_prefix)
    if command is None:
        return _limited_help(runtime, staff)
    _forget_help(runtime, staff)  # a command was understood: the next slip gets help again
    if command.word == "HELP":
        return _say("sms_reply_help")
    if command.word == "WHO":
        return _who(runtime)
    ticket_id = command.ticket_id or _newest_open_page(runtime, staff.id, unacknowledged_first=command.word == "ACK")
    if ticket_id is None:
        return _say("sms_reply_no_page")
    number = format_number(config.ticket_prefix, ticket_id)
    try:
        with runtime.store.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                return _say("sms_reply_no_ticket", given=number)
            if not may_act(session, config, staff, ticket_id):
                add_event(ticket, "reply_refused", runtime.now(), by=staff.id, command=command.word,
                          reason="not paged to them")
                return _say("sms_reply_not_yours", number=number, command=command.word)
            if message_sid:
                seen = session.get(SmsReply, message_sid)
                if seen is not None:
                    return _repeated(seen)
                session.add(SmsReply(message_sid=message_sid, ticket_id=ticket_id, staff_id=staff.id,
                                     command=command.word, received_at=runtime.now()))
            add_event(ticket, "reply", runtime.now(), by=staff.id, command=command.word, message_sid=message_sid)
    except IntegrityError:
        # The same message, delivered again, was stored by a concurrent request a moment ago.
        with runtime.store.transaction() as session:
            return _repeated(session.get(SmsReply, message_sid))
    try:
        answer = {"ACK": _ack, "RES": _resolve, "ESC": _escalate, "CALL": _call}[command.word](
            runtime, staff, ticket, message_sid)
    except Exception:
        _forget_reply(runtime, message_sid)  # it did not act: a redelivery may try again
        raise
    _remember_answer(runtime, message_sid, answer)
    return answer


PAGED_KINDS = ("page", "final")


def may_act(session, config, staff: Staff, ticket_id: int) -> bool:
    """Whether ``staff`` may act on the ticket: a manager always; anyone else once it was paged to them."""
    if staff.role == "manager" or staff.id in config.managers:
        return True
    return session.scalar(select(Page.id).where(Page.ticket_id == ticket_id, Page.staff_id == staff.id,
                                                Page.kind.in_(PAGED_KINDS)).limit(1)) is not None


def _repeated(seen: SmsReply | None) -> str | None:
    """A message already handled (Twilio delivered it again): act not again, answer as the first time."""
    if seen is None:  # the concurrent first delivery failed and let go of it
        return None
    log.info("SMS %s (%s) delivered again: not acted on twice", seen.message_sid, seen.command)
    return seen.answer  # None while the first delivery is still being handled: that one answers


def _remember_answer(runtime: Runtime, message_sid: str, answer: str | None) -> None:
    if not message_sid:
        return
    try:
        with runtime.store.transaction() as session:
            session.execute(update(SmsReply).where(SmsReply.message_sid == message_sid).values(answer=answer))
    except SQLAlchemyError as exc:  # it has acted; a redelivery just gets no answer
        log.error("could not store the answer to SMS %s: %s", message_sid, type(exc).__name__)


def _forget_reply(runtime: Runtime, message_sid: str) -> None:
    if not message_sid:
        return
    try:
        with runtime.store.transaction() as session:
            session.execute(delete(SmsReply).where(SmsReply.message_sid == message_sid))
    except SQLAlchemyError as exc:
        log.error("could not release SMS %s after a failure: %s", message_sid, type(exc).__name__)


def _ack(runtime: Runtime, staff: Staff, ticket: Ticket, _sid) -> str:
    number = format_number(runtime.config.ticket_prefix, ticket.id)
    outcome, name = responses.set_status(runtime, ticket.id, "acknowledged", staff.id, "sms")
    if outcome == "resolved":
        return _say("sms_reply_already_resolved", number=number)
    if outcome == "taken" and name != staff.name:
        return _say("sms_reply_ack_taken", number=number, name=name or voice_prompts.say("sms_reply_someone"))
    return _say("sms_reply_ack", number=number, callback=page_text.callback_phrase(ticket), digits=ticket.id)


def _resolve(runtime: Runtime, staff: Staff, ticket: Ticket, _sid) -> str:
    number = format_number(runtime.config.ticket_prefix, ticket.id)
    outcome, _ = responses.set_status(runtime, ticket.id, "resolved", staff.id, "sms")
    return _say("sms_reply_already_resolved" if outcome == "resolved" else "sms_reply_res", number=number)


def _escalate(runtime: Runtime, staff: Staff, ticket: Ticket, message_sid: str) -> str:
    """Page the next step now; a ticket this person had acknowledged goes back to ``new`` first."""
    number = format_number(runtime.config.ticket_prefix, ticket.id)
    outcome = responses.escalate_on_request(runtime, ticket.id, staff.id, message_sid or uuid.uuid4().hex)
    return _say({"resolved": "sms_reply_already_resolved", "done": "sms_reply_esc_done"}.get(outcome, "sms_reply_esc"),
                number=number)


def _call(runtime: Runtime, staff: Staff, ticket: Ticket, message_sid: str) -> str:
    """Ring the technician, then bridge them to the caller from the support number."""
    config = runtime.config
    number = format_number(config.ticket_prefix, ticket.id)
    refused = bridging.refusal(config, ticket)
    if refused is not None:
        log.warning("CALL on %s by %s refused: %s %s", number, staff.id, refused.reason, refused.detail)
        with runtime.store.transaction() as session:
            add_event(session.get(Ticket, ticket.id), "callback_refused", runtime.now(), by=staff.id,
                      reason=refused.reason, detail=refused.detail)
        return _refused_call(config, ticket, number, refused)
    ring = None
    try:
        with runtime.store.transaction() as session:
            key = f"bridge:{message_sid}"
            if session.scalar(select(Page.id).where(Page.ticket_id == ticket.id, Page.key == key)) is None:
                row = Page(ticket_id=ticket.id, key=key, kind="bridge", staff_id=staff.id, channel="voice",
                           to=staff.mobile, created_at=runtime.now())
                session.add(row)
                session.flush()
                add_event(session.get(Ticket, ticket.id), "callback_requested", runtime.now(), by=staff.id)
                ring = jobs.enqueue_after_commit(session, delivery.send_page, row.id, now=runtime.now(), new=True,
                                                 claim=True)
    except IntegrityError:
        ring = None  # the same message delivered twice: the first delivery rings
    if ring is not None:
        ring(runtime)
    return _say("sms_reply_call", number=number)


def _refused_call(config, ticket: Ticket, number: str, refused: bridging.Refusal) -> str:
    if refused.reason == "withheld":
        return _say("sms_reply_call_withheld", number=number)
    if refused.reason == "kind":
        return _say("sms_reply_call_not_a_caller", number=number, kind=ticket.kind.replace("_", " "))
    if refused.reason == "country":
        return _say("sms_reply_call_bad_country", number=number, detail=refused.detail, caller=ticket.caller,
                    allowed=", ".join(sorted(config.callable_countries)))
    return _say("sms_reply_call_bad_type", number=number, detail=refused.detail, caller=ticket.caller)


def _who(runtime: Runtime) -> str:
    now = runtime.now()
    who = oncall.who(runtime, now)
    until = who.until.astimezone(runtime.config.timezone)
    return _say("sms_reply_who", primary=who.primary.name,
                secondary=who.secondary.name if who.secondary else voice_prompts.say("sms_reply_nobody"),
                managers=", ".join(m.name for m in who.managers) or voice_prompts.say("sms_reply_nobody"),
                until=f"{until:%a %b} {until.day} {until:%H:%M}")


def _newest_open_page(runtime: Runtime, staff_id: str, unacknowledged_first: bool = False) -> int | None:
    """The ticket of the newest page to ``staff_id`` not resolved yet; for a bare ACK, the newest
    still unacknowledged first (a second ACK takes the next open ticket, not the same one again)."""
    order = [Page.id.desc()]
    if unacknowledged_first:
        order.insert(0, case((Ticket.status == "new", 0), else_=1))
    with runtime.store.reading() as session:
        return session.scalar(select(Page.ticket_id).join(Ticket, Ticket.id == Page.ticket_id).where(
            Page.staff_id == staff_id, Page.kind.in_(("page", "final")), Ticket.status != "resolved")
            .order_by(*order).limit(1))


def _forget_help(runtime: Runtime, staff: Staff) -> None:
    try:
        runtime.redis.delete(f"sms-help:{staff.id}")
    except (redis.RedisError, OSError):
        pass


def _limited_help(runtime: Runtime, staff: Staff) -> str | None:
    """Help for a reply we could not read, at most a few times an hour per person (never a reply loop)."""
    key = f"sms-help:{staff.id}"
    try:
        count = runtime.redis.incr(key)
        if count == 1:
            runtime.redis.expire(key, 3600)
    except (redis.RedisError, OSError):
        count = 1
    return _say("sms_reply_help") if count <= HELP_REPLIES_PER_HOUR else None
