"""A ticket's timeline in words, as the console shows it: each stored event with its details read
out (staff ids as names, channels and boxes in plain words). An event without words of its own
is shown by its name and details, so nothing on the timeline is hidden."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import voice_prompts
from core.config import Config
from dispatch.tickets.models import TimelineEvent


@dataclass(frozen=True)
class Line:
    at: datetime
    event: str
    text: str
    quote: str | None = None  # words someone wrote (a note), shown as they wrote them
    extra: tuple[tuple[str, str], ...] = ()  # details shown as name: value


def _say(key: str, **values) -> str:
    return voice_prompts.say("console_" + key, **values)


def _name(config: Config, staff_id) -> str:
    person = config.staff.get(staff_id) if isinstance(staff_id, str) else None
    return person.name if person else (str(staff_id) if staff_id else _say("someone"))


def _names(config: Config, ids) -> str:
    people = [_name(config, i) for i in ids or []]
    return ", ".join(people) if people else _say("nobody")


def _via(via) -> str:
    try:
        return _say(f"via_{via}")
    except KeyError:
        return f"({via})" if via else ""


def _channel(channel) -> str:
    try:
        return _say(f"channel_{channel}")
    except KeyError:
        return str(channel or "")


def _box(box) -> str:
    try:
        return _say(f"box_{box}")
    except KeyError:
        return str(box or "")


def _caller(number) -> str:
    return _say("anonymous_caller") if number in (None, "", "anonymous") else str(number)


_SIMPLE = ("recording_absent", "recording_failed", "transcript_failed", "another_recording", "another_transcript",
           "page_requested", "verification_started")
_PAGE = ("page_sent", "page_resumed")


def words(config: Config, event: TimelineEvent) -> Line:
    """The line the console shows for ``event``."""
    d = dict(event.detail or {})
    name = event.event
    who = _name(config, d.get("by") or d.get("staff"))
    try:
        if name == "created":
            text = (_say("event_created", box=_box(d["box"]), caller=_caller(d.get("caller")))
                    if d.get("box") else _say("event_created_plain"))
        elif name in _SIMPLE:
            text = _say(f"event_{name}")
        elif name == "recording":
            text = _say("event_recording", seconds=d.get("seconds") or 0)
        elif name == "transcript":
            text = _say("event_transcript", words=d.get("words") or 0)
        elif name == "escalation_step":
            key = "event_escalation_step_early" if d.get("early_because") else "event_escalation_step"
            text = _say(key, round=d["round"], step=d["step"], people=_names(config, d.get("staff")),
                        channel=_channel(d.get("channel")), reason=d.get("early_because"))
        elif name in _PAGE:
            text = _say(f"event_{name}", who=who, channel=_channel(d.get("channel")))
        elif name == "page_retry":
            text = _say("event_page_retry", who=who, channel=_channel(d.get("channel")), error=d.get("error"),
                        seconds=d.get("retry_in_seconds"))
        elif name == "page_failed":
            text = _say("event_page_failed", who=who, channel=_channel(d.get("channel")), error=d.get("error"))
        elif name == "delivery":
            text = _say("event_delivery", who=who, channel=_channel(d.get("channel")), status=d.get("status"))
        elif name == "delivery_timeout":
            text = _say("event_delivery_timeout", who=who, channel=_channel(d.get("channel")), minutes=d.get("minutes"))
        elif name in ("notice_sent", "final_notice_sent", "callback_call"):
            text = _say(f"event_{name}", who=who)
        elif name == "unacknowledged":
            text = _say("event_unacknowledged", rounds=d.get("rounds"))
        elif name in ("acknowledged", "resolved", "reopened"):
            text = _say(f"event_{name}", who=who, via=_via(d.get("via")))
        elif name == "others_notified":
            text = _say("event_others_notified", people=_names(config, d.get("staff")), who=who,
                        about=_say(f"about_{d.get('about')}"))
        elif name == "reply":
            text = _say("event_reply", who=who, command=d.get("command"))
        elif name == "note":
            return Line(event.at, name, _say("event_note", who=who, via=_via(d.get("via"))), quote=d.get("text"))
        elif name == "callback_requested" and "by" in d:
            text = _say("event_callback_requested", who=who, via=_via(d.get("via")))
        elif name == "callback_requested":
            text = _say("event_verification_callback_requested", to=d.get("to"))
        elif name == "callback":
            text = _say("event_callback", who=who, status=str(d.get("status")).replace("_", " "),
                         seconds=d.get("seconds") or 0)
        elif name == "caller_identified":
            text = _say("event_caller_identified", contact=d.get("contact"), client=d.get("client"))
        elif name == "caller_not_identified":
            text = _say("event_caller_not_identified", reason=d.get("reason"))
        elif name == "pin_failed":
            text = _say("event_pin_failed", attempt=d.get("attempt"))
        elif name == "pin_locked":
            text = _say("event_pin_locked", contact=d.get("contact"), failures=d.get("failures"))
        elif name == "verified":
            until = d.get("until")
            until = datetime.fromisoformat(until).astimezone(config.timezone).strftime("%H:%M") if until else "-"
            text = _say("event_verified", contact=d.get("contact"), method=d.get("method"), until=until)
        else:
            return _generic(event, d, config)
    except (KeyError, TypeError, ValueError):
        return _generic(event, d, config)
    return Line(event.at, name, text)


def _generic(event: TimelineEvent, detail: dict, config: Config) -> Line:
    """An event without words of its own: its name, and its details as they are (ids that are staff as names)."""
    text = _say("event_generic", event=event.event.replace("_", " ").capitalize())
    extra = []
    for key, value in detail.items():
        if key in ("by", "staff") and isinstance(value, str):
            value = _name(config, value)
        elif isinstance(value, list):
            value = ", ".join(_name(config, v) if key == "staff" else str(v) for v in value)
        extra.append((key.replace("_", " "), str(value)))
    return Line(event.at, event.event, text, extra=tuple(extra))
