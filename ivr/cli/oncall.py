"""``flask --app wsgi oncall who|override|overrides``: the rotation as operators see and bend it."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from dispatch import oncall
from ivr.api.oncall import parse_instant
from ivr.context import runtime as _runtime

oncall_cli = AppGroup("oncall", help="Who is on call, and temporary overrides.")
EVER = datetime(1970, 1, 1, tzinfo=timezone.utc)


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
@click.argument("staff", required=False)
@click.option("--from", "starts", help="start (ISO 8601; no offset means company time)")
@click.option("--to", "ends", help="end (ISO 8601; no offset means company time)")
@click.option("--cancel", "cancel", type=int, metavar="ID", help="remove override ID (see `oncall overrides`)")
def override(staff, starts, ends, cancel):
    """Make STAFF the primary on-call from --from to --to; or, with --cancel ID, remove an override."""
    runtime = _runtime()
    if cancel is not None:
        if staff or starts or ends:
            raise click.UsageError("--cancel ID takes no STAFF, --from or --to")
        removed = oncall.cancel_override(runtime, cancel)
        if removed is None:
            raise click.ClickException(f"no override {cancel}; `oncall overrides` lists them")
        name = runtime.config.staff[removed.staff_id].name if removed.staff_id in runtime.config.staff \
            else removed.staff_id
        click.echo(f"override {cancel} cancelled ({name}, {_local(removed.starts_at)} to {_local(removed.ends_at)})")
        return
    if not staff:
        raise click.UsageError("give STAFF with --from and --to, or --cancel ID")
    if not starts or not ends:
        raise click.UsageError("an override needs --from and --to")
    if staff not in runtime.config.staff:
        raise click.BadParameter(f"{staff!r} is not a staff id; known: {', '.join(runtime.config.staff)}",
                                 param_hint="STAFF")
    start, end = _instant(starts, "--from"), _instant(ends, "--to")
    if end <= start:
        raise click.BadParameter("must be after --from", param_hint="--to")
    if end <= runtime.now():
        raise click.BadParameter("is already in the past", param_hint="--to")
    added = oncall.add_override(runtime, staff, start, end)
    person = runtime.config.staff[staff]
    click.echo(f"{person.name} is primary on-call from {_local(start)} to {_local(end)} (override {added.id})")


@oncall_cli.command("overrides")
@click.option("--all", "everything", is_flag=True, help="ended overrides too")
def overrides(everything):
    """Temporary primaries: those in force or to come (--all: ended ones too), with their ids."""
    runtime = _runtime()
    now = runtime.now()
    with runtime.store.reading() as session:
        found = oncall.overrides_near(session, EVER if everything else now)
    if not found:
        click.echo("no overrides" + ("" if everything else " in force or to come"))
        return
    click.echo(f"{'ID':<5} {'STAFF':<24} {'FROM':<25} {'TO':<25} STATE")
    for row in found:
        person = runtime.config.staff.get(row.staff_id)
        who = f"{person.name} ({row.staff_id})" if person else f"{row.staff_id} (not in the config)"
        state = "ended" if row.ends_at <= now else "in force" if row.starts_at <= now else "to come"
        click.echo(f"{row.id:<5} {who:<24} {_local(row.starts_at):<25} {_local(row.ends_at):<25} {state}")
