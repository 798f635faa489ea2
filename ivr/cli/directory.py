"""``flask --app wsgi directory …``: clients and their contacts."""
from __future__ import annotations

import logging
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from dispatch import directory
from dispatch.directory.models import Client, Contact
from dispatch.verification import identity, pin_lock
from ivr.context import runtime as _runtime
from ivr.views import contact_dict

log = logging.getLogger(__name__)

directory_cli = AppGroup("directory", help="Clients and their contacts.")


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


@directory_cli.command("list")
@click.option("--client", "client_name", help="only this client's contacts")
def list_contacts(client_name):
    """Clients and their contacts: ids (for `directory pin`), phones on file, e-mail, whether a PIN is set."""
    runtime = _runtime()
    query = select(Contact).join(Client).order_by(Client.name, Contact.name)
    if client_name:
        query = query.where(Client.name == client_name)
    with runtime.store.reading() as session:
        rows = [contact_dict(c) for c in session.scalars(query).unique()]
    if not rows:
        click.echo(f"no contacts of {client_name}" if client_name else
                   "no contacts; `directory import FILE.csv` adds them")
        return
    click.echo(f"{'ID':<5} {'CLIENT':<24} {'NAME':<24} {'PIN':<4} {'PHONES':<28} EMAIL")
    for row in rows:
        click.echo(f"{row['id']:<5} {row['client']:<24} {row['name']:<24} {'yes' if row['has_pin'] else 'no':<4} "
                   f"{' '.join(row['phones']):<28} {row['email'] or '-'}")


@directory_cli.command("pin")
@click.argument("contact_id", type=int)
def set_pin(contact_id):
    """Set the portal PIN of contact CONTACT_ID (prompted, not shown; read from standard input when it
    is not a terminal). The rules are the API's: 6 to 8 digits, not easy to guess."""
    runtime = _runtime()
    with runtime.store.reading() as session:
        contact = session.get(Contact, contact_id)
        name = f"{contact.name} ({contact.client.name})" if contact else None
    if name is None:
        raise click.ClickException(f"no contact {contact_id}; `directory list` shows their ids")
    if sys.stdin.isatty():
        pin = click.prompt(f"new PIN for {name}", hide_input=True, confirmation_prompt=True)
    else:
        pin = sys.stdin.readline().strip()
    try:
        reason = identity.set_pin(runtime, contact_id, pin)
    except identity.NoSuchContact:
        raise click.ClickException(f"no contact {contact_id}") from None
    if reason is not None:
        raise click.ClickException(f"PIN not set: {reason}")
    log.info("portal PIN set for contact %s from the command line", contact_id)
    click.echo(f"PIN set for {name}")


@directory_cli.command("reset-pin-lock")
@click.argument("contact_id", type=int)
@click.option("--manager", required=True, help="Staff id of the manager who lifts the lock.")
def reset_pin_lock(contact_id, manager):
    """Lift a contact's PIN lock (a third lock ends only this way, or with a new PIN)."""
    runtime = _runtime()
    if not pin_lock.may_reset(runtime.config, manager):
        raise click.ClickException(f"{manager!r} is not the staff id of a manager")
    done = pin_lock.reset(runtime, contact_id, manager)
    if done is None:
        raise click.ClickException(f"no contact {contact_id}")
    name, was_locked = done
    click.echo(f"PIN entry for {name} (contact {contact_id}) {'unlocked' if was_locked else 'was not locked'}; "
               f"reset by {manager}")
