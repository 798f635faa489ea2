"""``flask --app wsgi simulate``: phone the support line from the terminal, through the stand-in's phone.

No Twilio account is needed: the call runs against the app in-process, with webhooks
signed as Twilio signs them, and the stand-in's TwiML interpreter (``phone``) plays it.
"""
from __future__ import annotations

import dataclasses
import secrets
import shutil
import subprocess
import sys
import time
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
from fake_twilio.phone import PhoneCall, Webhooks
from ivr import create_app
from ivr.context import runtime as _runtime
from ivr.views import ticket_dict

PAGE_WAIT_SECONDS = 5  # how long to wait for a running worker to send the page


@click.command("simulate")
@with_appcontext
@click.option("--caller", default="+12705550199", show_default=True, help="the number you are calling from")
@click.option("--at", "at", help="pretend it is this time (ISO 8601, e.g. 2026-11-24T03:00-05:00)")
@click.option("--speak/--no-speak", default=None, help="speak prompts with espeak-ng (default: when installed)")
def simulate(caller, at, speak):
    """Phone the support line from the terminal: hear the prompts, press keys, leave a voicemail.

    No Twilio account is needed: the call runs against this app in-process, with
    webhooks signed as Twilio signs them.
    """
    base = _runtime()
    clock = base.clock
    if at:
        try:
            moment = datetime.fromisoformat(at)
        except ValueError:
            raise click.BadParameter("use ISO 8601, e.g. 2026-11-24T03:00-05:00", param_hint="--at") from None
        clock = FixedClock(moment if moment.tzinfo else moment.replace(tzinfo=base.config.timezone))
    token = secrets.token_hex(16)
    settings = dataclasses.replace(base.settings, twilio_auth_token=token, public_base_url=None)
    app = create_app(dataclasses.replace(base, settings=settings, clock=clock))
    voice = shutil.which("espeak-ng") if speak is not False else None
    if speak and not voice:
        click.echo("(espeak-ng is not installed; prompts are printed only)")
    call = PhoneCall(Webhooks("http://localhost", token, client=app.test_client()), from_=caller,
                     to=base.config.support_number)
    click.echo(f"Calling {base.config.company_name} at {base.config.support_number} from {caller}. Ctrl-C hangs up.\n")
    shown = 0
    try:
        call.start()
        while True:
            for line, language in zip(call.heard[shown:], call.voices[shown:]):
                click.secho(f"  🔊 {line}", fg="cyan")
                if voice:
                    speak_line(voice, line, language)
            shown = len(call.heard)
            if call.state == "ended":
                break
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
                choice = click.prompt(f"  {', '.join(call.dial_numbers())} ringing: [a]nswer, [n]o answer, [b]usy",
                                      type=click.Choice(["a", "n", "b"]), default="n")
                if choice == "a":  # the person who answers hears the screening and presses 1
                    click.secho(f"  (they hear: {call.desk_picks_up(press='1')})", fg="yellow")
                call.dial_result({"a": "completed", "n": "no-answer", "b": "busy"}[choice], duration=60)
    except (KeyboardInterrupt, EOFError):
        call.hang_up()
    call.deliver_callbacks()
    click.echo("\nCall ended.")
    with base.store.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.call_sid == call.call_sid))
        if ticket is not None:
            row = ticket_dict(ticket, base.config.ticket_prefix)
            click.echo(f"Ticket {row['number']}: {row['kind']}, {row['priority']}, caller {row['caller']}, "
                       f"client {row['client'] or 'unknown'}; transcript: {row['transcript'] or '-'}")
    if ticket is not None and ticket.paged_at:
        for line in _page_report(base, ticket.id):
            click.echo(line)
    sys.stdout.flush()


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
