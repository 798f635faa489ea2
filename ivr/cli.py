"""Operator commands under ``flask --app wsgi``: tickets, directory, and the call simulator."""
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
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.models import ConsoleMessage, Ticket
from dispatch import directory, recovery, tickets
from dispatch.paging_models import Page

PAGE_WAIT_SECONDS = 5  # simulate: how long to wait for a running worker to send the page

tickets_cli = AppGroup("tickets", help="Tickets made from calls.")
directory_cli = AppGroup("directory", help="Clients and their contacts.")


def _runtime():
    return current_app.extensions["runtime"]


@tickets_cli.command("list")
@click.option("--status", type=click.Choice(tickets.STATUSES), help="only tickets with this status")
@click.option("--limit", default=50, show_default=True, help="newest N tickets")
def list_tickets(status, limit):
    """Tickets as a table, newest first."""
    runtime = _runtime()
    query = select(Ticket).options(selectinload(Ticket.timeline)).order_by(Ticket.id.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    with runtime.store.reading() as session:
        rows = [tickets.as_dict(t, runtime.config.ticket_prefix) for t in session.scalars(query).unique()]
    if not rows:
        click.echo("no tickets" + (f" with status {status}" if status else ""))
        return
    zone = runtime.config.timezone
    header = f"{'NUMBER':<10} {'CREATED':<16} {'STATUS':<12} {'PRI':<3} {'KIND':<19} {'CALLER':<13} CLIENT"
    click.echo(header)
    for row in rows:
        created = datetime.fromisoformat(row["created_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{row['number']:<10} {created:<16} {row['status']:<12} {row['priority']:<3} {row['kind']:<19} "
                   f"{row['caller']:<13} {row['client'] or '-'}")


@directory_cli.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_directory(csv_file):
    """Upsert clients and contacts from a CSV with columns client,name,phone,email."""
    runtime = _runtime()
    try:
        with runtime.store.transaction() as session:
            report = directory.import_csv(session, csv_file, runtime.config.region)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
               f"{len(report.rejected)} rejected")
    for line, reason in report.rejected:
        click.echo(f"  line {line}: rejected: {reason}")


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
    from core.clock import FixedClock
    from core.runtime import Runtime
    from fake_twilio.phone import PhoneCall, Webhooks
    from ivr import create_app

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
    app = create_app(Runtime(settings=settings, config=base.config, store=base.store, clock=clock,
                             carrier=base.carrier, _redis=base._redis))
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
            for line in call.heard[shown:]:
                click.secho(f"  🔊 {line}", fg="cyan")
                if voice:
                    subprocess.run([voice, "-s", "165", line], check=False, stderr=subprocess.DEVNULL)
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
                choice = click.prompt("  the desk is ringing: [a]nswer, [n]o answer, [b]usy",
                                      type=click.Choice(["a", "n", "b"]), default="n")
                call.dial_result({"a": "completed", "n": "no-answer", "b": "busy"}[choice], duration=60)
    except (KeyboardInterrupt, EOFError):
        call.hang_up()
    call.deliver_callbacks()
    click.echo("\nCall ended.")
    with base.store.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.call_sid == call.call_sid))
        if ticket is not None:
            row = tickets.as_dict(ticket, base.config.ticket_prefix)
            click.echo(f"Ticket {row['number']}: {row['kind']}, {row['priority']}, caller {row['caller']}, "
                       f"client {row['client'] or 'unknown'}; transcript: {row['transcript'] or '-'}")
    if ticket is not None and ticket.paged_at:
        for line in _page_report(base, ticket.id):
            click.echo(line)
    sys.stdout.flush()


def _worker_running(runtime) -> bool:
    """Whether a ``python -m dispatch.worker`` is alive on this Redis."""
    try:
        return bool(recovery.alive_workers(runtime))
    except (redis.RedisError, OSError):
        return False


def _page_report(runtime, ticket_id: int) -> list[str]:
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


def register(app) -> None:
    app.cli.add_command(tickets_cli)
    app.cli.add_command(directory_cli)
    app.cli.add_command(simulate)
    from ivr.oncall_cli import oncall_cli

    app.cli.add_command(oncall_cli)
