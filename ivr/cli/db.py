"""``flask --app wsgi db upgrade|current``: the schema, which Alembic owns (``migrations/``)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from core import migrations
from ivr.context import runtime as _runtime

db_cli = AppGroup("db", help="The database schema: its migrations.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision):
    """Bring the schema up to REVISION (the newest, by default). Every process also does this at start."""
    store = _runtime().store
    before = migrations.current(store)
    migrations.upgrade(store, revision)
    after = migrations.current(store)
    click.echo(f"schema at {after}" + (f" (was {before or 'empty'})" if before != after else ", already current"))


@db_cli.command("current")
def current():
    """The revision the database is at, and the newest there is."""
    at, newest = migrations.current(_runtime().store), migrations.head()
    click.echo(f"database at {at or 'no revision'}; newest {newest}" + ("" if at == newest else "  (run: db upgrade)"))
