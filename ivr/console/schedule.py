"""The Schedule page: the rotation for the coming weeks, overrides (add, remove), and each person's
private calendar link; and the calendar feed itself, which needs no session (a calendar app
fetches it), only the link's unguessable token."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Response, abort, flash, g, redirect, request, url_for

from core.db import parse_id
from dispatch import oncall
from dispatch.oncall import calendar
from dispatch.oncall.rotation import last_handoff
from dispatch.staff import accounts, roles
from ivr.api.oncall import parse_instant
from ivr.console.base import bp, local_time, page, say
from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)

WEEKS = 8


def _feed_url(staff_id: str, token: str) -> str:
    path = url_for("console.calendar_feed", staff_id=staff_id, token=token)
    base = _runtime().settings.public_base_url
    return (base + path) if base else request.host_url.rstrip("/") + path


def _schedule(form: dict | None = None, error: str | None = None, status: int = 200):
    runtime = _runtime()
    config, now = runtime.config, runtime.now()
    start = last_handoff(config, now)
    shifts = oncall.schedule(runtime, start, start + timedelta(weeks=WEEKS))
    overrides = oncall.upcoming_overrides(runtime, now)
    me = g.staff
    tokens = accounts.calendar_tokens(runtime, config)
    links = [(config.staff[sid], _feed_url(sid, token)) for sid, token in tokens.items() if roles.may_act_for(me, sid)]
    choices = [person for person in config.staff.values() if roles.may_act_for(me, person.id)]
    return page("console/schedule.html", status, title="Schedule", nav="schedule", shifts=shifts, now=now,
                overrides=overrides, links=links, choices=choices, form=form or {}, error=error,
                may_remove={o.id for o in overrides if roles.may_act_for(me, o.staff_id)}, weeks=WEEKS,
                zone=now.astimezone(config.timezone).tzname())


@bp.get("/schedule")
def schedule():
    return _schedule()


@bp.post("/schedule/overrides")
def add_override():
    runtime = _runtime()
    config = runtime.config
    form = {key: (request.form.get(key) or "").strip() for key in ("staff", "starts", "ends")}
    staff_id = form["staff"]
    if staff_id in config.staff and not roles.may_act_for(g.staff, staff_id):
        abort(403)
    moments = {}
    for key, which in (("starts", "start"), ("ends", "end")):
        try:
            moments[key] = parse_instant(form[key], config.timezone)
        except ValueError:
            return _schedule(form, say("console_override_bad_time", which=which), 400)
    reason = oncall.override_refusal(config, staff_id, moments["starts"], moments["ends"], runtime.now())
    if reason is not None:
        return _schedule(form, reason[0].upper() + reason[1:] + ".", 400)
    oncall.add_override(runtime, staff_id, moments["starts"], moments["ends"], by=g.staff.id)
    log.info("on-call override of %s from %s to %s set by %s", staff_id, moments["starts"].isoformat(),
             moments["ends"].isoformat(), g.staff.id)
    flash(say("console_override_added", name=config.staff[staff_id].name, starts=local_time(moments["starts"]),
              ends=local_time(moments["ends"])))
    return redirect(url_for("console.schedule"), code=303)


@bp.post("/schedule/overrides/<override_id>/remove")
def remove_override(override_id: str):
    runtime = _runtime()
    ident = parse_id(override_id)
    found = oncall.find_override(runtime, ident) if ident is not None else None
    if found is None:
        flash(say("console_override_gone"))
        return redirect(url_for("console.schedule"), code=303)
    if not roles.may_act_for(g.staff, found.staff_id):
        abort(403)
    if oncall.cancel_override(runtime, found.id) is not None:
        log.info("on-call override %s of %s removed by %s", found.id, found.staff_id, g.staff.id)
        flash(say("console_override_removed", name=_name(found.staff_id), starts=local_time(found.starts_at),
                  ends=local_time(found.ends_at)))
    else:
        flash(say("console_override_gone"))
    return redirect(url_for("console.schedule"), code=303)


@bp.post("/schedule/calendar/<staff_id>/renew")
def renew_calendar(staff_id: str):
    runtime = _runtime()
    if staff_id not in runtime.config.staff:
        abort(404)
    if not roles.may_act_for(g.staff, staff_id):
        abort(403)
    accounts.renew_calendar_token(runtime, staff_id)
    flash(say("console_calendar_renewed", name=runtime.config.staff[staff_id].name))
    return redirect(url_for("console.schedule") + "#calendars", code=303)


@bp.get("/calendar/<staff_id>/<token>.ics")
def calendar_feed(staff_id: str, token: str):
    """The person's on-call duty as iCalendar; 404 alike for an unknown person and a wrong token."""
    runtime = _runtime()
    owner = accounts.calendar_owner(runtime, staff_id, token)
    if owner is None:
        abort(404)
    return Response(calendar.feed(runtime, owner), mimetype="text/calendar",
                    headers={"Content-Disposition": f'inline; filename="oncall-{owner.id}.ics"'})


def _name(staff_id: str) -> str:
    person = _runtime().config.staff.get(staff_id)
    return person.name if person else staff_id
