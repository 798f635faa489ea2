"""``flask --app wsgi simulate`` and ``flask --app wsgi sms``: the support line from the terminal,
through the stand-in's phone.

No Twilio account is needed: calls and texts run against the app in-process, with
webhooks signed as Twilio signs them, and the stand-in's TwiML interpreter (``phone``)
plays them. What Twilio would do on its own is done too: a hang-up (Ctrl-C, or the end
of the input) sends the call's status callback, a desk phone that answers hears the
screening, and a call the app places through the console outbox (the dual callback)
rings "your phone" here.
"""
from __future__ import annotations

import dataclasses
import secrets
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime

import click
import redis
from flask.cli import with_appcontext
from sqlalchemy import select

from core.clock import FixedClock
from dispatch.jobs import recovery
from dispatch.notification.console import ConsoleMessage
from dispatch.notification.models import Page
from dispatch.runtime import Runtime
from dispatch.tickets.models import Ticket
from dispatch.verification.models import Callback
from fake_twilio.phone import ACCOUNT_SID, PhoneCall, Webhooks
from fake_twilio.server import FakeTwilio
from ivr import create_app
from ivr.context import runtime as _runtime
from ivr.views import ticket_dict

PAGE_WAIT_SECONDS = 5  # how long to wait for a running worker to send the page (or place the callback)
HUNG_UP = (click.exceptions.Abort, KeyboardInterrupt, EOFError)  # click turns Ctrl-C and EOF into Abort


def _signed(base: Runtime, clock) -> Webhooks:
    """Webhooks into an app built around ``base`` (on ``clock``), signed with a token of its own, as
    Twilio would sign them: the real auth token, if any, is neither needed nor used."""
    token = secrets.token_hex(16)
    settings = dataclasses.replace(base.settings, twilio_auth_token=token, public_base_url=None)
    app = create_app(dataclasses.replace(base, settings=settings, clock=clock))
    return Webhooks("http://localhost", token, client=app.test_client())


@click.command("simulate")
@with_appcontext
@click.option("--caller", default="+12705550199", show_default=True, help="the number you are calling from")
@click.option("--at", "at", help="pretend it is this time (ISO 8601, e.g. 2026-11-24T03:00-05:00)")
@click.option("--speak/--no-speak", default=None, help="speak prompts with espeak-ng (default: when installed)")
def simulate(caller, at, speak):
    """Phone the support line from the terminal: hear the prompts, press keys, leave a voicemail.

    No Twilio account is needed: the call runs against this app in-process, with
    webhooks signed as Twilio signs them. Ctrl-C (or the end of the input) hangs up.
    """
    base = _runtime()
    clock = base.clock
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("use ISO 8601, e.g. 2026-11-24T03:00-05:00", param_hint="--at") from None
        clock = FixedClock(moment if moment.tzinfo else moment.replace(tzinfo=base.config.timezone))
    base.redis  # noqa: B018  made now, so that the apps below share it and the command's end closes it
    voice = shutil.which("espeak-ng") if speak is not False else None
    if speak and not voice:
        click.echo("(espeak-ng is not installed; prompts are printed only)")
    hooks = _signed(base, clock)
    call = PhoneCall(hooks, from_=caller, to=base.config.support_number)
    click.echo(f"Calling {base.config.company_name} at {base.config.support_number} from {caller}. Ctrl-C hangs up.\n")
    _play(call, voice, base.config.screen_calls, start=True)
    call.deliver_callbacks()
    click.echo("\nCall ended.")
    tickets = _tickets_of(base, call.call_sid)
    for ticket in tickets:
        click.echo(_ticket_line(ticket))
    if tickets and tickets[0]["paged"]:
        for line in _page_report(base, tickets[0]["id"]):
            click.echo(line)
    for callback_id in _callbacks_of(base, [t["id"] for t in tickets]):
        # The worker placed it on the real clock: it is answered on the real clock too.
        _ring_back(base, hooks if clock is base.clock else _signed(base, base.clock), callback_id, voice)
    sys.stdout.flush()


