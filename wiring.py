"""The composition root: the one place that knows every part and puts them together.

It loads every domain's tables, opens the store, picks the carrier (Twilio with
credentials, else the console outbox) and the web addresses the domain hands out, and
builds the :class:`~dispatch.runtime.Runtime` that the web app (``ivr.create_app``) and
the worker (``python -m dispatch.worker``) run on.
"""
from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from core import migrations
from core.clock import SystemClock
from core.config import load_config
from core.db import Store
from core.settings import Settings, prepare_data_dir
from dispatch.runtime import Clock, Runtime

log = logging.getLogger(__name__)


def load_models() -> None:
    """Import every domain's tables, so that the schema knows them all."""
    import dispatch.calls.models  # noqa: F401
    import dispatch.directory.models  # noqa: F401
    import dispatch.escalation.models  # noqa: F401
    import dispatch.followup.models  # noqa: F401
    import dispatch.handoff.models  # noqa: F401
    import dispatch.jobs.models  # noqa: F401
    import dispatch.notification.console  # noqa: F401
    import dispatch.notification.models  # noqa: F401
    import dispatch.oncall.models  # noqa: F401
    import dispatch.staff.models  # noqa: F401
    import dispatch.tickets.models  # noqa: F401
    import dispatch.verification.models  # noqa: F401


def carrier_for(settings: Settings, store: Store, from_number: str):
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from dispatch.notification.twilio.client import TwilioCarrier

        return TwilioCarrier(settings.twilio_account_sid, settings.twilio_auth_token, from_number,
                             settings.twilio_api_base_url)
    from dispatch.notification.console import ConsoleOutbox

    return ConsoleOutbox(store, from_number)


def number_admin(settings: Settings):
    """The support number's settings at the carrier (``notification.numbers.NumberAdmin``): Twilio's,
    with credentials; else None."""
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from dispatch.notification.twilio.numbers import TwilioNumbers

        return TwilioNumbers(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base_url)
    return None


def build(settings: Settings | None = None, clock: Clock | None = None, carrier=None) -> Runtime:
    """Load config, open the store (bringing its schema up to date) and choose the carrier."""
    from dispatch.escalation import steps
    from dispatch.followup import outgoing
    from dispatch.handoff import events as handoff_events
    from dispatch.handoff import render as handoff_render
    from dispatch.notification import delivery
    from dispatch.tickets import changes
    from ivr.links import PublicLinks
    from ivr.views import ticket_dict

    # A page of a policy step that reached nobody moves the policy on.
    delivery.when_unreached("page", steps.page_reached_nobody)
    # Every ticket change is handed off to the MSP's tools (the PSA's mailbox, webhooks, chat),
    # carrying the ticket as the JSON API shows it.
    changes.subscribe(handoff_events.on_change)
    handoff_render.use_ticket_view(ticket_dict)
    # A text to a caller that reached nobody is noted, and a landline is never texted again.
    for kind in outgoing.CALLER_KINDS:
        delivery.when_unreached(kind, outgoing.unreachable, only_while_new=False)
    settings = settings or Settings.from_env()
    config = load_config(settings.config_path)
    settings.check(config)
    prepare_data_dir(settings.data_dir)
    load_models()
    store = Store(settings.database_url)
    try:
        migrations.upgrade(store)
    except OperationalError as exc:
        # Start anyway: /voice/fallback must take voicemails (into the spool) during a database
        # outage, also after a restart; the worker makes the schema once the database answers.
        log.error("database unavailable at start-up (%s): voicemails go to the spool until it answers",
                  type(exc).__name__)
    return Runtime(settings=settings, config=config, store=store, clock=clock or SystemClock(),
                   carrier=carrier or carrier_for(settings, store, config.support_number),
                   links=PublicLinks(settings.public_base_url))


def create_app(runtime: Runtime | None = None):
    """The web app (``wsgi.py``, ``flask --app wsgi``): built around ``runtime``, or one built from
    the environment, with every operator command, the simulator among them."""
    import ivr
    from fake_twilio.simulator import simulate, sms

    app = ivr.create_app(runtime or build())
    app.extensions["number_admin"] = number_admin(app.extensions["runtime"].settings)
    app.cli.add_command(simulate)
    app.cli.add_command(sms)
    return app
