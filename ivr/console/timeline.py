"""A ticket's timeline in words, as the console shows it: each stored event with its details read
out (staff ids as names, channels and boxes in plain words). An event without words of its own
(or whose details are not what its words expect) is shown by its name and details, so nothing on
the timeline is hidden.

``WORDED`` names every event with words of its own; the console's tests check that it covers every
event the code writes, so a new one cannot slip by unworded.
"""
from __future__ import annotations

from collections.abc import Callable
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
    quote: str | None = None  # words someone wrote or said (a note, a transcript), shown as they are
    extra: tuple[tuple[str, str], ...] = ()  # details shown as name: value


def _say(key: str, **values) -> str:
    return voice_prompts.say("console_" + key, **values)


def _maybe(prefix: str, value) -> str | None:
    try:
        return _say(f"{prefix}_{value}")
    except KeyError:
        return None


def _outcome(status) -> str:
    """A call's neutral outcome (``no_answer``) as words (``no answer``)."""
    return str(status).replace("_", " ")


# Who did something: a staff id, or one of these (the caller, the API, the follow-up's own rules).
_NOT_STAFF = ("caller", "api")


def _name(config: Config, staff_id) -> str:
    person = config.staff.get(staff_id) if isinstance(staff_id, str) else None
    if person is not None:
        return person.name
    if staff_id in _NOT_STAFF:
        return _say(f"who_{staff_id}")
    return str(staff_id) if staff_id else _say("someone")


def _names(config: Config, ids) -> str:
    people = [_name(config, i) for i in ids or []]
    return ", ".join(people) if people else _say("nobody")


def _via(via) -> str:
    return _maybe("via", via) or (f"({via})" if via else "")


def _channel(channel) -> str:
    return _maybe("channel", channel) or str(channel or "")


def _box(box) -> str:
    return _maybe("box", box) or str(box or "")


def _caller(number) -> str:
    return _say("anonymous_caller") if number in (None, "", "anonymous") else str(number)


def _time(config: Config, iso) -> str:
    if not iso:
        return "-"
    at = datetime.fromisoformat(iso).astimezone(config.timezone)
    return f"{at:%a} {at.day} {at:%b %H:%M}"


Words = Callable[[Config, dict], "str | tuple[str, str | None]"]
_WORDS: dict[str, Words] = {}


def _words(*names: str):
    def register(function: Words) -> Words:
        for name in names:
            _WORDS[name] = function
        return function
    return register


def _plain(*names: str) -> None:
    """Events whose sentence needs none of their details."""
    for name in names:
        _WORDS[name] = lambda _config, _d, name=name: _say(f"event_{name}")


_plain("recording_absent", "recording_failed", "transcript_failed", "page_requested", "verification_started",
       "closed")


def words(config: Config, event: TimelineEvent) -> Line:
    """The line the console shows for ``event``."""
    detail = dict(event.detail or {})
    function = _WORDS.get(event.event)
    if function is None:
        return _generic(event, detail, config)
    try:
        said = function(config, detail)
    except (KeyError, TypeError, ValueError, AttributeError):
        return _generic(event, detail, config)
    text, quote = said if isinstance(said, tuple) else (said, None)
    return Line(event.at, event.event, text, quote=quote)


def _who(config: Config, d: dict) -> str:
    return _name(config, d.get("by") or d.get("staff"))


# -- the call and its ticket -----------------------------------------------------------------------
@_words("created")
def _created(config, d):
    if d.get("box"):
        return _say("event_created", box=_box(d["box"]), caller=_caller(d.get("caller")))
    return _say("event_created_plain")


@_words("recording")
def _recording(config, d):
    return _say("event_recording", seconds=d.get("seconds") or 0)


@_words("transcript")
def _transcript(config, d):
    return _say("event_transcript", words=d.get("words") or 0)


@_words("another_recording")
def _another_recording(config, d):
    return _say("event_another_recording", seconds=d.get("seconds") or 0)


@_words("another_transcript")
def _another_transcript(config, d):
    return _say("event_another_transcript"), d.get("text")


@_words("joined_call")
def _joined_call(config, d):
    return _say("event_joined_call", caller=_caller(d.get("caller")), reason=d["reason"])


# -- paging ----------------------------------------------------------------------------------------
@_words("escalation_step")
def _escalation_step(config, d):
    key = "event_escalation_step_early" if d.get("early_because") else "event_escalation_step"
    return _say(key, round=d["round"], step=d["step"], people=_names(config, d.get("staff")),
                channel=_channel(d.get("channel")), reason=d.get("early_because"))


@_words("page_sent", "page_resumed")
def _page_sent(config, d):
    return _say("event_page_resumed" if "stopped_worker" in d else "event_page_sent", who=_who(config, d),
                channel=_channel(d.get("channel")))


def _page(config, d) -> str:
    """Which message: a page (any text or call to staff) to someone by a channel, or a text to the caller."""
    if d.get("staff") == "caller":
        return _say("text_to_caller")
    return _say("page_to", who=_who(config, d), channel=_channel(d.get("channel")))


