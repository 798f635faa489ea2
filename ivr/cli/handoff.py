"""``flask --app wsgi handoff …``: the hand-off's webhooks, and turning one back on after a 410."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from dispatch.handoff import delivery, destinations
from ivr.context import runtime as _runtime

handoff_cli = AppGroup("handoff", help="The hand-off to the PSA's mailbox, webhooks and chat.")


@handoff_cli.command("webhooks")
def list_webhooks():
    """The configured webhooks, and which are disabled (they answered 410 Gone)."""
    runtime = _runtime()
    disabled = {row.destination: row for row in delivery.disabled_webhooks(runtime)}
    hooks = runtime.config.handoff.webhooks
    if not hooks:
        click.echo("no webhooks in [[handoff.webhooks]]")
    for index, hook in enumerate(hooks):
        key = destinations.webhook_key(hook.url)
        off = disabled.pop(key, None)
        state = f"DISABLED since {off.disabled_at:%Y-%m-%d %H:%M} UTC: {off.reason}" if off else "enabled"
        click.echo(f"[{index}] {destinations.webhook_label(hook)}  {key}  {', '.join(hook.events)}  {state}")
    for row in disabled.values():
        click.echo(f"(no longer configured) {row.label}  {row.destination}  disabled since "
                   f"{row.disabled_at:%Y-%m-%d %H:%M} UTC")


@handoff_cli.command("enable")
@click.argument("webhook")
def enable(webhook: str):
    """Send to WEBHOOK again (its index in [[handoff.webhooks]], counting from 0, or its key), from the
    next ticket change on."""
    runtime = _runtime()
    hooks = runtime.config.handoff.webhooks
    key = destinations.webhook_key(hooks[int(webhook)].url) if webhook.isdigit() and int(webhook) < len(hooks) \
        else webhook
    if delivery.enable_webhook(runtime, key):
        click.echo(f"{key} enabled again")
    else:
        raise click.ClickException(f"{webhook} is not a disabled webhook (see `handoff webhooks`)")
