"""Turning numbers and times into words a text-to-speech voice says naturally."""
from __future__ import annotations

from datetime import datetime


def spell(text: str) -> str:
    """'CS-123' -> 'C, S, 1, 2, 3': one character at a time, with pauses between."""
    return ", ".join(ch for ch in text if ch.isalnum())


def spoken_ticket(prefix: str, number: int) -> str:
    """A ticket number the way a caller can write it down: the prefix then the digits."""
    return spell(f"{prefix}{number}")


def clock_time(at: datetime) -> str:
    """'9 AM', '9:30 AM', '12 PM'."""
    hour = at.hour % 12 or 12
    suffix = "AM" if at.hour < 12 else "PM"
    return f"{hour} {suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d} {suffix}"


def spoken_opening(opening: datetime, now: datetime) -> str:
    """When the desk opens, relative to now in the same zone: 'today at 9 AM', 'tomorrow at 9 AM',
    'on Monday at 9 AM', or 'on Monday, January 5 at 9 AM' beyond the coming week."""
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    when = clock_time(opening)
    if days == 0:
        return f"today at {when}"
    if days == 1:
        return f"tomorrow at {when}"
    if days < 7:
        return f"on {opening:%A} at {when}"
    return f"on {opening:%A}, {opening:%B} {opening.day} at {when}"