def _play(call: PhoneCall, voice: str | None, screening: bool, start: bool = False) -> None:
    """Print (and speak) what the call says, and ask for what the person on it does, until it ends.
    Ctrl-C or the end of the input hangs up, as a real hang-up does: Twilio's status callback."""
    shown = 0
    try:
        if start:
            call.start()
        while True:
            for line, language in zip(call.heard[shown:], call.voices[shown:]):
                click.secho(f"  🔊 {line}", fg="cyan")
                if voice:
                    speak_line(voice, line, language)
            shown = len(call.heard)
            if call.state == "ended":
                return
            if call.state == "gather":
                keys = click.prompt("  keys (Enter: stay silent)", default="", show_default=False)
                call.press(keys) if keys.strip() else call.wait()
            elif call.state == "record":
                words = click.prompt("  *beep* — type your message (Enter: say nothing)", default="",
                                     show_default=False)
                if words.strip():
                    call.leave_message(seconds=max(3, len(words.split())), transcript=words)
                else:
                    call.stay_silent()
            elif call.state == "dial":
                _ring_desk(call, screening)
    except HUNG_UP:
        click.echo("\n  (you hung up)")
        call.hang_up()


def _ring_desk(call: PhoneCall, screening: bool) -> None:
    """The desk phones ring. Answered with screening on, the person at the desk hears it and keys
    (1 takes the call); whatever they key, Twilio ends the ``<Dial>`` with the leg's outcome and
    the app decides from what it noted whether a person took it."""
    choice = click.prompt(f"  {', '.join(call.dial_numbers())} ringing: [a]nswer, [n]o answer, [b]usy",
                          type=click.Choice(["a", "n", "b"]), default="n")
    if choice != "a":
        call.dial_result({"n": "no-answer", "b": "busy"}[choice])
        return
    desk = call.dial_numbers()[0]

    def at_the_desk(heard: str) -> str | None:
        click.secho(f"  ☎ {desk} hears: {heard}", fg="yellow")
        return click.prompt(f"  keys at {desk} (Enter: none)", default="", show_default=False).strip() or None

    if screening:
        call.desk_picks_up(press=at_the_desk)
    click.echo("  (the phone that answered is off the hook; the call ends when its leg does)")
    call.dial_result("completed", duration=60)


def _tickets_of(runtime: Runtime, call_sid: str) -> list[dict]:
    """The call's tickets, the one the caller heard first: the voicemail (or missed call) over the
    verification ticket, which a caller hears only when verified and nothing follows."""
    with runtime.store.reading() as session:
        found = session.scalars(select(Ticket).where(Ticket.call_sid == call_sid).order_by(Ticket.id)).all()
        rows = [{**ticket_dict(t, runtime), "id": t.id, "paged": t.paged_at is not None}
                for t in found]
    return sorted(rows, key=lambda row: (row["kind"] == "verification", -row["id"]))


def _ticket_line(row: dict) -> str:
    return (f"Ticket {row['number']}: {row['kind']}, {row['priority']}, caller {row['caller']}, "
            f"client {row['client'] or 'unknown'}; transcript: {row['transcript'] or '-'}")


def speak_line(espeak: str, line: str, language: str) -> None:
    """Say ``line`` with espeak-ng, in the voice of the <Say>'s language (es-US -> es)."""
    voice = (language or "en-US").split("-")[0].lower()
    subprocess.run([espeak, "-s", "165", "-v", "en-us" if voice == "en" else voice, line], check=False,
                   stderr=subprocess.DEVNULL)


def _worker_running(runtime: Runtime) -> bool:
    """Whether a ``python -m dispatch.worker`` is alive on this Redis."""
    try:
        return bool(recovery.alive_workers(runtime))
    except (redis.RedisError, OSError):
        return False


def _page_report(runtime: Runtime, ticket_id: int) -> list[str]:
    """What became of the ticket's page: the text sent, or that it is still queued. With a worker
    running, waits a few seconds for it to go out."""
    running = _worker_running(runtime)
    deadline = time.monotonic() + (PAGE_WAIT_SECONDS if running else 0)
    while True:
        with runtime.store.reading() as session:
            pages = session.scalars(select(Page).where(Page.ticket_id == ticket_id, Page.kind == "page")
                                    .order_by(Page.id)).all()
            console = set(session.scalars(select(ConsoleMessage.sid).where(
                ConsoleMessage.sid.in_([p.sid for p in pages if p.sid]))))
        settled = pages and all(p.state not in ("claimed", "sending") for p in pages)
        if settled or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    waiting = "the worker has not sent it yet." if running else \
        "no worker is running: `python -m dispatch.worker` sends it."
    if not pages:
        return ["The on-call technician's page is queued; " + waiting]
    lines = []
    for page in pages:
        person = runtime.config.staff.get(page.staff_id)
        who = f"{person.name if person else page.staff_id} ({page.to})"
        if page.state == "sent" and page.channel == "sms":
            where = " to the console outbox (no Twilio credentials)" if page.sid in console else ""
            lines.append(f"Paged {who} by SMS{where}: {page.body}")
        elif page.state == "sent":
            lines.append(f"Paged {who} by a phone call.")
        elif page.state in ("failed", "skipped"):
            lines.append(f"The page to {who} was not sent: {page.error or page.state}.")
        elif page.state == "claimed":
            lines.append(f"The page to {who} is queued; {waiting}")
        else:
            lines.append(f"The page to {who} is {page.state}, not sent yet.")
    return lines


