"""``flask --app wsgi oncall who|override``: the rotation as operators see and bend it."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from dispatch import oncall
from ivr.api.oncall import parse_instant
from ivr.context import runtime as _runtime

oncall_cli = AppGroup("oncall", help="Who is on call, and temporary overrides.")


def _instant(value: str, option: str):
    try:
        return parse_instant(value, _runtime().config.timezone)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-24T18:00 (company time) or with an offset",
                                 param_hint=option) from None


def _local(moment) -> str:
    return moment.astimezone(_runtime().config.timezone).strftime("%a %Y-%m-%d %H:%M %Z")


@oncall_cli.command("who")
@click.option("--at", "at", help="another instant (ISO 8601; no offset means company time)")
def who(at):
    """Who is primary, secondary and managers."""
    runtime = _runtime()
    moment = _instant(at, "--at") if at else runtime.now()
    answer = oncall.who(runtime, moment)
    click.echo(f"at         {_local(moment)}")
    click.echo(f"primary    {answer.primary.name} ({answer.primary.id}, {answer.primary.mobile})"
               + ("  [override]" if answer.override else ""))
    if answer.secondary:
        click.echo(f"secondary  {answer.secondary.name} ({answer.secondary.id}, {answer.secondary.mobile})")
    else:
        click.echo("secondary  nobody (the rotation has one person)")
    click.echo("managers   " + (", ".join(f"{m.name} ({m.id})" for m in answer.managers) or "none"))
    click.echo(f"until      {_local(answer.until)}")


@oncall_cli.command("override")
@click.argument("staff")
@click.option("--from", "starts", required=True, help="start (ISO 8601; no offset means company time)")
@click.option("--to", "ends", required=True, help="end (ISO 8601; no offset means company time)")
def override(staff, starts, ends):
    """Make STAFF the primary on-call from --from to --to."""
    runtime = _runtime()
    if staff not in runtime.config.staff:
        raise click.BadParameter(f"{staff!r} is not a staff id; known: {', '.join(runtime.config.staff)}",
                                 param_hint="STAFF")
    start, end = _instant(starts, "--from"), _instant(ends, "--to")
    if end <= start:
        raise click.BadParameter("must be after --from", param_hint="--to")
    if end <= runtime.now():
        raise click.BadParameter("is already in the past", param_hint="--to")
    oncall.add_override(runtime, staff, start, end)
    person = runtime.config.staff[staff]
    click.echo(f"{person.name} is primary on-call from {_local(start)} to {_local(end)}")
