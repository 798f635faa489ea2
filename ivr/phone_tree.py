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

import voice_prompts
from core import hours, phones
from core.db import parse_id
from dispatch import directory
from dispatch.calls import intake, live, spool
from dispatch.calls import log as call_log
from dispatch.directory.models import Contact
from dispatch.escalation import page_text
from dispatch.followup import actions, lifecycle
from dispatch.notification.twilio import statuses
from dispatch.runtime import Runtime
from dispatch.tickets import numbers, queries
from dispatch.tickets.models import STATUSES
from dispatch.verification import identity
from ivr.after_response import after_response
from ivr.context import runtime as _runtime
from ivr.signature import require_twilio_signature
from ivr.twiml import CALL_ENDED, answer_errors_with, empty, hang_up, retried_by_twilio, speak, twiml
from ivr.twiml import call_language as _lang
from ivr.twiml import call_sid as _call_sid
from ivr.twiml import call_url as _url
from ivr.twiml import speak_in_call as _speak
from voice_prompts import say, speech

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/voice")
bp.before_request(require_twilio_signature)

MENU_ATTEMPTS = 3
# Twilio's default: after the last key, long enough for 5-0-1 keyed at a steady pace.
MENU_TIMEOUT_SECONDS = 5
CALL_HINT_TTL_SECONDS = 6 * 3600


def _attempt() -> int:
    try:
        return max(1, min(MENU_ATTEMPTS, int(request.args.get("attempt", "1"))))
    except ValueError:
        return 1


def _box() -> str:
    box = request.args.get("box", "support")
    return box if box in intake.BOXES else "support"


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


def _note(what: str) -> None:
    """Note, best effort and after the response, what the call did (``desk``, ``status``), for its
    entry in the call log (``call_status``)."""
    runtime, key = _runtime(), f"call:{_call_sid()}:{what}"

    def note():
        try:
            runtime.redis.set(key, "1", ex=CALL_HINT_TTL_SECONDS)
        except (redis.RedisError, OSError):
            log.warning("Redis unavailable: the call log may miss what call %s did", key)

    after_response(note)


def _reopening_phrase(runtime: Runtime, language: str | None = None) -> str | None:
    now = runtime.now()
    opening = hours.next_opening(runtime.config, now)
    return speech.spoken_opening(opening, now, language or _lang()) if opening else None


def _extension() -> str:
    return speech.digits(_runtime().config.emergency_extension)


def main_menu(response: VoiceResponse, attempt: int = 1, greet: bool = False,
              language: str | None = None) -> VoiceResponse:
    """The main menu: the emergency extension first (after the greeting if ``greet``), the other
    languages on offer, the options. A caller who keys nothing hears "Sorry" and gets it again,
    up to ``MENU_ATTEMPTS`` times."""
    config = _runtime().config
    language = language or _lang()
    gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#",
                             action=_url("voice.menu", language, attempt=attempt), method="POST")
    if greet:
        _speak(gather, "greeting", language, company=config.company_name)
    _speak(gather, "emergency_first", language, extension=_extension())
    if language == voice_prompts.COMPANY_LANGUAGE:
        for other, digit in config.languages.items():  # each offered in its own language and voice
            speak(gather, "language_offer", other, digit=digit)
    _speak(gather, "menu", language, support=config.support_digit, verification=config.verification_digit,
           status=config.status_digit)
    _speak(gather, "menu_repeat", language)
    # No key at all: Twilio skips the action and goes on here.
    response.redirect(_url("voice.menu", language, attempt=attempt), method="POST")
    return response


def _contract_language(caller_raw: str | None) -> str:
    """The language of the caller's client's contract, or the company's; best effort (the menu
    works with the database away)."""
    runtime = _runtime()
    caller = phones.normalise(caller_raw, runtime.config.region)
    if caller is None:
        return voice_prompts.COMPANY_LANGUAGE
    try:
        with runtime.store.reading() as session:
            client, _ = directory.match_caller(session, caller)
            return voice_prompts.language_or_default(client.language if client else None)
    except SQLAlchemyError as exc:
        log.warning("database unavailable: call %s greeted in the company's language (%s)", _call_sid(),
                    type(exc).__name__)
        return voice_prompts.COMPANY_LANGUAGE


@bp.post("/incoming")
def incoming():
    language = _contract_language(request.form.get("From"))
    return twiml(main_menu(VoiceResponse(), attempt=1, greet=True, language=language))


