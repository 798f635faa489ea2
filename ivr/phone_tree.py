"""The phone tree: greeting, menu, the desk, voicemail boxes, ticket status.

Where the caller is in the flow travels in the signed URLs of the TwiML (``attempt``,
``box``), so the menu works with Redis down; Redis only keeps a hint per CallSid of
the box a caller reached, to open a ``missed_call`` ticket if they hang up silently.
Every answer ends in something the caller hears and a way forward.
"""
from __future__ import annotations

import logging
import re

import redis
from flask import Blueprint, request, url_for
from sqlalchemy.exc import SQLAlchemyError
from twilio.twiml.voice_response import VoiceResponse

from core import hours, phones
from dispatch.calls import intake, spool
from dispatch.directory.models import Contact
from dispatch.runtime import Runtime
from dispatch.tickets import numbers, queries
from dispatch.tickets.models import STATUSES
from dispatch.verification import identity
from ivr.after_response import after_response
from ivr.context import runtime as _runtime
from ivr.signature import require_twilio_signature
from ivr.twiml import CALL_ENDED, answer_errors_with, empty, hang_up, retried_by_twilio, speak, twiml
from voice_prompts import say, speech

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)

MENU_ATTEMPTS = 3
MENU_TIMEOUT_SECONDS = 3  # after the last key: short, so "1" is not kept waiting for more digits
CALL_HINT_TTL_SECONDS = 6 * 3600


def _attempt() -> int:
    try:
        return max(1, min(MENU_ATTEMPTS, int(request.args.get("attempt", "1"))))
    except ValueError:
        return 1


def _box() -> str:
    box = request.args.get("box", "support")
    return box if box in intake.BOXES else "support"


def _call_sid() -> str:
    return (request.form.get("CallSid") or "unknown")[:64]


def _remember_box(box: str) -> None:
    """Note, best effort, that this call reached ``box``; /voice/status reads it back.

    Before the response, not after it: a caller who hangs up at once must find it there."""
    try:
        _runtime().redis.set(f"call:{_call_sid()}:box", box, ex=CALL_HINT_TTL_SECONDS)
    except (redis.RedisError, OSError):
        log.warning("Redis unavailable: a silent hang-up on call %s may go unticketed", _call_sid())


def _forget_box() -> None:
    """Drop the call's box hint, after the response (the caller need not wait for Redis); a hint
    left over makes no second ticket (``intake.record_call`` is keyed on the CallSid)."""
    runtime, key = _runtime(), f"call:{_call_sid()}:box"

    def forget():
        try:
            runtime.redis.delete(key)
        except (redis.RedisError, OSError):
            pass

    after_response(forget)


def _reopening_phrase(runtime: Runtime) -> str | None:
    now = runtime.now()
    opening = hours.next_opening(runtime.config, now)
    return speech.spoken_opening(opening, now) if opening else None


def main_menu(response: VoiceResponse, attempt: int = 1, greet: bool = False) -> VoiceResponse:
    """The main menu (after the greeting if ``greet``); a caller who keys nothing hears "Sorry" and
    gets it again, up to ``MENU_ATTEMPTS`` times."""
    config = _runtime().config
    gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#",
                             action=url_for("voice.menu", attempt=attempt), method="POST")
    if greet:
        speak(gather, "greeting", company=config.company_name)
    speak(gather, "menu", support=config.support_digit, verification=config.verification_digit,
          status=config.status_digit, extension=" ".join(config.emergency_extension))
    # No key at all: Twilio skips the action and goes on here.
    response.redirect(url_for("voice.menu", attempt=attempt), method="POST")
    return response


@bp.post("/incoming")
def incoming():
    return twiml(main_menu(VoiceResponse(), attempt=1, greet=True))


