"""The two clocks a target can run on, as pure arithmetic on aware datetimes.

``24x7`` counts every second. ``business`` counts only the time inside the company's
``[hours]`` on days that are not holidays. Opening and closing times are wall-clock times
in the company's zone, each turned into an instant with zoneinfo, and lengths are taken
between instants: a day that changes to or from daylight-saving time is exactly as long
as it is, and 09:00 stays 09:00.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone

from core.config import Config
from core.hours import is_holiday, is_open

TWENTY_FOUR_SEVEN, BUSINESS = "24x7", "business"
# How far a business clock looks for enough open time (a desk open one hour a week still
# reaches a 32-hour target in well under this); beyond it a target is never due.
HORIZON_DAYS = 3 * 366


def _windows(config: Config, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The open windows (UTC instants) that end after ``start``, in order."""
    day = start.astimezone(config.timezone).date() - timedelta(days=1)  # a window may span midnight's zone shift
    for offset in range(HORIZON_DAYS):
        current = day + timedelta(days=offset)
        window = config.hours.get(current.weekday())
        if window is None or is_holiday(config, current):
            continue
        opens, closes = _instant(config, current, window[0]), _closing(config, current, window[1])
        if closes > start:
            yield max(opens, start), closes


def _instant(config: Config, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=config.timezone).astimezone(timezone.utc)


def _closing(config: Config, day: date, at: time) -> datetime:
    """A closing time; "24:00" (kept as the last instant of the day) is the next midnight."""
    if at == time.max:
        return _instant(config, day + timedelta(days=1), time(0))
    return _instant(config, day, at)


def add(config: Config, clock: str, start: datetime, length: timedelta) -> datetime | None:
    """The instant at which ``length`` of ``clock`` time has passed since ``start``; None when a
    business clock never gets that much open time (no hours at all)."""
    start = start.astimezone(timezone.utc)
    if clock == TWENTY_FOUR_SEVEN:
        return start + length
    left = length
    for opens, closes in _windows(config, start):
        if closes - opens >= left:
            return opens + left
        left -= closes - opens
    return None


def elapsed(config: Config, clock: str, since: datetime, until: datetime) -> timedelta:
    """How much ``clock`` time passes from ``since`` to ``until`` (nothing if ``until`` is not later)."""
    since, until = since.astimezone(timezone.utc), until.astimezone(timezone.utc)
    if until <= since:
        return timedelta(0)
    if clock == TWENTY_FOUR_SEVEN:
        return until - since
    total = timedelta(0)
    for opens, closes in _windows(config, since):
        if opens >= until:
            break
        total += min(closes, until) - opens
    return total


def runs_now(config: Config, clock: str, at: datetime) -> bool:
    """Whether ``clock`` is counting at ``at``: always for 24x7, inside business hours otherwise.
    A business clock's notices wait for the desk to open: nobody is texted about it at night."""
    return clock == TWENTY_FOUR_SEVEN or is_open(config, at)