@bp.post("/menu")
def menu():
    runtime, attempt = _runtime(), _attempt()
    config = runtime.config
    digits = (request.form.get("Digits") or "").strip()[:20]
    if digits == config.support_digit or digits == config.desk_digit:
        return twiml(_support())
    if digits == config.emergency_extension:
        return twiml(_emergency())
    if digits == config.verification_digit:
        response = VoiceResponse()
        response.redirect(_url("verification.start"), method="POST")
        return twiml(response)
    if digits == config.status_digit:
        return twiml(_ask_ticket_number(VoiceResponse()))
    for language, digit in config.languages.items():
        if digits == digit:
            return twiml(main_menu(VoiceResponse(), attempt=1, greet=True, language=language))
    if digits and set(digits) == {"*"}:  # "press star to hear the options again": no "Sorry", no attempt spent
        return twiml(main_menu(VoiceResponse(), attempt))
    response = VoiceResponse()
    if keyed := speech.keys(digits, _lang()):
        _speak(response, "invalid_choice", keys=keyed)
    else:
        _speak(response, "no_input")
    if attempt < MENU_ATTEMPTS:
        return twiml(main_menu(response, attempt + 1))
    if _open_now():
        _speak(response, "menu_give_up")
        response.redirect(_url("voice.voicemail", box="support"), method="POST")
        return twiml(response)
    return twiml(_ask_if_emergency(response))


def _ask_if_emergency(response: VoiceResponse) -> VoiceResponse:
    """After hours, a caller who missed the menu every time may be one who cannot find 5-0-1: asked
    before the next-business-day voicemail, which pages nobody."""
    gather = response.gather(input="dtmf", num_digits=1, timeout=MENU_TIMEOUT_SECONDS, method="POST",
                             action=_url("voice.emergency_check"))
    _speak(gather, "emergency_question")
    response.redirect(_url("voice.voicemail", box="after_hours"), method="POST")
    return response


@bp.post("/emergency-check")
def emergency_check():
    if (request.form.get("Digits") or "")[:1] == "1":
        return twiml(_emergency())
    return twiml(_voicemail(VoiceResponse(), "after_hours"))


def _open_now() -> bool:
    runtime = _runtime()
    return hours.is_open(runtime.config, runtime.now())


def _ring_desk(response: VoiceResponse, box: str) -> VoiceResponse:
    """Ring every desk number at once; whoever accepts gets the call, with the caller's own ID."""
    config = _runtime().config
    _remember_box(box)
    _speak(response, "connecting_desk")
    dial = response.dial(timeout=config.ring_seconds, action=_url("voice.desk_result", box=box), method="POST")
    for number in config.desk_numbers:
        if config.screen_calls:  # the caller's CallSid rides along, for desk_accept to mark
            dial.number(number, url=_url("voice.desk_screen", call=_call_sid(), box=box), method="POST")
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
                             action=_url("voice.menu", attempt=MENU_ATTEMPTS), method="POST")
    if reopening:
        _speak(gather, "closed", reopening=reopening)
    else:
        _speak(gather, "closed_no_hours")
    _speak(gather, "emergency_reminder", extension=_extension())
    response.redirect(_url("voice.voicemail", box="after_hours"), method="POST")
    return response


@bp.post("/desk")
def desk():
    """A caller who stayed on the line for the desk (after verifying): the desk now, else the closed message."""
    return twiml(_support())


def _emergency() -> VoiceResponse:
    response = VoiceResponse()
    if _open_now():
        return _ring_desk(response, "emergency")
    try:
        person = live.ring_whom(_runtime())
    except SQLAlchemyError as exc:  # who is on call needs the overrides: the voicemail pages them anyway
        log.warning("database unavailable: emergency call %s goes to the voicemail (%s)", _call_sid(),
                    type(exc).__name__)
        person = None
    if person is not None:
        return _ring_oncall(response, person)
    _speak(response, "emergency_intro")
    return _voicemail(response, "emergency")


def _ring_oncall(response: VoiceResponse, person) -> VoiceResponse:
    """Ring the primary on-call's mobile, screened; the caller holds. A hang-up meanwhile is a missed
    emergency call (the box hint), paged as ever."""
    config = _runtime().config
    _remember_box("emergency")
    _speak(response, "oncall_connecting")
    dial = response.dial(timeout=config.emergency_ring_seconds, action=_url("voice.oncall_result"), method="POST")
    dial.number(person.mobile, url=_url("voice.oncall_screen", call=_call_sid(), staff=person.id), method="POST")
    return response


