"""Technicians' SMS replies: ACK, RES, ESC, CALL, P1-P4, WAIT, WHO, HELP, with or without a ticket number;
4 and 6 as on the voice page (acknowledge, resolve).

``handle`` does only quick database work and returns the reply to put in the TwiML;
sending to other people (who took it, the next step, the CALL bridge) is queued, through the
outbox: with Redis away it waits for Redis, and is never lost after the reply promised it.
The carrier's own keywords (STOP, START, ...) never reach here: its adapter answers them.
A state-changing reply (ACK, RES, ESC, CALL, P1-P4, WAIT) acts once per MessageSid: Twilio
delivering the same message again gets the first delivery's answer and changes nothing.

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
from core import phones
from core.config import Staff
from dispatch import oncall
from dispatch.escalation import bridge, bridging, page_text, responses
from dispatch.escalation.models import Escalation, SmsReply
from dispatch.followup import actions, lifecycle, texts
from dispatch.notification import gsm7
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.tickets.models import CLOSED_STATUSES, Ticket
from dispatch.tickets.numbers import format_number, parse_number
from dispatch.tickets.timeline import add_event

log = logging.getLogger(__name__)

PRIORITY_COMMANDS = ("P1", "P2", "P3", "P4")
COMMANDS = ("ACK", "RES", "ESC", "CALL", "WAIT", *PRIORITY_COMMANDS, "WHO", "HELP")
KEYS = {"4": "ACK", "6": "RES"}  # the voice page's keys, typed
# Texts to a technician that name a ticket and invite a reply: they may act on it, without giving its
# number when it is their newest.
PAGE_KINDS = ("page", "final", "sla_warning", "sla_breach", "reopen_notice", "reply_notice")
HELP_REPLIES_PER_HOUR = 3
QUOTES = "'\"\u2018\u2019\u201c\u201d"  # straight and curly: phones type the curly ones


@dataclass(frozen=True)
class Command:
    word: str
    ticket_id: int | None


def parse(body: str, prefix: str) -> Command | None:
    """A ``Command``, or None for anything else."""
    text = (body or "").strip().strip(QUOTES).rstrip(".!?").strip().strip(QUOTES)
    match = re.fullmatch(r"([Pp][1-4](?![0-9])|[A-Za-z]+)[\s,:;#-]*(.*)", text, re.DOTALL)
    key = re.fullmatch(r"([46])(?:[\s,:;#-]+(.*))?", text, re.DOTALL)
    if key:
        word, rest = KEYS[key.group(1)], (key.group(2) or "").strip()
    elif match:
        word, rest = match.group(1).upper(), match.group(2).strip()
    else:
        return None
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
        log.info("SMS from %s: not a command", staff.id)
        return _limited_help(runtime, staff)
    _forget_help(runtime, staff)  # a command was understood: the next slip gets help again
    if command.word in ("HELP", "WHO"):
        log.info("SMS from %s: %s", staff.id, command.word)
        return _say("sms_reply_help") if command.word == "HELP" else _who(runtime)
    ticket_id = command.ticket_id or _newest_open_page(runtime, staff.id, unacknowledged_first=command.word == "ACK")
    if ticket_id is None:
        log.info("SMS from %s: %s, but no open page of theirs", staff.id, command.word)
        return _say("sms_reply_no_page")
    number = format_number(config.ticket_prefix, ticket_id)
    try:
        with runtime.store.transaction() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                log.info("SMS from %s: %s %s, no such ticket", staff.id, command.word, number)
                return _say("sms_reply_no_ticket", given=number)
            if not may_act(session, config, staff, ticket):
                add_event(ticket, "reply_refused", runtime.now(), by=staff.id, command=command.word,
                          reason="neither theirs nor paged to them")
                return _say("sms_reply_not_yours", number=number, command=command.word)
            escalation = session.get(Escalation, ticket_id)
            log.info("SMS from %s: %s %s (%s, escalation %s)", staff.id, command.word, number, ticket.status,
                     f"paged through step {escalation.next_position}" if escalation else "not started")
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
        act = _set_priority if command.word in PRIORITY_COMMANDS else {
            "ACK": _ack, "RES": _resolve, "ESC": _escalate, "CALL": _call, "WAIT": _wait}[command.word]
        answer = act(runtime, staff, ticket, message_sid, **(
            {"priority": command.word} if command.word in PRIORITY_COMMANDS else {}))
    except Exception:
        _forget_reply(runtime, message_sid)  # it did not act: a redelivery may try again
        raise
    _remember_answer(runtime, message_sid, answer)
    return answer


def may_act(session, config, staff: Staff, ticket: Ticket) -> bool:
    """Whether ``staff`` may act on the ticket by text: a manager always; anyone else on a ticket they
    own (given to them in the console, the API or the CLI) or once it was paged to them (a page, a
    service-level warning, a reopening or a caller's reply). A text proves only which phone sent it,
    so it never claims someone else's ticket."""
    if staff.role == "manager" or staff.id in config.managers or ticket.owner == staff.id:
        return True
    return session.scalar(select(Page.id).where(Page.ticket_id == ticket.id, Page.staff_id == staff.id,
                                                Page.kind.in_(PAGE_KINDS)).limit(1)) is not None


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
    """Page the next step now, and say who that is; a ticket this person had acknowledged goes back
    to ``new`` first: it is no longer theirs."""
    number = format_number(runtime.config.ticket_prefix, ticket.id)
    done = responses.escalate_on_request(runtime, ticket.id, staff.id, message_sid or uuid.uuid4().hex, "sms")
    if done.only_you:
        return _say("sms_reply_esc_you", number=number, digits=ticket.id)  # the policy's next step is theirs
    names = ", ".join(p.name for p in done.others) or voice_prompts.say("sms_reply_esc_next_step")
    return _say({"resolved": "sms_reply_already_resolved", "done": "sms_reply_esc_done"}.get(done.outcome,
                "sms_reply_esc"), number=number, next=names)


def _call(runtime: Runtime, staff: Staff, ticket: Ticket, message_sid: str) -> str:
    """Ring the technician, then bridge them to the caller from the support number."""
    config = runtime.config
    number = format_number(config.ticket_prefix, ticket.id)
    refused = bridge.ring_technician(runtime, ticket.id, staff, message_sid or uuid.uuid4().hex, via="sms")
    if refused is not None:
        log.warning("CALL on %s by %s refused: %s %s", number, staff.id, refused.reason, refused.detail)
        return _refused_call(config, ticket, number, refused)
    return _say("sms_reply_call", number=number)


def _set_priority(runtime: Runtime, staff: Staff, ticket: Ticket, _sid, priority: str) -> str:
    """P1-P4: the ticket's new priority; its service targets follow, recomputed from its creation."""
    config = runtime.config
    number = format_number(config.ticket_prefix, ticket.id)
    try:
        changed = actions.act(runtime, ticket.id, lifecycle.set_priority, priority, staff.id, "sms")
    except actions.Refused:
        return _say("sms_reply_closed", number=number)
    target = config.sla.get(priority)
    due = ""
    now = runtime.now()
    if changed.response_due is not None:
        due = voice_prompts.say("sms_reply_priority_due", response=texts.local_time(config, changed.response_due, now),
                                resolution=texts.local_time(config, changed.resolution_due, now)
                                if changed.resolution_due else "-")
    elif changed.resolution_due is not None:
        due = voice_prompts.say("sms_reply_priority_resolution_due",
                                resolution=texts.local_time(config, changed.resolution_due, now))
    return _say("sms_reply_priority", number=number, priority=priority, name=target.name if target else priority,
                due=due)


def _wait(runtime: Runtime, staff: Staff, ticket: Ticket, _sid) -> str:
    """WAIT: the ticket waits on its caller, who is reminded, then it is resolved for no contact."""
    config = runtime.config
    number = format_number(config.ticket_prefix, ticket.id)
    try:
        actions.act(runtime, ticket.id, lifecycle.wait, staff.id, "sms")
    except actions.Refused:
        with runtime.store.reading() as session:
            status = session.get(Ticket, ticket.id).status
        return _say({"waiting": "sms_reply_already_waiting", "closed": "sms_reply_closed"}.get(
            status, "sms_reply_already_resolved"), number=number)
    if ticket.caller == phones.ANONYMOUS:
        return _say("sms_reply_wait_anonymous", number=number)
    return _say("sms_reply_wait", number=number, reminders=config.followup.waiting_reminders,
                every=texts.length(config.followup.reminder_every))


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
    nobody = voice_prompts.say("sms_reply_nobody")

    def person(staff: Staff) -> str:
        return voice_prompts.say("sms_reply_person", name=staff.name, mobile=staff.mobile)

    return _say("sms_reply_who", primary=person(who.primary),
                secondary=person(who.secondary) if who.secondary else nobody,
                managers=", ".join(person(m) for m in who.managers) or nobody,
                until=f"{until:%a %b} {until.day} {until:%H:%M}")


def _newest_open_page(runtime: Runtime, staff_id: str, unacknowledged_first: bool = False) -> int | None:
    """The ticket of the newest page to ``staff_id`` not resolved yet; for a bare ACK, the newest
    still unacknowledged first (a second ACK takes the next open ticket, not the same one again)."""
    order = [Page.id.desc()]
    if unacknowledged_first:
        order.insert(0, case((Ticket.status == "new", 0), else_=1))
    with runtime.store.reading() as session:
        return session.scalar(select(Page.ticket_id).join(Ticket, Ticket.id == Page.ticket_id).where(
            Page.staff_id == staff_id, Page.kind.in_(PAGE_KINDS), Ticket.status.not_in(CLOSED_STATUSES))
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
