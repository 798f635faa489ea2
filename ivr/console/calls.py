"""The Calls page: a day's calls that became tickets, by kind and status, a day at a time."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import request

from core.db import parse_id
from dispatch.tickets import lists
from dispatch.tickets.models import STATUSES
from ivr.console.base import bp, page
from ivr.context import runtime as _runtime

PAGE_SIZE = 100


@bp.get("/calls")
def calls():
    runtime = _runtime()
    zone = runtime.config.timezone
    today = runtime.now().astimezone(zone).date()
    try:
        day = date.fromisoformat(request.args.get("day") or today.isoformat())
    except ValueError:
        day = today
    kind = request.args.get("kind") or None
    kind = kind if kind in lists.KINDS else None
    status = request.args.get("status") or None
    status = status if status in STATUSES else None
    before = parse_id(request.args.get("before"))
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    with runtime.store.reading() as session:
        found = lists.created_between(session, start, end, PAGE_SIZE + 1, kind=kind, status=status, before=before)
        kinds = lists.kinds_between(session, start, end)
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    return page("console/calls.html", title="Calls", nav="calls", day=day, today=today, tickets=found,
                kinds=kinds, kind=kind, status=status, all_kinds=lists.KINDS, all_statuses=STATUSES,
                previous_day=day - timedelta(days=1), next_day=day + timedelta(days=1) if day < today else None,
                older=found[-1].id if more else None, before=before)
