"""``flask --app wsgi outbox``: what the console outbox holds, the SMS and calls that would have
gone through Twilio had credentials been set."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core import phones
from dispatch.notification.console import ConsoleMessage
from ivr.context import runtime as _runtime


@click.command("outbox")
@with_appcontext
@click.option("--to", "to", help="only what went to this number")
@click.option("--limit", default=20, show_default=True, help="newest N")
def outbox(to, limit):
    """The console outbox, newest first: what would have been sent without Twilio credentials."""
    runtime = _runtime()
    query = select(ConsoleMessage).order_by(ConsoleMessage.id.desc()).limit(max(1, limit))
    if to:
        number = phones.normalise(to, runtime.config.region)
        if number is None:
            raise click.BadParameter(f"{to!r} is not a phone number", param_hint="--to")
        query = query.where(ConsoleMessage.to == number)
    with runtime.store.reading() as session:
        rows = [(m.created_at, m.kind, m.to, m.content) for m in session.scalars(query)]
    if not rows:
        click.echo("the console outbox is empty" + (f" for {to}" if to else ""))
        return
    zone = runtime.config.timezone
    for created, kind, number, content in rows:
        what = content if kind == "sms" else f"call, TwiML at {content}"
        click.echo(f"{created.astimezone(zone):%Y-%m-%d %H:%M:%S}  {kind:<4} to {number}: {what}")
