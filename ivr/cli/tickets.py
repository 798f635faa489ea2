"""``flask --app wsgi tickets …``: tickets as operators see them, and what technicians do about them."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.escalation import responses
from dispatch.followup import callbacks
from dispatch.tickets.models import STATUSES, Ticket
from dispatch.tickets.numbers import format_number, parse_number
from ivr.context import runtime as _runtime
from ivr.views import callback_dict, ticket_dict

tickets_cli = AppGroup("tickets", help="Tickets made from calls.")


@tickets_cli.command("list")
@click.option("--status", type=click.Choice(STATUSES), help="only tickets with this status")
@click.option("--limit", default=50, show_default=True, help="newest N tickets")
def list_tickets(status, limit):
    """Tickets as a table, newest first."""
    runtime = _runtime()
    query = select(Ticket).options(selectinload(Ticket.timeline)).order_by(Ticket.id.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    with runtime.store.reading() as session:
        rows = [ticket_dict(t, runtime) for t in session.scalars(query).unique()]
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


def _ticket_id(number: str) -> int:
    runtime = _runtime()
    ticket_id = parse_number(number, runtime.config.ticket_prefix)
    if ticket_id is None:
        raise click.BadParameter(f"{number!r} is not a ticket number such as {runtime.config.ticket_prefix}-000123 "
                                 "or 123", param_hint="NUMBER")
    return ticket_id


def _no_ticket(number: str) -> click.ClickException:
    return click.ClickException(f"no ticket {number}; `tickets list` shows the tickets there are")


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(_runtime().config.timezone).strftime("%Y-%m-%d %H:%M:%S %Z")


@tickets_cli.command("show")
@click.argument("number")
def show(number):
    """One ticket (CS-000123 or 123): its fields, transcript and timeline."""
    runtime = _runtime()
    with runtime.store.reading() as session:
        ticket = session.get(Ticket, _ticket_id(number))
        if ticket is None:
            raise _no_ticket(number)
        row = ticket_dict(ticket, runtime)
    click.echo(f"{row['number']}  {row['kind']}  {row['priority']}  {row['status']}")
    contact = row.get("contact")
    shown = {"number", "kind", "priority", "status", "contact", "transcript", "timeline"}
    click.echo(f"  {'contact':<18} {contact['name'] + ' (id ' + str(contact['id']) + ')' if contact else '-'}")
    for key, value in row.items():
        if key in shown:
            continue
        if isinstance(value, str) and key.endswith("_at"):
            value = _when(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k} {_when(v) if k == 'at' else v}" for k, v in value.items())
        click.echo(f"  {key:<18} {'-' if value is None else value}")
    click.echo(f"  {'transcript':<18} {row['transcript'] or '-'}")
    click.echo("timeline")
    for event in row["timeline"]:
        detail = ", ".join(f"{k}={v}" for k, v in event.items() if k not in ("at", "event"))
        click.echo(f"  {_when(event['at'])}  {event['event']}" + (f"  {detail}" if detail else ""))


def _set_status(number: str, staff_id: str, status: str) -> None:
    """ACK or RES for ``staff_id``, as their SMS reply would: the escalation stops, the others are told."""
    runtime = _runtime()
    if staff_id not in runtime.config.staff:
        raise click.BadParameter(f"{staff_id!r} is not a staff id; known: {', '.join(runtime.config.staff)}",
                                 param_hint="--as")
    ticket_id = _ticket_id(number)
    shown = format_number(runtime.config.ticket_prefix, ticket_id)
    outcome, name = responses.set_status(runtime, ticket_id, status, staff_id, "cli")
    if outcome == "missing":
        raise _no_ticket(number)
    if outcome == "resolved":
        raise click.ClickException(f"{shown} is already resolved")
    person = runtime.config.staff[staff_id]
    if outcome == "taken" and name == person.name:
        click.echo(f"{shown} is already acknowledged by {name}")
        return
    if outcome == "taken":
        raise click.ClickException(f"{shown} was already acknowledged by {name or 'someone'}")
    click.echo(f"{shown} {status} by {person.name}; anyone else paged about it is told (by the worker)")


@tickets_cli.command("ack")
@click.argument("number")
@click.option("--as", "staff_id", required=True, help="the staff id taking the ticket")
def ack(number, staff_id):
    """Acknowledge ticket NUMBER for a technician, as their ACK reply would: its escalation stops."""
    _set_status(number, staff_id, "acknowledged")


@tickets_cli.command("resolve")
@click.argument("number")
@click.option("--as", "staff_id", required=True, help="the staff id resolving the ticket")
def resolve(number, staff_id):
    """Resolve ticket NUMBER for a technician, as their RES reply would."""
    _set_status(number, staff_id, "resolved")
@tickets_cli.command("callbacks")
def list_callbacks():
    """The call-back list: open tickets whose caller awaits a call back, soonest due first."""
    runtime = _runtime()
    now = runtime.now()
    with runtime.store.reading() as session:
        rows = [callback_dict(t, runtime, now) for t in callbacks.waiting(session, timeline=True)]
    if not rows:
        click.echo("nobody awaits a call back")
        return
    zone = runtime.config.timezone
    click.echo(f"{'NUMBER':<10} {'DUE':<16} {'LEFT':<12} {'PRI':<3} {'KIND':<19} {'CALLER':<13} CLIENT")
    for row in rows:
        due = (datetime.fromisoformat(row["response_due"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")
               if row["response_due"] else "-")
        click.echo(f"{row['number']:<10} {due:<16} {_left(row['left_seconds']):<12} {row['priority']:<3} "
                   f"{row['kind']:<19} {row['caller']:<13} {row['client'] or '-'}")


def _left(seconds: int | None) -> str:
    """'2h 05m', '3d 4h', 'overdue 15m', or '-' without a target."""
    if seconds is None:
        return "-"
    minutes = abs(seconds) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    text = f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    return f"overdue {text}" if seconds < 0 else text