def _callbacks_of(runtime: Runtime, ticket_ids: list[int]) -> list[int]:
    if not ticket_ids:
        return []
    with runtime.store.reading() as session:
        return list(session.scalars(select(Callback.id).where(Callback.ticket_id.in_(ticket_ids))
                                    .order_by(Callback.id)))


def _ring_back(runtime: Runtime, hooks: Webhooks, callback_id: int, voice: str | None) -> None:
    """The dual callback: once a worker has placed it through the console outbox, "your phone" rings
    here and the call can be played; placed through Twilio, the real phone rings instead."""
    running = _worker_running(runtime)
    deadline = time.monotonic() + (PAGE_WAIT_SECONDS if running else 0)
    while True:
        with runtime.store.reading() as session:
            callback = session.get(Callback, callback_id)
            status, to, sid = callback.status, callback.to_number, callback.call_sid
            placed = session.scalar(select(ConsoleMessage).where(ConsoleMessage.sid == sid)) if sid else None
        if status not in ("requested", "placing") or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    if status in ("requested", "placing"):
        click.echo(f"The call back to {to} is queued; " + ("the worker has not placed it yet." if running else
                   "no worker is running: `python -m dispatch.worker` places it."))
        return
    if status != "placed":
        click.echo(f"The call back to {to} was not placed ({status}).")
        return
    if placed is None:
        click.echo(f"The call back to {to} was placed through Twilio: that phone rings, not this terminal.")
        return
    click.echo("")
    try:
        choice = click.prompt(f"  📞 your phone ({to}) is ringing: the support line calling back. "
                              "[a]nswer, [n]o answer, [v]oicemail answers", type=click.Choice(["a", "n", "v"]),
                              default="a")
    except HUNG_UP:
        choice = "n"
    phone = PhoneCall(hooks, from_=placed.from_, to=to, voice_url=placed.content, status_url=placed.status_callback,
                      direction="outbound-api", call_sid=sid,
                      extra={"AnsweredBy": "machine_end_beep" if choice == "v" else "human"})
    if choice == "n":
        phone.unanswered()
    else:
        _play(phone, voice, screening=False, start=True)
    with runtime.store.reading() as session:
        click.echo(f"Call back to {to}: {session.get(Callback, callback_id).status}.")


@click.command("sms")
@with_appcontext
@click.option("--from", "staff_id", required=True, help="the staff id whose mobile sends the text")
@click.argument("body")
def sms(staff_id, body):
    """Text BODY to the support line from a staff member's mobile, e.g. "ACK 12", and print the reply.

    The text arrives as Twilio delivers one (a signed webhook to /sms/incoming), in-process:
    the local way to try every technician command. What it sets off (the others told, the
    next step paged, a CALL) is sent by the worker.
    """
    base = _runtime()
    person = base.config.staff.get(staff_id)
    if person is None:
        raise click.BadParameter(f"{staff_id!r} is not a staff id; known: {', '.join(base.config.staff)}",
                                 param_hint="--from")
    base.redis  # noqa: B018  made now, so that the app below shares it and the command's end closes it
    hooks = _signed(base, base.clock)
    # The stand-in's REST side is not started: only the text it delivers, as Twilio words it, is used.
    status, answer = FakeTwilio("", account_sid=ACCOUNT_SID, webhooks=hooks).sms_from(
        person.mobile, body, base.config.support_number)
    if status != 200:
        raise click.ClickException(f"/sms/incoming answered HTTP {status}: {answer[:300]}")
    replies = [(m.text or "").strip() for m in ET.fromstring(answer).iter("Message")]
    click.echo(f"{person.name} ({person.mobile}) → {base.config.support_number}: {body}")
    for reply in replies:
        click.echo(f"{base.config.support_number} → {person.name}: {reply}")
    if not replies:
        click.echo("(no reply)")