@bp.post("/menu")
def menu():
    runtime, attempt = _runtime(), _attempt()
    config = runtime.config
    digits = (request.form.get("Digits") or "").strip()[:20]
    if digits == config.support_digit:
        return twiml(_support())
    if digits == config.emergency_extension:
        return twiml(_emergency())
    if digits == config.verification_digit:
        response = VoiceResponse()
        response.redirect(url_for("verification.start"), method="POST")
        return twiml(response)
    if digits == config.status_digit:
        return twiml(_ask_ticket_number(VoiceResponse()))
    response = VoiceResponse()
    if digits:
        speak(response, "invalid_choice", digits=speech.spell(digits))
    else:
        speak(response, "no_input")
    if attempt >= MENU_ATTEMPTS:
        speak(response, "menu_give_up")
        response.redirect(url_for("voice.voicemail", box="support" if _open_now() else "after_hours"), method="POST")
        return twiml(response)
    return twiml(main_menu(response, attempt + 1))


def _open_now() -> bool:
    runtime = _runtime()
    return hours.is_open(runtime.config, runtime.now())


def _ring_desk(response: VoiceResponse, box: str) -> VoiceResponse:
    """Ring every desk number at once; whoever accepts gets the call, with the caller's own ID."""
    config = _runtime().config
    _remember_box(box)
    speak(response, "connecting_desk")
    dial = response.dial(timeout=config.ring_seconds, action=url_for("voice.desk_result", box=box), method="POST")
    for number in config.desk_numbers:
        if config.screen_calls:  # the caller's CallSid rides along, for desk_accept to mark
            dial.number(number, url=url_for("voice.desk_screen", call=_call_sid()), method="POST")
        else:
            dial.number(number)
    return response


def _support() -> VoiceResponse:
    runtime = _runtime()
    response = VoiceResponse()
    if _open_now():
        return _ring_desk(response, "support")
    reopening = _reopening_phrase(runtime)
    gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#",
                             action=url_for("voice.menu", attempt=MENU_ATTEMPTS), method="POST")
    if reopening:
        speak(gather, "closed", reopening=reopening)
    else:
        speak(gather, "closed_no_hours")
    speak(gather, "emergency_reminder", extension=" ".join(runtime.config.emergency_extension))
    response.redirect(url_for("voice.voicemail", box="after_hours"), method="POST")
    return response


def _emergency() -> VoiceResponse:
    response = VoiceResponse()
    if _open_now():
        return _ring_desk(response, "emergency")
    speak(response, "emergency_intro")
    return _voicemail(response, "emergency")


@bp.post("/desk-screen")
def desk_screen():
    """Played to the technician who picks up, so a desk phone's own voicemail cannot 'answer'."""
    runtime = _runtime()
    caller = phones.normalise(request.form.get("From"), runtime.config.region)
    spoken = speech.spell(caller) if caller else say("desk_screen_unknown_caller")
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=6, method="POST",
                             action=url_for("voice.desk_accept", call=_screened_call() or None))
    with runtime.store.reading() as session:  # a caller verified by PIN on this very call says so
        proof = identity.verified_on_call(session, _screened_call(), runtime.now())
        contact = session.get(Contact, proof.contact_id) if proof else None
        if contact is not None:
            speak(gather, "verify_desk_screen", caller=spoken, contact=contact.name, client=contact.client.name)
    if contact is None:
        speak(gather, "desk_screen", caller=spoken)
    response.hangup()
    return twiml(response)


def _screened_call() -> str:
    """The caller's CallSid, on the desk leg's screening requests (see ``_ring_desk``)."""
    return (request.args.get("call") or "")[:64]


@bp.post("/desk-accept")
def desk_accept():
    """A person at the desk pressed 1: note it for ``desk_result``, and drop the caller's box
    hint, since a person has the call (or their hang-up would open a missed-call ticket, and from
    501 a page)."""
    response = VoiceResponse()
    if request.form.get("Digits") != "1":
        response.hangup()
    elif caller_call := _screened_call():
        try:
            with _runtime().redis.pipeline() as pipe:
                pipe.set(f"call:{caller_call}:desk", "accepted", ex=CALL_HINT_TTL_SECONDS)
                pipe.delete(f"call:{caller_call}:box")
                pipe.execute()
        except (redis.RedisError, OSError):
            log.warning("Redis unavailable: the desk's acceptance of call %s is not noted", caller_call)
    return twiml(response)  # an empty document bridges the two calls