@_words("page_retry")
def _page_retry(config, d):
    return _say("event_page_retry", page=_page(config, d), error=d.get("error"), seconds=d["retry_in_seconds"])


@_words("page_failed")
def _page_failed(config, d):
    return _say("event_page_failed", page=_page(config, d), error=d.get("error"))


@_words("page_bundled")
def _page_bundled(config, d):
    return _say("event_page_bundled", who=_who(config, d), tickets=", ".join(d["tickets"]))


@_words("delivery")
def _delivery(config, d):
    return _say("event_delivery", page=_page(config, d), status=d.get("status"))


@_words("delivery_timeout")
def _delivery_timeout(config, d):
    return _say("event_delivery_timeout", page=_page(config, d), minutes=d["minutes"])


# Texts and calls sent as pages of their own kinds (``notification.delivery``: "<kind>_sent" unless named).
_SENT = ("notice_sent", "final_notice_sent", "callback_call", "security_notice_sent", "transcript_sent",
         "digest_sent", "reply_notice_sent", "reopen_notice_sent", "rating_notice_sent", "sla_warning_sent",
         "sla_breach_sent", "caller_confirm_sent", "caller_reminder_sent", "caller_resolved_sent")


def _sent_words(name: str) -> Words:
    return lambda config, d: _say(f"event_{name}", who=_who(config, d))


for _name_sent in _SENT:
    _WORDS[_name_sent] = _sent_words(_name_sent)


@_words("unacknowledged")
def _unacknowledged(config, d):
    return _say("event_unacknowledged", rounds=d["rounds"])


@_words("others_notified")
def _others_notified(config, d):
    return _say("event_others_notified", people=_names(config, d.get("staff")), who=_who(config, d),
                about=_say(f"about_{d['about']}"))


@_words("reply")
def _reply(config, d):
    return _say("event_reply", who=_who(config, d), command=d["command"])


@_words("reply_refused")
def _reply_refused(config, d):
    return _say("event_reply_refused", who=_who(config, d), command=d["command"], reason=d["reason"])


# -- the ticket's lifecycle ------------------------------------------------------------------------
@_words("acknowledged")
def _acknowledged(config, d):
    text = _say("event_acknowledged", who=_who(config, d), via=_via(d.get("via")))
    return text + (" " + _say("event_acknowledged_owner") if d.get("owner") else "")


@_words("taken_live")
def _taken_live(config, d):
    return _say("event_taken_live", who=_who(config, d))


@_words("resolved")
def _resolved(config, d):
    if d.get("reason") == "no contact":
        return _say("event_resolved_no_contact")
    return _say("event_resolved", who=_who(config, d), via=_via(d.get("via")))


@_words("reopened")
def _reopened(config, d):
    return _say("event_reopened", who=_who(config, d), via=_via(d.get("via")))


@_words("waiting")
def _waiting(config, d):
    return _say("event_waiting", who=_who(config, d), via=_via(d.get("via")))


@_words("wait_ended")
def _wait_ended(config, d):
    return _say("event_wait_ended", reason=d["reason"]), d.get("text")


@_words("priority")
def _priority(config, d):
    return _say("event_priority", who=_who(config, d), via=_via(d.get("via")), before=d["before"], after=d["after"])


@_words("owner")
def _owner(config, d):
    if d["after"] is None:
        return _say("event_owner_none", who=_who(config, d), via=_via(d.get("via")))
    if d.get("after") == d.get("by"):
        return _say("event_owner_took", who=_who(config, d), via=_via(d.get("via")))
    return _say("event_owner", who=_who(config, d), via=_via(d.get("via")), owner=_name(config, d["after"]))


@_words("note")
def _note(config, d):
    return _say("event_note", who=_who(config, d), via=_via(d.get("via"))), d.get("text")


@_words("rating")
def _rating(config, d):
    return _say("event_rating", rating=d["rating"], word=voice_prompts.say(f"rating_{d['rating']}"))


def _sla_words(stage: str) -> Words:
    return lambda config, d: _say(f"event_sla_{stage}", target=_say(f"target_{d['target']}"),
                                  due=_time(config, d["due"]), people=_names(config, d.get("staff")))


for _stage in ("warning", "breach"):
    _WORDS[f"sla_{_stage}"] = _sla_words(_stage)


@_words("digest")
def _digest(config, d):
    return _say("event_digest", waiting=d["waiting"], people=_names(config, d.get("staff")))


# -- texts to the caller ----------------------------------------------------------------------------
@_words("caller_not_texted")
def _caller_not_texted(config, d):
    return _say("event_caller_not_texted", what=_say(f"text_{d['kind']}"), reason=d["reason"])


@_words("caller_unreachable")
def _caller_unreachable(config, d):
    key = "event_caller_unreachable_for_good" if d.get("permanent") else "event_caller_unreachable"
    return _say(key, what=_say(f"text_{d['kind']}"), reason=d["reason"])