def _caller_words(caller_raw: str | None) -> str:
    """Who is calling, as the screening says it to staff: 'Acme Corp, Jane Doe', their number in
    groups, or 'an unknown number'; with the caller's language when it is not the company's."""
    runtime = _runtime()
    caller = phones.normalise(caller_raw, runtime.config.region)
    client = contact = None
    if caller:
        try:
            with runtime.store.reading() as session:
                found_client, found_contact = directory.match_caller(session, caller)
                client = found_client.name if found_client else None
                contact = found_contact.name if found_contact else None
        except SQLAlchemyError as exc:
            log.warning("database unavailable: screening names the number only (%s)", type(exc).__name__)
    unknown = speech.phone_number(caller) if caller else say("screen_unknown_caller")
    return page_text.caller_words(client, contact, _lang(), spoken=True, unknown=unknown)


@bp.post("/desk-screen")
def desk_screen():
    """Played to the technician who picks up, so a desk phone's own voicemail cannot 'answer'."""
    runtime = _runtime()
    who = _caller_words(request.form.get("From"))
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=6, method="POST",
                             action=url_for("voice.desk_accept", call=_screened_call() or None))
    with runtime.store.reading() as session:  # a caller verified by PIN on this very call says so
        proof = identity.verified_on_call(session, _screened_call(), runtime.now())
        contact = session.get(Contact, proof.contact_id) if proof else None
        if contact is not None:
            speak(gather, "verify_desk_screen", caller=who, contact=contact.name, client=contact.client.name)
    if contact is None:
        speak(gather, "desk_screen_emergency" if request.args.get("box") == "emergency" else "desk_screen", who=who)
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
    if statuses.dial_outcome(request.form.get("DialCallStatus")) != "connected":
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
        _note("desk")
        return hang_up(response=response)
    _speak(response, "desk_unavailable")
    return twiml(_voicemail(response, box))


@bp.post("/oncall-screen")
def oncall_screen():
    """Played to the on-call technician who picks up an emergency call; 1 takes it."""
    who = _caller_words(request.form.get("From"))
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=6, method="POST",
                             action=_url("voice.oncall_accept", call=_screened_call() or None,
                                         staff=request.args.get("staff")))
    speak(gather, "oncall_screen", who=who)
    response.hangup()
    return twiml(response)


@bp.post("/oncall-accept")
def oncall_accept():
    """The on-call technician pressed 1: theirs, as an acknowledged P1 ticket, and the call is bridged.
    Should the database be away, they still get the caller, and the caller's hang-up afterwards
    opens the missed-call ticket (the box hint stays): a page too many, never a call unrecorded."""
    runtime = _runtime()
    response = VoiceResponse()
    staff = runtime.config.staff.get(request.args.get("staff") or "")
    caller_call = _screened_call()
    if request.form.get("Digits") != "1" or staff is None or not caller_call:
        response.hangup()
        return twiml(response)
    try:
        ticket = live.taken_live(runtime, caller_call, request.form.get("From"), staff.id, _lang())
    except SQLAlchemyError as exc:
        log.error("database unavailable: emergency call %s taken live by %s is not ticketed yet (%s)",
                  caller_call, staff.id, type(exc).__name__)
        ticket = None
    try:
        with runtime.redis.pipeline() as pipe:
            pipe.set(f"call:{caller_call}:oncall", staff.id, ex=CALL_HINT_TTL_SECONDS)
            if ticket is not None:
                pipe.delete(f"call:{caller_call}:box")
            pipe.execute()
    except (redis.RedisError, OSError):
        log.warning("Redis unavailable: the live answer of call %s is noted only on its ticket", caller_call)
    if ticket is not None:
        speak(response, "oncall_taken", spoken=speech.spoken_ticket(ticket.id))
    return twiml(response)  # what is left of the document bridges the two calls


def _oncall_took_it() -> bool:
    """Whether the on-call technician took the call: their press of 1 is noted in Redis and on the
    call's ticket; a completed dial alone may be their phone's voicemail."""
    runtime = _runtime()
    if statuses.dial_outcome(request.form.get("DialCallStatus")) != "connected":
        return False
    try:
        if runtime.redis.get(f"call:{_call_sid()}:oncall") is not None:
            return True
    except (redis.RedisError, OSError):
        pass
    try:
        return live.was_taken(runtime, _call_sid())
    except SQLAlchemyError:
        return False


@bp.post("/oncall-result")
def oncall_result():
    response = VoiceResponse()
    if _oncall_took_it():
        _forget_box()
        _speak(response, "goodbye")
        response.hangup()
        return twiml(response)
    _speak(response, "oncall_unavailable")
    return twiml(_voicemail(response, "emergency"))


