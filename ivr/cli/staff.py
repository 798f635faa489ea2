"""``flask --app wsgi staff set-password STAFF_ID``: console passwords."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from dispatch.staff import accounts
from ivr.context import runtime as _runtime

staff_cli = AppGroup("staff", help="Staff members' console accounts.")


@staff_cli.command("set-password")
@click.argument("staff_id")
def set_password(staff_id):
    """Set STAFF_ID's console password: asked twice on a terminal, else read as one line from standard
    input (``printf '%s\\n' "$PASSWORD" | flask --app wsgi staff set-password alice``). It is stored only
    as a slow salted hash; sessions signed in with the old password end."""
    runtime = _runtime()
    staff = runtime.config.staff.get(staff_id)
    if staff is None:
        raise click.BadParameter(f"{staff_id!r} is not a staff id; known: {', '.join(runtime.config.staff)}",
                                 param_hint="STAFF_ID")
    if sys.stdin.isatty():
        password = click.prompt(f"New console password for {staff.name}", hide_input=True,
                                confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    reason = accounts.password_refusal(password, staff)
    if reason is not None:
        raise click.ClickException(f"password not set: {reason}")
    accounts.set_password(runtime, staff.id, password)
    click.echo(f"console password set for {staff.name} ({staff.id})")
