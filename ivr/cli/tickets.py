"""``flask --app wsgi tickets …``: tickets as operators see them."""
from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from dispatch.followup import callbacks
from dispatch.tickets.models import STATUSES, Ticket
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
        rows = [ticket_dict(t, runtime.config.ticket_prefix) for t in session.scalars(query).unique()]
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


@tickets_cli.command("callbacks")
def list_callbacks():
    """The call-back list: open tickets whose caller awaits a call back, soonest due first."""
    runtime = _runtime()
    now = runtime.now()
    with runtime.store.reading() as session:
        rows = [callback_dict(t, runtime.config.ticket_prefix, now) for t in callbacks.waiting(session, timeline=True)]
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