@bp.post("/voicemail")
def voicemail():
    return twiml(_voicemail(VoiceResponse(), _box()))


def _voicemail(response: VoiceResponse, box: str) -> VoiceResponse:
    runtime = _runtime()
    _remember_box(box)
    _speak(response, "voicemail_emergency" if box == "emergency" else "voicemail_support")
    _record(response, box, runtime.config.voicemail_max_seconds)
    return response


def _record(response: VoiceResponse, box: str, max_seconds: int) -> None:
    """The ``<Record>`` of every box; a caller who said nothing is asked once more, then hears that
    the call is logged (``no_message``)."""
    language = _lang()
    # Twilio's recording status and transcription callbacks carry no From, and either may come
    # before the action: the caller travels in their (signed) URLs, or a ticket that one of them
    # creates would say "number withheld".
    caller = (request.form.get("From") or "")[:64] or None
    for chance in (1, 2):
        if chance == 2:
            _speak(response, "no_message_heard", language)
            _speak(response, "speak_again", language)
        response.record(
            max_length=max_seconds, play_beep=True, finish_on_key="#", timeout=8, trim="trim-silence",
            action=_url("voice.recorded", language, box=box), method="POST",
            recording_status_callback=_url("voice.recording_status", language, box=box, caller=caller),
            recording_status_callback_method="POST", recording_status_callback_event="completed absent failed",
            # Twilio transcribes English only: another language's words would come back as nonsense.
            transcribe=language == voice_prompts.COMPANY_LANGUAGE,
            transcribe_callback=_url("voice.transcription", language, box=box, caller=caller),
        )
    _speak(response, "no_message_heard", language)
    response.redirect(_url("voice.no_message", language, box=box), method="POST")


def _report(box: str, **fields) -> intake.CallReport:
    caller = request.form.get("From") or request.args.get("caller")  # see _record
    return intake.CallReport(call_sid=_call_sid(), box=box, caller_raw=caller, language=_lang(), **fields)


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
    """The ticket's number (or that the message is kept), then the call back promised once, with when."""
    runtime = _runtime()
    if ticket is None:
        _speak(response, "message_saved_no_number")
    else:
        _speak(response, opening_key, spoken=speech.spoken_ticket(ticket.id))
    # Paged: an emergency box, or a ticket the client's contract has paged (its page is in the outbox).
    paged = intake.BOXES[box].pages if ticket is None else ticket.paged_at is not None
    if paged:
        _speak(response, "emergency_paged", minutes=runtime.config.emergency_callback_minutes,
               extension=_extension())
    elif box == "after_hours" and (reopening := _reopening_phrase(runtime)):
        _speak(response, "callback_next_day", reopening=reopening)
    else:
        _speak(response, "callback_soon")
    _speak(response, "goodbye")
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
    """Call status callback: a caller who reached a box and hung up before the tone is a missed call;
    every inbound call that is over goes into the call log."""
    if request.form.get("CallStatus") in CALL_ENDED and request.form.get("Direction", "inbound") == "inbound":
        box, desk, status, oncall = _call_hints()
        if box is not None:
            _store(_report(box.decode() if box.decode() in intake.BOXES else "support"))
            _forget_box()
        try:
            if not request.form.get("CallSid"):
                return empty()
            seconds = _seconds(request.form.get("CallDuration"))
            call_log.record(_runtime(), call_log.CallEnd(
                sid=_call_sid(), caller_raw=request.form.get("From"), seconds=seconds, desk=desk is not None,
                oncall=oncall is not None, status=status is not None))
        except SQLAlchemyError as exc:  # the ticket, if any, is in the spool; the log entry is lost
            log.error("database unavailable: call %s is not in the call log (%s)", _call_sid(), type(exc).__name__)
    return empty()


def _call_hints() -> tuple:
    """What the call left in Redis (its box, whether the desk or the on-call technician took it, whether
    it heard a ticket's status), in one round trip; all None with Redis away."""
    sid = _call_sid()
    try:
        with _runtime().redis.pipeline(transaction=False) as pipe:
            for what in ("box", "desk", "status", "oncall"):
                pipe.get(f"call:{sid}:{what}")
            return tuple(pipe.execute())
    except (redis.RedisError, OSError):
        return None, None, None, None


def _ask_ticket_number(response: VoiceResponse) -> VoiceResponse:
    gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#", method="POST",
                             action=_url("voice.ticket_status"))
    _speak(gather, "status_ask")
    response.redirect(_url("voice.menu", attempt=MENU_ATTEMPTS - 1), method="POST")
    return response


