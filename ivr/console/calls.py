"""The Calls page: the call log (every inbound call and what became of it), a day at a time,
filtered by outcome."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import request

from core.db import parse_id
from dispatch.calls import log
from ivr.console.base import bp, page
from ivr.context import runtime as _runtime

PAGE_SIZE = 100


@bp.get("/calls")
def calls():
    runtime = _runtime()
    zone = runtime.config.timezone
    today = runtime.now().astimezone(zone).date()
    try:
        day = min(date.fromisoformat(request.args.get("day") or today.isoformat()), today)
    except ValueError:
        day = today
    outcome = request.args.get("outcome") or None
    outcome = outcome if outcome in log.OUTCOMES else None
    offset = parse_id(request.args.get("start")) or 0
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    with runtime.store.reading() as session:
        found = log.started_between(session, start, end, PAGE_SIZE + 1, outcome=outcome, offset=offset)
        outcomes = log.outcomes_between(session, start, end)
    more = len(found) > PAGE_SIZE
    return page("console/calls.html", title="Calls", nav="calls", day=day, today=today, calls=found[:PAGE_SIZE],
                outcomes=outcomes, outcome=outcome, all_outcomes=log.OUTCOMES, offset=offset,
                previous=max(0, offset - PAGE_SIZE) if offset else None,
                following=offset + PAGE_SIZE if more else None,
                previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1) if day < today else None)
