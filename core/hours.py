"""Business hours in the company's time zone: open now?, and when do we next open?

All arithmetic is on local wall-clock dates and times, converted with zoneinfo, so a
daylight-saving change never shifts opening time by an hour.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from core.config import Config


def is_holiday(config: Config, day: date) -> bool:
    if day in config.holidays:
        return True
    return config.holiday_country is not None and day in _calendar(config.holiday_country, day.year)


@lru_cache(maxsize=32)
def _calendar(country: str, year: int):
    import holidays

    return holidays.country_holidays(country, years=year)


def is_open(config: Config, at: datetime) -> bool:
    local = at.astimezone(config.timezone)
    window = config.hours.get(local.weekday())
    if window is None or is_holiday(config, local.date()):
        return False
    return window[0] <= local.time().replace(tzinfo=None) < window[1]


def next_opening(config: Config, at: datetime) -> datetime | None:
    """The next instant (aware, company zone) the desk opens after ``at``; None if it never does."""
    local = at.astimezone(config.timezone)
    for offset in range(0, 370):
        day = local.date() + timedelta(days=offset)
        window = config.hours.get(day.weekday())
        if window is None or is_holiday(config, day):
            continue
        opening = datetime.combine(day, window[0], tzinfo=config.timezone)
        if opening > local:
            return opening
    return None