def _desk_took_it() -> bool:
    """Whether a person took the call. With screening, a completed dial may be a desk phone's own
    voicemail that answered and was never connected: only a press of 1 (``desk_accept``) says a
    person did. Without screening, or with Redis away, the dial's status is all there is."""
    runtime = _runtime()
    if request.form.get("DialCallStatus") not in ("completed", "answered"):
        return False
    if not runtime.config.screen_calls:
        return True
    try:
        return runtime.redis.get(f"call:{_call_sid()}:desk") is not None
    except (redis.RedisError, OSError):
        return True


@bp.post("/desk-result")
def desk_result():
    box = _box()
    response = VoiceResponse()
    if _desk_took_it():
        _forget_box()
        return hang_up(response=response)
    speak(response, "desk_unavailable")
    return twiml(_voicemail(response, box))


@bp.post("/voicemail")
def voicemail():
    return twiml(_voicemail(VoiceResponse(), _box()))


def _voicemail(response: VoiceResponse, box: str) -> VoiceResponse:
    runtime = _runtime()
    _remember_box(box)
    if box == "emergency":
        speak(response, "voicemail_emergency")
    elif box == "after_hours" and (reopening := _reopening_phrase(runtime)):
        speak(response, "voicemail_after_hours", reopening=reopening)
    else:
        speak(response, "voicemail_support")
    _record(response, box, runtime.config.voicemail_max_seconds)
    return response


def _record(response: VoiceResponse, box: str, max_seconds: int) -> None:
    """The ``<Record>`` of every box, then what a caller who said nothing hears."""
    # Twilio's recording status and transcription callbacks carry no From, and either may come
    # before the action: the caller travels in their (signed) URLs, or a ticket that one of them
    # creates would say "number withheld".
    caller = (request.form.get("From") or "")[:64] or None
    response.record(
        max_length=max_seconds, play_beep=True, finish_on_key="#", timeout=8, trim="trim-silence",
        action=url_for("voice.recorded", box=box), method="POST",
        recording_status_callback=url_for("voice.recording_status", box=box, caller=caller),
        recording_status_callback_method="POST", recording_status_callback_event="completed absent failed",
        transcribe=True, transcribe_callback=url_for("voice.transcription", box=box, caller=caller),
    )
    speak(response, "no_message_heard")
    response.redirect(url_for("voice.no_message", box=box), method="POST")


def _report(box: str, **fields) -> intake.CallReport:
    caller = request.form.get("From") or request.args.get("caller")  # see _record
    return intake.CallReport(call_sid=_call_sid(), box=box, caller_raw=caller, **fields)


def _recording_sid() -> str | None:
    return (request.form.get("RecordingSid") or "")[:64] or None  # the column's size, as for the CallSid


def _recording_url() -> str | None:
    """Twilio's URL of the recording, kept only if it is one (a technician's voice page plays it
    in a ``<Play>``, and anything else there is invalid TwiML) and fits its column (500)."""
    url = (request.form.get("RecordingUrl") or "").strip()
    return url if len(url) <= 500 and re.fullmatch(r"https?://[^\s<>]+", url) else None


def _seconds(value: str | None) -> int | None:
    try:
        return max(0, min(86400, int(value))) if value not in (None, "") else None
    except ValueError:
        return None


