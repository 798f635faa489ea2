"""``flask --app wsgi twilio configure|show``: point the support number's webhooks at this app,
through the carrier's REST API (no console clicking), or show where they point."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from dispatch.notification.numbers import PURPOSES, AccountError, NumberAdmin, NumberWebhooks
from ivr.context import runtime as _runtime
from ivr.links import PublicLinks

twilio_cli = AppGroup("twilio", help="The support number's settings at Twilio.")

LABELS = {"voice": 'Voice "A call comes in"', "voice_fallback": 'Voice "Primary handler fails"',
          "voice_status": 'Voice "Call status changes"', "sms": 'Messaging "A message comes in"'}
SET_CREDENTIALS = "set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (Twilio console, Account Info)"
NO_CREDENTIALS = f"TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are unset: {SET_CREDENTIALS}"


def admin() -> NumberAdmin | None:
    """The carrier's side of the support number, as the composition root chose it (None: no credentials)."""
    return current_app.extensions.get("number_admin")


def wanted_webhooks() -> dict[str, str] | None:
    """Where the number's webhooks should point: this app's, at ``PUBLIC_BASE_URL``."""
    return PublicLinks(_runtime().settings.public_base_url).number_webhooks()


def differences(found: NumberWebhooks, wanted: dict[str, str]) -> list[str]:
    """The purposes whose URL or method is not this app's."""
    return [p for p in PURPOSES if found.urls.get(p) != wanted[p] or found.methods.get(p) != "POST"]


def _shown(found: NumberWebhooks | None, purpose: str) -> str:
    if found is None or not found.urls.get(purpose):
        return "(not set)"
    return f"{found.methods.get(purpose) or 'POST'} {found.urls[purpose]}"


@twilio_cli.command("configure")
@click.option("--dry-run", is_flag=True, help="show what would change, change nothing")
def configure(dry_run):
    """Set the support number's Voice URL, Voice Fallback URL, call status callback and Messaging URL
    (all POST) to this app's, at PUBLIC_BASE_URL, through Twilio's REST API."""
    runtime = _runtime()
    account = admin()
    if account is None:
        raise click.ClickException(NO_CREDENTIALS)
    base = runtime.settings.public_base_url
    if not base:
        raise click.ClickException("PUBLIC_BASE_URL is unset: set it to the https address Twilio reaches this app "
                                   "at (docs/deploy.md), then run this again")
    if not base.startswith("https://"):
        raise click.ClickException(f"PUBLIC_BASE_URL is {base}: give an https:// address, or Twilio would carry "
                                   "callers' keys and messages in clear")
    wanted = wanted_webhooks()
    number = runtime.config.support_number
    try:
        if dry_run:
            found = account.find(number)
            result = (found, found) if found else None
        else:
            result = account.point(number, wanted)
    except AccountError as exc:
        raise click.ClickException(exc.detail) from None
    if result is None:
        raise click.ClickException(f"{number} (company.support_number) is not a number of this Twilio account: "
                                   "check the number, or the account of TWILIO_ACCOUNT_SID")
    before, after = result
    click.echo(f"{number} ({after.sid})" + (": would be set to" if dry_run else ""))
    for purpose in PURPOSES:
        now = f"POST {wanted[purpose]}" if dry_run else _shown(after, purpose)
        was = _shown(before, purpose)
        note = "unchanged" if was == f"POST {wanted[purpose]}" else f"was {was}"
        click.echo(f"  {LABELS[purpose]:<32} {now}  ({note})")
    if dry_run:
        return
    if before.overridden_by:
        click.echo(f"  (it was handled by {before.overridden_by}; now by these URLs)")
    left = differences(after, wanted)
    if left:
        raise click.ClickException("Twilio did not keep: " + ", ".join(LABELS[p] for p in left))


@twilio_cli.command("show")
def show():
    """Where the support number's webhooks point now, and whether that is this app."""
    runtime = _runtime()
    account = admin()
    if account is None:
        raise click.ClickException(NO_CREDENTIALS)
    number = runtime.config.support_number
    try:
        found = account.find(number)
    except AccountError as exc:
        raise click.ClickException(exc.detail) from None
    if found is None:
        raise click.ClickException(f"{number} is not a number of this Twilio account")
    wanted = wanted_webhooks()
    click.echo(f"{number} ({found.sid})")
    for purpose in PURPOSES:
        mark = "" if wanted is None else ("  ok" if purpose not in differences(found, wanted) else "  (not this app)")
        click.echo(f"  {LABELS[purpose]:<32} {_shown(found, purpose)}{mark}")
    if found.overridden_by:
        click.echo(f"  handled by {found.overridden_by} instead: `twilio configure` takes it back")
