"""Who is on call at an instant: the weekly rotation, temporary overrides, and when that changes.

Handoffs happen at a wall-clock time in the company's time zone ("mon 09:00"), so
they stay at 09:00 local across daylight-saving changes; all arithmetic is done on
local calendar dates and converted to UTC only for comparison. The rotation is
anchored at the first handoff on or after ``ANCHOR`` (rotation[0] is primary that
week), so every process computes the same answer without shared state.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from core.config import Config, Staff
from dispatch.oncall.models import OncallOverride
from dispatch.runtime import Runtime

ANCHOR = date(2024, 1, 1)
LOOK_AHEAD = timedelta(weeks=53)  # how far "until" looks for a change (an override may end in years)


@dataclass(frozen=True)
class OnCall:
    primary: Staff
    secondary: Staff | None
    managers: tuple[Staff, ...]
    until: datetime  # the next instant the answer changes: a handoff or an override boundary
    override: bool = False


def _handoff_at(config: Config, day: date) -> datetime:
    return datetime.combine(day, config.handoff_time, config.timezone).astimezone(timezone.utc)


def last_handoff(config: Config, at: datetime) -> datetime:
    """The latest handoff at or before ``at`` (UTC)."""
    local = at.astimezone(config.timezone)
    day = local.date() - timedelta(days=(local.weekday() - config.handoff_weekday) % 7)
    handoff = _handoff_at(config, day)
    return handoff if handoff <= at else _handoff_at(config, day - timedelta(days=7))


def next_handoff(config: Config, at: datetime) -> datetime:
    day = last_handoff(config, at).astimezone(config.timezone).date()
    return _handoff_at(config, day + timedelta(days=7))


def _rotation_index(config: Config, at: datetime) -> int:
    """The rotation's place for the week containing ``at`` (a name may stand in it more than once)."""
    week_start = last_handoff(config, at).astimezone(config.timezone).date()
    anchor = ANCHOR + timedelta(days=(config.handoff_weekday - ANCHOR.weekday()) % 7)
    return ((week_start - anchor).days // 7) % len(config.rotation)


def scheduled_primary(config: Config, at: datetime) -> str:
    """The rotation's primary for the week containing ``at``, ignoring overrides."""
    return config.rotation[_rotation_index(config, at)]


def overrides_near(session, at: datetime) -> list[OncallOverride]:
    """Overrides that have not ended by ``at``: the ones that apply now or change the answer later."""
    return list(session.scalars(select(OncallOverride).where(OncallOverride.ends_at > at)
                                .order_by(OncallOverride.id)))


def on_call(config: Config, overrides: list[OncallOverride], at: datetime) -> OnCall:
    """Primary, secondary and managers at ``at``; the newest override covering ``at`` wins.

    The secondary is the person after the scheduled primary in the rotation; when an
    override makes that person primary, the displaced scheduled primary is secondary.
    """
    at = at.astimezone(timezone.utc)
    primary, secondary, overridden = _pair(config, overrides, at)
    return OnCall(primary=config.staff[primary],
                  secondary=config.staff[secondary] if secondary else None,
                  managers=tuple(config.staff[m] for m in config.managers),
                  until=_next_change(config, overrides, at, (primary, secondary)).astimezone(config.timezone),
                  override=overridden)


def _pair(config: Config, overrides: list[OncallOverride], at: datetime) -> tuple[str, str | None, bool]:
    """(primary, secondary, whether an override decides the primary) at ``at`` (UTC)."""
    turn = _rotation_index(config, at)
    scheduled = config.rotation[turn]
    active = [o for o in overrides if o.starts_at <= at < o.ends_at and o.staff_id in config.staff]
    primary = active[-1].staff_id if active else scheduled
    following = config.rotation[(turn + 1) % len(config.rotation)]
    secondary = following if following != primary else scheduled
    return primary, (secondary if secondary != primary else None), bool(active)


def _next_change(config: Config, overrides: list[OncallOverride], at: datetime, now: tuple) -> datetime:
    """The first handoff or override boundary after ``at`` where primary or secondary change (an
    override hidden behind a newer one changes nothing when it starts or ends), looked for up to
    ``LOOK_AHEAD`` on; the next handoff if none does by then."""
    horizon = at + LOOK_AHEAD
    boundaries = sorted({m for o in overrides for m in (o.starts_at, o.ends_at) if at < m <= horizon})
    first = handoff = next_handoff(config, at)
    taken = 0
    while True:  # boundaries and handoffs in time order
        if taken < len(boundaries) and boundaries[taken] <= handoff:
            moment, taken = boundaries[taken], taken + 1
        elif handoff <= horizon:
            moment, handoff = handoff, next_handoff(config, handoff)
        else:
            return first
        if _pair(config, overrides, moment)[:2] != now:
            return moment


@dataclass(frozen=True)
class Shift:
    """A stretch of time with the same primary and secondary on call."""

    starts: datetime
    ends: datetime
    primary: Staff
    secondary: Staff | None
    override: bool  # an override, not the rotation, makes the primary


def overrides_between(session, start: datetime, end: datetime) -> list[OncallOverride]:
    """Overrides in force at some time from ``start`` to ``end``, oldest first (the newest wins)."""
    return list(session.scalars(select(OncallOverride).where(
        OncallOverride.ends_at > start, OncallOverride.starts_at < end).order_by(OncallOverride.id)))


def shifts(config: Config, overrides: list[OncallOverride], start: datetime, end: datetime) -> list[Shift]:
    """Who is on call from ``start`` to ``end``: a new shift at every handoff (one a week at least,
    as people plan), and wherever an override changes the primary or the secondary."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    handoffs = set()
    moment = next_handoff(config, start)
    while moment < end:
        handoffs.add(moment)
        moment = next_handoff(config, moment)
    edges = {m for o in overrides for m in (o.starts_at, o.ends_at) if start < m < end}
    moments = [start, *sorted(handoffs | edges)]
    found: list[Shift] = []
    for index, moment in enumerate(moments):
        ends = moments[index + 1] if index + 1 < len(moments) else end
        primary, secondary, overridden = _pair(config, overrides, moment)
        shift = Shift(moment, ends, config.staff[primary], config.staff[secondary] if secondary else None, overridden)
        last = found[-1] if found else None
        if last and moment not in handoffs and (last.primary, last.secondary, last.override) == (
                shift.primary, shift.secondary, shift.override):
            found[-1] = replace(last, ends=ends)
        else:
            found.append(shift)
    return found


def schedule(runtime: Runtime, start: datetime, end: datetime) -> list[Shift]:
    """:func:`shifts` with the overrides stored."""
    with runtime.store.reading() as session:
        return shifts(runtime.config, overrides_between(session, start, end), start, end)


def upcoming_overrides(runtime: Runtime, at: datetime) -> list[OncallOverride]:
    """Overrides that have not ended by ``at``, soonest first."""
    with runtime.store.reading() as session:
        return list(session.scalars(select(OncallOverride).where(OncallOverride.ends_at > at)
                                    .order_by(OncallOverride.starts_at, OncallOverride.id)))


def override_refusal(config: Config, staff_id: str, starts_at: datetime, ends_at: datetime,
                     now: datetime) -> str | None:
    """Why an override of ``staff_id`` from ``starts_at`` to ``ends_at`` cannot be stored, or None."""
    if staff_id not in config.staff:
        return f"{staff_id!r} is not a staff id"
    if ends_at <= starts_at:
        return "the end must be after the start"
    if ends_at <= now:
        return "the end is already in the past"
    return None


def find_override(runtime: Runtime, override_id: int) -> OncallOverride | None:
    with runtime.store.reading() as session:
        return session.get(OncallOverride, override_id)


def who(runtime: Runtime, at: datetime | None = None) -> OnCall:
    at = at or runtime.now()
    with runtime.store.reading() as session:
        return on_call(runtime.config, overrides_near(session, at), at)


def add_override(runtime: Runtime, staff_id: str, starts_at: datetime, ends_at: datetime,
                 by: str | None = None) -> OncallOverride:
    """Store a temporary primary (set by staff member ``by``, if one); the caller has checked the staff
    id and the order of the times (:func:`override_refusal`)."""
    with runtime.store.transaction() as session:
        override = OncallOverride(staff_id=staff_id, starts_at=starts_at, ends_at=ends_at, created_at=runtime.now(),
                                  created_by=by)
        session.add(override)
        session.flush()
        return override


def cancel_override(runtime: Runtime, override_id: int) -> OncallOverride | None:
    """Remove override ``override_id`` (the rotation, or an older override, applies again); returns
    what it was, or None when there is no such override."""
    with runtime.store.transaction() as session:
        override = session.get(OncallOverride, override_id)
        if override is not None:
            session.delete(override)
        return override
