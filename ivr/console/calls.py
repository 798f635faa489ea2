"""The Calls page: the call log (every inbound call and what became of it), a day at a time,
filtered by outcome."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import request

from core.db import parse_id
from dispatch.calls import log
from dispatch.calls.models import CallLog
from ivr.console.base import bp, page, say
from ivr.context import runtime as _runtime

PAGE_SIZE = 100


# The oldest day the log is asked for: before it, a date is a typing slip, and the day before
# ``date.min`` does not exist.
FIRST_DAY = date(2000, 1, 1)


@bp.get("/calls")
def calls():
    runtime = _runtime()
    zone = runtime.config.timezone
    today = runtime.now().astimezone(zone).date()
    try:
        day = date.fromisoformat(request.args.get("day") or today.isoformat())
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= today:
        return _refused(say("console_bad_day", day=request.args.get("day"), first=FIRST_DAY.isoformat(),
                            today=today.isoformat()))
    outcome = request.args.get("outcome") or None
    if outcome is not None and outcome not in log.OUTCOMES:
        return _refused(say("console_bad_outcome", outcome=outcome))
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    with runtime.store.reading() as session:
        after = None
        if request.args.get("after"):
            after = session.get(CallLog, parse_id(request.args["after"]) or 0)
            if after is None:
                return _refused(say("console_bad_page"))
        found = log.started_between(session, start, end, PAGE_SIZE + 1, outcome=outcome, after=after)
        outcomes = log.outcomes_between(session, start, end)
    more = len(found) > PAGE_SIZE
    return page("console/calls.html", title="Calls", nav="calls", day=day, today=today, calls=found[:PAGE_SIZE],
                outcomes=outcomes, outcome=outcome, all_outcomes=log.OUTCOMES, paged=after is not None,
                following=found[PAGE_SIZE - 1].id if more else None,
                previous_day=day - timedelta(days=1) if day > FIRST_DAY else None,
                next_day=day + timedelta(days=1) if day < today else None)


def _refused(message: str):
    return page("console/error.html", 400, title="Not a filter the call log has", message=message)
