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