@bp.post("/ticket-status")
def ticket_status():
    runtime = _runtime()
    config = runtime.config
    keyed = (request.form.get("Digits") or "")[:20]
    if keyed == config.desk_digit and _open_now():
        return twiml(_ring_desk(VoiceResponse(), "support"))
    caller = phones.caller_id(request.form.get("From"), config.region)
    response = VoiceResponse()
    ticket, verified = None, False
    candidates = numbers.keyed_candidates(keyed, config.ticket_prefix)
    if candidates:
        try:
            with runtime.store.reading() as session:
                proof = identity.verified_on_call(session, _call_sid(), runtime.now())
                if proof is not None:
                    ticket = next(filter(None, (queries.find_for_verified(session, n, proof.contact_id)
                                                for n in candidates)), None)
                    verified = ticket is not None
                if ticket is None:
                    ticket = next(filter(None, (queries.find_for_caller(session, n, caller) for n in candidates)),
                                  None)
        except SQLAlchemyError:
            log.error("database unavailable for a ticket status lookup")
    language = _lang()
    _note("status")
    if ticket is None:
        _speak(response, "status_not_found")
    elif not verified:  # caller ID proves nothing: only whether someone is on it
        _speak(response, "status_assigned" if queries.is_assigned(ticket) else "status_not_assigned",
               spoken=speech.spoken_ticket(ticket.id))
    else:
        _speak(response, "status_found", spoken=speech.spoken_ticket(ticket.id),
               status=say(f"status_words_{ticket.status}", language) if ticket.status in STATUSES else ticket.status,
               priority=say(f"priority_words_{ticket.priority}", language)
               if ticket.priority in ("P1", "P2", "P3", "P4") else "")
        if lifecycle.reopenable(runtime, ticket, runtime.now()):
            offer = response.gather(input="dtmf", num_digits=1, timeout=4, method="POST",
                                    action=_url("voice.ticket_reopen", ticket=ticket.id))
            _speak(offer, "status_reopen_offer")
    gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#", method="POST",
                             action=_url("voice.ticket_status"))
    _speak(gather, "status_again")
    if _open_now():
        _speak(gather, "desk_offer", digit=config.desk_digit)
    _speak(gather, "status_stay")
    return twiml(main_menu(response))  # "stay on the line to return to the menu": the menu, no "Sorry"


def after_verified(response: VoiceResponse, language: str) -> VoiceResponse:
    """What a caller verified on this call is offered next: the desk in business hours (staying on
    the line rings it); after hours, a message for a technician, or 5-0-1."""
    runtime = _runtime()
    config = runtime.config
    if _open_now():
        gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#", method="POST",
                                 action=_url("voice.menu", language, attempt=1))
        _speak(gather, "verify_next_open", language, digit=config.desk_digit)
        response.redirect(_url("voice.desk", language), method="POST")
        return response
    gather = response.gather(input="dtmf", timeout=MENU_TIMEOUT_SECONDS, finish_on_key="#", method="POST",
                             action=_url("voice.menu", language, attempt=MENU_ATTEMPTS))
    if reopening := _reopening_phrase(runtime, language):
        _speak(gather, "closed", language, reopening=reopening)
    _speak(gather, "verify_next_closed", language, extension=_extension())
    response.redirect(_url("voice.voicemail", language, box="after_hours"), method="POST")
    return response


@bp.post("/ticket-reopen")
def ticket_reopen():
    """1 after hearing a resolved ticket's status: reopen it (any other key: another ticket's number)."""
    runtime = _runtime()
    ticket_id = parse_id(request.args.get("ticket"))
    response = VoiceResponse()
    if request.form.get("Digits") != "1" or ticket_id is None:
        return twiml(_ask_ticket_number(response))
    with runtime.store.reading() as session:  # only a caller verified on this call, as for the offer
        proof = identity.verified_on_call(session, _call_sid(), runtime.now())
        allowed = proof is not None and queries.find_for_verified(session, ticket_id, proof.contact_id) is not None
    reopened = allowed and actions.reopen_for_caller(runtime, ticket_id, "caller", "phone") == "reopened"
    if reopened:
        _speak(response, "status_reopened", spoken=speech.spoken_ticket(ticket_id))
    else:
        _speak(response, "status_not_reopened")
    return twiml(main_menu(response))


@bp.post("/fallback")
def fallback():
    """Twilio's Voice Fallback URL: a working voicemail that touches neither Redis nor the database."""
    config = _runtime().config
    response = VoiceResponse()
    _speak(response, "greeting", company=config.company_name)
    _speak(response, "technical_difficulty")
    _speak(response, "voicemail_support")
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
