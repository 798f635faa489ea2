"""``flask --app wsgi directory …``: clients and their contacts."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from dispatch import directory
from ivr.context import runtime as _runtime

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


@directory_cli.command("reset-pin-lock")
@click.argument("contact_id", type=int)
@click.option("--manager", required=True, help="Staff id of the manager who lifts the lock.")
def reset_pin_lock(contact_id, manager):
    """Lift a contact's PIN lock (a third lock ends only this way, or with a new PIN)."""
    from dispatch.directory.models import Contact
    from dispatch.verification import pin_lock

    runtime = _runtime()
    if not pin_lock.may_reset(runtime.config, manager):
        raise click.ClickException(f"{manager!r} is not the staff id of a manager")
    with runtime.store.transaction() as session:
        contact = session.get(Contact, contact_id)
        if contact is None:
            raise click.ClickException(f"no contact {contact_id}")
        name = contact.name
        was_locked = pin_lock.reset(session, contact_id)
    click.echo(f"PIN entry for {name} (contact {contact_id}) {'unlocked' if was_locked else 'was not locked'}; "
               f"reset by {manager}")
