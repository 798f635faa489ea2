"""The variable parts of follow-up texts: who called, how to call them back, lengths and times.

The sentences are in ``voice_prompts.followup``; a caller's are said through :func:`to_caller`,
the one place that will pick the ticket's language.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import voice_prompts
from core import phones
from dispatch.notification.gsm7 import gsm7
from dispatch.tickets.numbers import format_number

MAX_CLIENT_CHARS = 40


def say(key: str, **values) -> str:
    return gsm7(voice_prompts.say(key, **values))


def to_caller(ticket, key: str, **values) -> str:
    """A text to the ticket's caller."""
    return say(key, **values)


def number(config, ticket) -> str:
    return format_number(config.ticket_prefix, ticket.id)


def who(ticket) -> str:
    if ticket.client is None:
        return voice_prompts.say("sms_page_unknown_caller")
    return gsm7(ticket.client.name)[:MAX_CLIENT_CHARS]


def callback(ticket) -> str:
    if ticket.caller == phones.ANONYMOUS:
        return voice_prompts.say("sms_page_withheld")
    return voice_prompts.say("sms_page_callback", number=ticket.caller)


def length(span: timedelta) -> str:
    """'5 days', '1 day', '12 hours', '90 minutes': the largest whole unit that says it exactly."""
    seconds = int(span.total_seconds())
    if seconds % 86400 == 0:
        days = seconds // 86400
        return voice_prompts.say("duration_day") if days == 1 else voice_prompts.say("duration_days", n=days)
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return voice_prompts.say("duration_hour") if hours == 1 else voice_prompts.say("duration_hours", n=hours)
    return voice_prompts.say("duration_minutes", n=max(1, round(seconds / 60)))


def local_time(config, at: datetime, now: datetime) -> str:
    """'14:30' today, else 'Wed 09:00' (company time)."""
    local, today = at.astimezone(config.timezone), now.astimezone(config.timezone)
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%a %H:%M}"
