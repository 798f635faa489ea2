"""Where hand-off events go, as the configuration says now.

A delivery names its destination by a key that survives restarts and a reordered
configuration: ``email`` for the PSA mailbox, ``webhook:<hash of its URL>`` for a webhook
(the URL itself is not stored: a Slack or Teams URL is the secret that lets anyone post).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.config import Handoff, Webhook

EMAIL = "email"


@dataclass(frozen=True)
class Destination:
    key: str
    kind: str  # email, json, slack, teams
    label: str
    events: tuple[str, ...]
    webhook: Webhook | None = None


def webhook_key(url: str) -> str:
    return "webhook:" + hashlib.sha256(url.encode()).hexdigest()[:16]


def webhook_label(webhook: Webhook) -> str:
    """The webhook as people see it in the API, the timeline and the log: its host, and a chat tool's name."""
    host = urlsplit(webhook.url).hostname or "?"
    return f"{host} ({webhook.format})" if webhook.format != "json" else host


def all_destinations(handoff: Handoff) -> list[Destination]:
    found = []
    if handoff.email_to:
        found.append(Destination(EMAIL, "email", ", ".join(handoff.email_to), handoff.email_events))
    for hook in handoff.webhooks:
        found.append(Destination(webhook_key(hook.url), hook.format, webhook_label(hook), hook.events, hook))
    return found


def for_event(handoff: Handoff, name: str) -> list[Destination]:
    """The destinations that take events called ``name`` (``ticket.created``, ``ticket.updated``)."""
    return [d for d in all_destinations(handoff) if name in d.events]


def find(handoff: Handoff, key: str) -> Destination | None:
    for destination in all_destinations(handoff):
        if destination.key == key:
            return destination
    return None