def _store(report: intake.CallReport):
    """Record the report into its ticket (a P1's page goes to RQ after the response); with the
    database away, keep it in the spool instead and return None.

    Raises ``OSError`` when the spool cannot take it either (a full or read-only disk): the
    recording is then only in the Twilio account, and a callback is answered 503, for Twilio
    to retry (``retried_by_twilio``)."""
    runtime = _runtime()
    try:
        ticket, _ = intake.record_call(runtime, report, hand_over=after_response)
        return ticket
    except SQLAlchemyError as exc:
        log.error("database unavailable for call %s: %s", report.call_sid[:64], type(exc).__name__)
    try:
        spool.keep(runtime.settings.data_dir, report)
    except OSError as exc:
        log.critical("neither the database nor the spool took call %s (recording %s): %s; the recording is "
                     "only at Twilio", report.call_sid[:64], report.recording_sid, type(exc).__name__)
        raise
    return None


def _store_for_caller(report: intake.CallReport):
    """``_store`` for a caller still on the line: the ticket, or None (spooled, or kept nowhere but
    in the Twilio account, as the critical log line says; its callbacks are answered 503)."""
    try:
        return _store(report)
    except OSError:
        return None


def _goodbye(response: VoiceResponse, ticket, box: str, opening_key: str) -> VoiceResponse:
    runtime = _runtime()
    if ticket is None:
        speak(response, "message_saved_no_number")
    else:
        spelled = speech.spoken_ticket(runtime.config.ticket_prefix, ticket.id)
        speak(response, opening_key, spelled=spelled)
        if intake.BOXES[box].pages:
            speak(response, "emergency_paged")
        elif box == "after_hours" and (reopening := _reopening_phrase(runtime)):
            speak(response, "callback_next_day", reopening=reopening)
        else:
            speak(response, "callback_soon")
    speak(response, "goodbye")
    response.hangup()
    return response


@bp.post("/recorded")
def recorded():
    """The ``<Record>`` action: the caller is still on the line (unless Digits=hangup)."""
    box, form = _box(), request.form
    ticket = _store_for_caller(_report(box, recording_sid=_recording_sid(),
                            recording_url=_recording_url(),
                            recording_seconds=_seconds(form.get("RecordingDuration"))))
    _forget_box()  # stored (or spooled): the call's status callback has nothing left to open
    return twiml(_goodbye(VoiceResponse(), ticket, box, "ticket_opened"))


@bp.post("/no-message")
def no_message():
    """The caller stayed silent at the tone: still a ticket, so somebody calls them back."""
    box = _box()
    ticket = _store_for_caller(_report(box))
    _forget_box()
    return twiml(_goodbye(VoiceResponse(), ticket, box, "call_logged"))


@bp.post("/recording-status")
@retried_by_twilio
def recording_status():
    """Answered from a read when the call's ticket already holds the recording; otherwise kept
    in this host's spool for the worker to record (``dispatch.calls.spool``), not written here.

    Twilio sends it after the ``<Record>`` action (a few seconds, usually) or at the same
    moment: the action carries the same recording and must write the ticket before the
    caller hears its number, and when both wrote, each waited on the database's one write
    lock for the other. A read (on SQLite's WAL it waits for no writer) settles the usual
    case. When the callback came first, adds to the ticket, or the read fails (the database
    away or locked, or anything else: the read only spares work, and the callback may be
    the only copy of the recording), the worker's replay (every 2 s) mostly finds the
    action's ticket complete by then, completes it, or, when the action never came, creates
    the ticket and its page. A synced file is as durable as a commit, which a job in Redis
    is not.
    """
    form = request.form
    runtime = _runtime()
    report = _report(_box(), recording_sid=_recording_sid(),
                     recording_url=_recording_url(),
                     recording_seconds=_seconds(form.get("RecordingDuration")),
                     recording_status=(form.get("RecordingStatus") or "completed")[:20])
    try:
        if intake.ticket_holding(runtime, report) is not None:
            return empty()
    except SQLAlchemyError as exc:  # the spool keeps it until the database answers
        log.warning("database unavailable for call %s: %s", report.call_sid[:64], type(exc).__name__)
    except Exception:
        log.exception("could not read the ticket of call %s; the callback goes to the spool", report.call_sid[:64])
    try:
        spool.keep(runtime.settings.data_dir, report)
    except OSError as exc:
        log.error("spool unavailable for call %s (%s): recording it now", report.call_sid[:64], type(exc).__name__)
        _store(report)
    return empty()