# -- calling the caller back ------------------------------------------------------------------------
@_words("callback_requested")
def _callback_requested(config, d):
    if "by" in d:
        return _say("event_callback_requested", who=_who(config, d), via=_via(d.get("via")))
    return _say("event_verification_callback_requested", to=d["to"])


@_words("callback_refused")
def _callback_refused(config, d):
    if "by" in d:  # a technician's call back through the support number
        reason = _maybe("call_refused", d["reason"]) or d["reason"]
        return _say("event_callback_refused", who=_who(config, d), via=_via(d.get("via")), reason=reason)
    return _say("event_verification_callback_refused", reason=d["reason"])


@_words("callback")
def _callback(config, d):
    return _say("event_callback", who=_who(config, d), status=_outcome(d["status"]), seconds=d.get("seconds") or 0)


# -- verification ----------------------------------------------------------------------------------
@_words("caller_identified")
def _caller_identified(config, d):
    return _say("event_caller_identified", contact=d["contact"], client=d["client"])


@_words("caller_not_identified")
def _caller_not_identified(config, d):
    return _say("event_caller_not_identified", reason=d["reason"])


@_words("pin_failed")
def _pin_failed(config, d):
    key = "event_pin_failed_callback" if d.get("on") == "callback" else "event_pin_failed"
    return _say(key, attempt=d["attempt"], reason=d.get("reason") or _say("wrong_pin"))


@_words("pin_locked")
def _pin_locked(config, d):
    if d.get("reset_needed"):
        return _say("event_pin_locked_reset", contact=d["contact"], failures=d["failures"])
    return _say("event_pin_locked", contact=d["contact"], failures=d["failures"], until=_time(config, d["until"]))


@_words("verified")
def _verified(config, d):
    return _say("event_verified", contact=d["contact"], method=_maybe("method", d["method"]) or d["method"],
                until=_time(config, d.get("until")))


@_words("callback_asked")
def _callback_asked(config, d):
    return _say("event_callback_asked", how=_maybe("asked", d.get("by")) or d.get("by"))


@_words("callback_not_placed")
def _callback_not_placed(config, d):
    return _say("event_callback_not_placed", reason=d["reason"])


def _to_words(name: str) -> Words:
    return lambda config, d: _say(f"event_{name}", to=d["to"])


for _name_to in ("callback_placed", "callback_confirmed", "secret_repeated"):
    _WORDS[_name_to] = _to_words(_name_to)


def _to_reason_words(name: str) -> Words:
    return lambda config, d: _say(f"event_{name}", to=d["to"], reason=d["reason"])


for _name_reason in ("callback_failed", "callback_rejected"):
    _WORDS[_name_reason] = _to_reason_words(_name_reason)


@_words("callback_answered")
def _callback_answered(config, d):
    return _say("event_callback_answered", to=d["to"], by=_maybe("answered_by", d.get("answered_by"))
                or d.get("answered_by"))


@_words("callback_unanswered")
def _callback_unanswered(config, d):
    return _say("event_callback_unanswered", to=d["to"], status=_outcome(d["status"]))


@_words("callback_handed_over")
def _callback_handed_over(config, d):
    if d.get("to") == "oncall":
        return _say("event_callback_handed_over_oncall", who=_who(config, d))
    return _say("event_callback_handed_over_desk")


@_words("callback_hand_over_accepted")
def _callback_hand_over_accepted(config, d):
    return _say("event_callback_hand_over_accepted", number=d.get("by") or _say("someone"))


@_words("callback_hand_over_ended")
def _callback_hand_over_ended(config, d):
    return _say("event_callback_hand_over_taken" if d.get("taken") else "event_callback_hand_over_missed",
                status=_outcome(d["status"]))


@_words("disclosure_requested")
def _disclosure_requested(config, d):
    return _say("event_disclosure_requested", by=d["requested_by"], contact=d["contact"])


@_words("secret_delivered")
def _secret_delivered(config, d):
    return _say("event_secret_delivered", by=d["requested_by"], to=d["to"])


@_words("secret_destroyed")
def _secret_destroyed(config, d):
    return _say("event_secret_destroyed", reason=d["reason"])


# -- hand-offs to the MSP's own tools ---------------------------------------------------------------
@_words("handoff_delivered")
def _handoff_delivered(config, d):
    return _say("event_handoff_delivered", handoff=d["handoff"], to=d["to"], attempts=d["attempts"])


@_words("handoff_retrying")
def _handoff_retrying(config, d):
    return _say("event_handoff_retrying", handoff=d["handoff"], to=d["to"], error=d.get("error") or "-",
                next=_time(config, d.get("next_at")))


@_words("handoff_failed")
def _handoff_failed(config, d):
    return _say("event_handoff_failed", handoff=d["handoff"], to=d["to"], attempts=d["attempts"],
                error=d.get("error") or "-")


@_words("handoff_disabled")
def _handoff_disabled(config, d):
    return _say("event_handoff_disabled", handoff=d["handoff"], to=d["to"], error=d.get("error") or "410 Gone")


WORDED = frozenset(_WORDS)


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
