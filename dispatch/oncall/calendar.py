"""A staff member's on-call duty as an iCalendar feed (RFC 5545), for Outlook or Google to subscribe to.

The feed covers four weeks back and half a year ahead: one event for each stretch the person
is primary or secondary, overrides included. Times are written in UTC, which every calendar
shows in its own zone, so no time-zone definitions travel with the feed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import voice_prompts
from core.config import Staff
from dispatch.oncall.rotation import Shift, last_handoff, schedule
from dispatch.runtime import Runtime

WEEKS_BACK = 4
WEEKS_AHEAD = 26
REFRESH = timedelta(hours=1)  # how often a subscribed calendar should fetch the feed again


@dataclass(frozen=True)
class Duty:
    starts: datetime
    ends: datetime
    role: str  # primary | secondary
    primary: Staff
    secondary: Staff | None


def duties(staff_id: str, found: list[Shift]) -> list[Duty]:
    """The stretches ``staff_id`` is on call in ``found``, one per role, joined across handoffs."""
    merged: list[Duty] = []
    for shift in found:
        if shift.primary.id == staff_id:
            role = "primary"
        elif shift.secondary is not None and shift.secondary.id == staff_id:
            role = "secondary"
        else:
            continue
        last = merged[-1] if merged else None
        if last and last.role == role and last.ends == shift.starts:
            merged[-1] = Duty(last.starts, shift.ends, role, last.primary, last.secondary)
        else:
            merged.append(Duty(shift.starts, shift.ends, role, shift.primary, shift.secondary))
    return merged


def feed(runtime: Runtime, staff: Staff) -> bytes:
    """The iCalendar text of ``staff``'s duty around now."""
    from icalendar import Calendar, Event  # here: a feed is asked for now and then, and the web workers stay lean
    config, now = runtime.config, runtime.now()
    start = last_handoff(config, now) - timedelta(weeks=WEEKS_BACK)
    end = start + timedelta(weeks=WEEKS_BACK + WEEKS_AHEAD)
    found = schedule(runtime, start, end)
    calendar = Calendar()
    calendar.add("prodid", f"-//{config.company_name}//support line on-call//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", voice_prompts.say("calendar_name", company=config.company_name, name=staff.name))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", REFRESH)
    nobody = voice_prompts.say("calendar_nobody")
    for duty in duties(staff.id, found):
        event = Event()
        event.add("uid", f"oncall-{staff.id}-{duty.role}-{duty.starts:%Y%m%dT%H%M%SZ}@{config.ticket_prefix.lower()}"
                         f".{config.support_number.lstrip('+')}")
        event.add("dtstamp", now)
        event.add("dtstart", duty.starts)
        event.add("dtend", duty.ends)
        event.add("summary", voice_prompts.say(f"calendar_{duty.role}", company=config.company_name))
        event.add("description", voice_prompts.say(
            "calendar_description", primary=duty.primary.name,
            secondary=duty.secondary.name if duty.secondary else nobody, mobile=staff.mobile))
        event.add("transp", "TRANSPARENT")  # on call is not busy: meetings can still be booked
        calendar.add_component(event)
    return calendar.to_ical()