@bp.post("/transcription")
@retried_by_twilio
def transcription():
    form = request.form
    _store(_report(_box(), recording_sid=_recording_sid(),
                   recording_url=_recording_url(),
                   transcript=form.get("TranscriptionText") or None,
                   transcript_status=(form.get("TranscriptionStatus") or "")[:20] or None))
    return empty()


@bp.post("/status")
@retried_by_twilio
def call_status():
    """Call status callback: a caller who reached a box and hung up before the tone is a missed call."""
    if request.form.get("CallStatus") in CALL_ENDED and request.form.get("Direction", "inbound") == "inbound":
        try:
            box = _runtime().redis.get(f"call:{_call_sid()}:box")
        except (redis.RedisError, OSError):
            box = None
        if box is not None:
            _store(_report(box.decode() if box.decode() in intake.BOXES else "support"))
            _forget_box()
    return empty()


def _ask_ticket_number(response: VoiceResponse) -> VoiceResponse:
    gather = response.gather(input="dtmf", timeout=6, finish_on_key="#", action=url_for("voice.ticket_status"),
                             method="POST")
    speak(gather, "status_ask")
    response.redirect(url_for("voice.menu", attempt=MENU_ATTEMPTS - 1), method="POST")
    return response


@bp.post("/ticket-status")
def ticket_status():
    runtime = _runtime()
    config = runtime.config
    number = numbers.parse_number(request.form.get("Digits"), config.ticket_prefix)
    caller = phones.caller_id(request.form.get("From"), config.region)
    response = VoiceResponse()
    ticket, verified = None, False
    if number is not None:
        try:
            with runtime.store.reading() as session:
                proof = identity.verified_on_call(session, _call_sid(), runtime.now())
                if proof is not None:
                    ticket = queries.find_for_verified(session, number, proof.contact_id)
                    verified = ticket is not None
                if ticket is None:
                    ticket = queries.find_for_caller(session, number, caller)
        except SQLAlchemyError:
            log.error("database unavailable for a ticket status lookup")
    if ticket is None:
        speak(response, "status_not_found")
    elif not verified:  # caller ID proves nothing: only whether someone is on it
        speak(response, "status_assigned" if queries.is_assigned(ticket) else "status_not_assigned",
              spelled=speech.spoken_ticket(config.ticket_prefix, ticket.id))
    else:
        speak(response, "status_found", spelled=speech.spoken_ticket(config.ticket_prefix, ticket.id),
              status=say(f"status_words_{ticket.status}") if ticket.status in STATUSES else ticket.status,
              priority=speech.spell(ticket.priority))
    gather = response.gather(input="dtmf", timeout=5, finish_on_key="#", action=url_for("voice.ticket_status"),
                             method="POST")
    speak(gather, "status_again")
    return twiml(main_menu(response))  # "stay on the line to return to the menu": the menu, no "Sorry"


@bp.post("/fallback")
def fallback():
    """Twilio's Voice Fallback URL: a working voicemail that touches neither Redis nor the database."""
    config = _runtime().config
    response = VoiceResponse()
    speak(response, "greeting", company=config.company_name)
    speak(response, "technical_difficulty")
    speak(response, "voicemail_support")
    _record(response, "fallback", config.voicemail_max_seconds)
    return twiml(response)


def _after_unexpected_error():
    """A caller who has just left a message (or stayed silent at the tone) is told it is kept:
    Twilio holds the recording and sends its status callback, and another ``<Record>`` would ask
    them to speak again, round after round if the error repeats. Anyone else gets the fallback
    voicemail."""
    if request.endpoint in ("voice.recorded", "voice.no_message"):
        return twiml(_goodbye(VoiceResponse(), None, _box(), "ticket_opened"))
    return fallback()


answer_errors_with(bp, _after_unexpected_error, "caller sent to the fallback voicemail or told the message is kept")
