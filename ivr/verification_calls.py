"""Menu option 2 on the phone: prove who you are, by portal PIN or by dual callback;
and the callback itself, where a waiting one-time secret is read out and the verified
person is then offered the desk or the on-call technician, on that same call.

What a caller hears never depends on whether the number they call from or key in
belongs to a contact, whether that contact has a PIN, or whether PIN entry is locked:
every one of those gets the same PIN question, the same "not accepted", and the same
callback promise. Only a real contact's number on file is ever called back.
"""
from __future__ import annotations

import logging

from flask import Blueprint, request, url_for
from twilio.twiml.voice_response import VoiceResponse

import voice_prompts
from core import phones
from core.db import MAX_ID
from dispatch.jobs.outbox import Handover
from dispatch.notification.twilio import statuses
from dispatch.verification import callbacks, identity, one_time_secrets
from dispatch.verification.identity import PinResult
from ivr.after_response import after_response
from ivr.context import runtime as _runtime
from ivr.phone_tree import after_verified, main_menu
from ivr.signature import require_twilio_signature
from ivr.twiml import CALL_ENDED, answer_errors_with, empty, hang_up, retried_by_twilio, say_text, speak, twiml
from ivr.twiml import call_language as _lang
from ivr.twiml import call_sid as _call_sid
from ivr.twiml import call_url as _url
from ivr.twiml import speak_in_call as _speak
from voice_prompts import speech
from voice_prompts.verification import spell_secret

log = logging.getLogger(__name__)

bp = Blueprint("verification", __name__, url_prefix="/verification")
bp.before_request(require_twilio_signature)

NUMBER_ATTEMPTS = 3
SILENCES_BEFORE_CALLBACK = 2
PLACING_WAITS = 3
SECRET_OFFERS = 3  # "press 1 when you are ready" / "press 1 to hear it again": said again on silence
TIMEOUT_SECONDS = 5


def _digits() -> str:
    return (request.form.get("Digits") or "").strip()[:20]


def _int_arg(name: str, high: int) -> int:
    try:
        return max(0, min(high, int(request.args.get(name, "0"))))
    except ValueError:
        return 0


def _public_base() -> str:
    """Where Twilio reaches us, for the callback's own URLs (the signature proved this host)."""
    return _runtime().settings.public_base_url or request.host_url.rstrip("/")


# -- the inbound call -------------------------------------------------------------------------
@bp.post("/start")
def start():
    runtime = _runtime()
    caller = phones.normalise(request.form.get("From"), runtime.config.region)
    with runtime.store.transaction() as session:
        vcall, new = identity.open_call(session, runtime, _call_sid(), request.form.get("From"), language=_lang())
        if new and caller:
            identity.identify(session, runtime, vcall, caller, "caller_id")
        identified = vcall.contact is not None
    response = VoiceResponse()
    return twiml(_ask_pin(response) if identified else _ask_number(response, attempt=1))


def _ask_number(response: VoiceResponse, attempt: int) -> VoiceResponse:
    gather = response.gather(input="dtmf", timeout=8, finish_on_key="#", method="POST",
                             action=_url("verification.number", attempt=attempt))
    _speak(gather, "verify_ask_number")
    response.redirect(_url("verification.number", attempt=attempt), method="POST")
    return response


@bp.post("/number")
def number():
    runtime, digits = _runtime(), _digits()
    attempt = max(1, _int_arg("attempt", NUMBER_ATTEMPTS))
    keyed = phones.normalise(digits, runtime.config.region) if digits.isdigit() else None
    if keyed is None:
        response = VoiceResponse()
        _speak(response, "verify_bad_number" if digits else "verify_no_input")
        if attempt < NUMBER_ATTEMPTS:
            return twiml(_ask_number(response, attempt + 1))
        _speak(response, "verify_number_give_up")
        return twiml(main_menu(response, language=_lang()))
    with runtime.store.transaction() as session:
        vcall, _ = identity.open_call(session, runtime, _call_sid(), request.form.get("From"), language=_lang())
        if vcall.contact is None:
            identity.identify(session, runtime, vcall, keyed, "keyed")
    return twiml(_ask_pin(VoiceResponse()))


def _ask_pin(response: VoiceResponse, silences: int = 0) -> VoiceResponse:
    """The PIN question. Star, for the call back, ends the entry at once (it is the finish key, and
    Twilio then requests the action with no digits); a PIN ends with pound, or the time-out after its
    last digit (pound is then one of the digits, dropped), so the question can say "followed by pound"."""
    gather = response.gather(input="dtmf", timeout=TIMEOUT_SECONDS, finish_on_key="*", method="POST",
                             action_on_empty_result=True, action=_url("verification.pin", silences=silences))
    _speak(gather, "verify_ask_pin")
    response.redirect(_url("verification.pin", silences=silences), method="POST")
    return response


@bp.post("/pin")
def pin():
    runtime = _runtime()
    star = request.form.get("FinishedOnKey") == "*" or "*" in (request.form.get("Digits") or "")
    digits = "" if star else _digits().replace("#", "")
    silences = _int_arg("silences", SILENCES_BEFORE_CALLBACK) + (0 if star or digits else 1)
    if not star and not digits and silences < SILENCES_BEFORE_CALLBACK:
        response = VoiceResponse()
        _speak(response, "verify_no_input")
        return twiml(_ask_pin(response, silences))
    response, notice, ring_back = VoiceResponse(), None, None
    if digits:  # checked in transactions of its own, the slow hash between them
        result, notice = identity.check_pin(runtime, _call_sid(), request.form.get("From"), digits, _lang())
    with runtime.store.transaction() as session:
        vcall, _ = identity.open_call(session, runtime, _call_sid(), request.form.get("From"), language=_lang())
        if not digits:
            identity.callback_asked(runtime, vcall, "star" if star else "silence")
            result = PinResult.EXHAUSTED
        if result is PinResult.RETRY:
            _speak(response, "verify_pin_not_accepted")
            _ask_pin(response)
        elif result is PinResult.EXHAUSTED:
            if digits:
                _speak(response, "verify_pin_not_accepted")
            ring_back = _promise_callback(session, vcall, response)
        elif one_time_secrets.pending_for(session, runtime, vcall.contact.id) is not None:
            _speak(response, "verify_message_waiting")
            ring_back = _promise_callback(session, vcall, response)
        else:
            _speak(response, "verify_verified", spoken=speech.spoken_ticket(vcall.ticket_id))
            after_verified(response, _lang())
    _hand_over(notice, ring_back)
    return twiml(response)


def _hand_over(*jobs: Handover | None) -> None:
    """Hand this request's own jobs, now committed, to RQ once the caller has their answer: each is a
    Redis round trip they need not wait for (the workers' flush of the outbox sends any that is lost)."""
    pending = [job for job in jobs if job is not None]
    if pending:
        runtime = _runtime()
        after_response(lambda: [job(runtime) for job in pending])


def _promise_callback(session, vcall, response: VoiceResponse) -> Handover | None:
    """Queue the callback and tell the caller; returns the callback job's hand-over, if one was queued."""
    ring_back = callbacks.request(session, _runtime(), vcall.ticket, vcall.contact, vcall.number, _public_base())
    _speak(response, "verify_callback_promise")
    response.hangup()
    return ring_back


# -- the dual callback --------------------------------------------------------------------
def _token() -> str:
    return request.args.get("token", "")[:100]


def _refuse(session, exc: callbacks.Rejected):
    """Answer a webhook that may not go on: nothing sensitive, hang up, and erase what was delivered."""
    log.warning("refused a callback webhook on %s: %s", request.path, exc.reason)
    if exc.callback is not None and exc.callback.call_sid:
        one_time_secrets.finish_call(session, _runtime(), exc.callback, "callback webhook refused")
    return hang_up("verify_callback_invalid")


def _admit(session, steps: tuple[str, ...], fresh: bool = True, wait_while_placing: bool = False):
    """(callback, None) when this webhook may go on from one of ``steps``; else (None, the TwiML
    to answer with). ``wait_while_placing``: Twilio may answer before the job has recorded
    the CallSid, so wait a moment (a few times) instead of refusing."""
    try:
        return callbacks.admit(session, _runtime(), _token(), _call_sid(), steps, fresh=fresh), None
    except callbacks.Rejected as exc:
        waits = _int_arg("wait", PLACING_WAITS)
        if wait_while_placing and exc.reason == "placing" and waits < PLACING_WAITS:
            response = VoiceResponse()
            response.pause(length=2)
            # Twilio sends AnsweredBy with the call's first request only: it rides along every wait.
            response.redirect(url_for("verification.callback_answer", token=_token(), wait=waits + 1,
                                      answered_by=_answered_by()), method="POST")
            return None, twiml(response)
        return None, _refuse(session, exc)


def _answered_by() -> str | None:
    """Twilio's answering-machine verdict on the callback, if it gave one."""
    return (request.form.get("AnsweredBy") or request.args.get("answered_by") or "")[:30] or None


def _callback_language(callback) -> str:
    """The language of the call that asked for the callback (its verification ticket says)."""
    return voice_prompts.language_or_default(callback.ticket.language if callback.ticket else None)


@bp.post("/callback")
def callback_answer():
    runtime = _runtime()
    with runtime.store.transaction() as session:
        callback, refusal = _admit(session, ("placed",), wait_while_placing=True)
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        answered_by = _answered_by() or "human"
        if not callbacks.answered(runtime, callback, answered_by, statuses.is_machine(answered_by)):
            return hang_up("verify_callback_machine", language=language, company=runtime.config.company_name)
    response = VoiceResponse()
    action = url_for("verification.callback_confirm", token=_token())
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=action, method="POST")
    speak(gather, "verify_callback_greeting", language, company=runtime.config.company_name)
    response.redirect(action, method="POST")
    return twiml(response)


@bp.post("/callback/confirm")
def callback_confirm():
    runtime = _runtime()
    with runtime.store.transaction() as session:
        callback, refusal = _admit(session, ("answered",))
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        if _digits() != "1":
            callbacks.fail(runtime, callback, "not confirmed by the person called")
            return hang_up("verify_callback_declined", language=language)
        if not callbacks.confirmed(runtime, callback):
            return _callback_verified(session, callback)
    return twiml(_ask_callback_pin(VoiceResponse(), language))


def _ask_callback_pin(response: VoiceResponse, language: str, silences: int = 0) -> VoiceResponse:
    """The PIN question. Keying nothing (or only "#": Twilio requests no action for empty input)
    goes on to the ``<Redirect>``, which counts the silences; digits come to the action."""
    gather = response.gather(input="dtmf", timeout=8, finish_on_key="#", method="POST",
                             action=url_for("verification.callback_pin", token=_token()))
    speak(gather, "verify_callback_ask_pin", language)
    response.redirect(url_for("verification.callback_pin", token=_token(), silences=silences + 1), method="POST")
    return response


@bp.post("/callback/pin")
def callback_pin():
    """The PIN on a callback. PIN-entry locks are not applied here: they stop guessing from
    any phone, and this call reached a number on file; wrong PINs still count towards one.
    Silence is not a wrong PIN: it is asked again, then the call ends, and no lock comes near.
    The slow hash runs between two transactions: the second admits the step again."""
    runtime, digits = _runtime(), _digits()
    with runtime.store.transaction() as session:
        callback, refusal = _admit(session, ("confirmed",))
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        if not digits:
            silences = _int_arg("silences", SILENCES_BEFORE_CALLBACK)
            response = VoiceResponse()
            if silences >= SILENCES_BEFORE_CALLBACK:
                callbacks.fail(runtime, callback, "no PIN keyed")
                return hang_up("verify_callback_failed", language=language)
            speak(response, "verify_no_input", language)
            return twiml(_ask_callback_pin(response, language, silences))
        checked = callbacks.pin_to_check(callback)
    right, upgraded = callbacks.check_pin(checked, digits, runtime)
    with runtime.store.transaction() as session:
        callback, refusal = _admit(session, ("confirmed",))
        if refusal is not None:
            return refusal
        outcome, notice = callbacks.pin_keyed(session, runtime, callback, checked, digits, right, upgraded)
        if outcome == callbacks.PinOutcome.VERIFIED:
            return _callback_verified(session, callback)
        response = VoiceResponse()
        if outcome == callbacks.PinOutcome.FAILED:
            speak(response, "verify_callback_failed", language)
            response.hangup()
        else:
            speak(response, "verify_pin_not_accepted", language)
            _ask_callback_pin(response, language)
    _hand_over(notice)
    return twiml(response)


def _callback_verified(session, callback):
    """The person at the number on file confirmed: verified on this call; a waiting secret is
    offered, and read once they say they are ready (with a pen); then they are offered a person."""
    runtime = _runtime()
    language = _callback_language(callback)
    callbacks.verified(session, runtime, callback)
    if one_time_secrets.pending_for(session, runtime, callback.contact_id) is None:
        response = VoiceResponse()
        speak(response, "verify_callback_verified", language)
        return twiml(_offer_hand_over(response, callback, language))
    return twiml(_offer_secret(VoiceResponse(), callback, language))


def _nonce() -> str:
    return request.args.get("n", "")[:64]


def _offer_hand_over(response: VoiceResponse, callback, language: str) -> VoiceResponse:
    """Offer the verified person the desk (business hours) or the on-call technician, on this call."""
    runtime = _runtime()
    target = callbacks.hand_over_target(runtime)
    action = url_for("verification.callback_connect", token=_token(), n=callbacks.issue_nonce(callback))
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, action=action, method="POST")
    speak(gather, "verify_offer_desk" if target.to == "desk" else "verify_offer_oncall", language)
    speak(response, "verify_callback_goodbye", language)
    response.hangup()
    return response


def _offer_secret(response: VoiceResponse, callback, language: str, offers: int = 0) -> VoiceResponse:
    """"Press 1 when you are ready": the action (which releases the secret) carries a one-time value."""
    action = url_for("verification.callback_ready", token=_token(), offers=offers + 1,
                     n=callbacks.issue_nonce(callback))
    gather = response.gather(input="dtmf", num_digits=1, timeout=TIMEOUT_SECONDS, action=action, method="POST")
    speak(gather, "verify_secret_ready", language)
    response.redirect(action, method="POST")
    return response


def _admit_next_step(session, runtime):
    """A verified callback's next step (its ``<Gather>`` action): the callback, and its one-time value
    spent, or the refusal to answer with. A captured request, replayed, is refused here."""
    callback, refusal = _admit(session, ("verified",), fresh=False)
    if refusal is None and not callbacks.spend_nonce(runtime, callback, _nonce()):
        refusal = _refuse(session, callbacks.Rejected("one-time value spent or wrong", callback))
    return callback, refusal


@bp.post("/callback/ready")
def callback_ready():
    """"Press 1 when you are ready": 1 reads the secret (it is delivered now); silence or another key
    offers it again, a few times, then the call ends with the secret still waiting for another call."""
    runtime = _runtime()
    with runtime.store.transaction() as session:
        callback, refusal = _admit_next_step(session, runtime)
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        if _digits() != "1":
            if _int_arg("offers", SECRET_OFFERS) >= SECRET_OFFERS:
                return hang_up("verify_secret_not_read", language=language)
            return twiml(_offer_secret(VoiceResponse(), callback, language, _int_arg("offers", SECRET_OFFERS)))
        delivered = one_time_secrets.deliver_now(session, runtime, callback)
        if delivered is None:  # read to the end, or deleted, on another request of this call
            response = VoiceResponse()
            speak(response, "verify_secret_deleted", language)
            return hang_up("verify_callback_goodbye", response, language)
        stored, secret = delivered
        nonce = callbacks.issue_nonce(callback)
    response = VoiceResponse()
    speak(response, "verify_secret_intro", language, count=len(secret))
    return twiml(_read_secret(response, secret, stored.id, language, nonce))


def _spell_out(response: VoiceResponse, secret: str, language: str) -> None:
    """The secret, one character a phrase, with a pause after each."""
    for phrase in spell_secret(secret, language):
        say_text(response, phrase, language)
        response.pause(length=1)


def _read_secret(response: VoiceResponse, secret: str, secret_id: int, language: str, nonce: str) -> VoiceResponse:
    _spell_out(response, secret, language)
    speak(response, "verify_secret_end", language)
    return _offer_choice(response, secret_id, language, nonce)


def _offer_choice(response: VoiceResponse, secret_id: int, language: str, nonce: str,
                  silences: int = 0) -> VoiceResponse:
    """"To hear it again, press 1; if you have it, press 9": keying nothing only asks again. The
    action carries a one-time value, so a replayed request reads nothing."""
    action = url_for("verification.callback_secret", token=_token(), secret=secret_id, n=nonce)
    gather = response.gather(input="dtmf", num_digits=1, timeout=TIMEOUT_SECONDS, action=action, method="POST")
    speak(gather, "verify_secret_choice", language)
    response.redirect(url_for("verification.callback_secret", token=_token(), secret=secret_id, n=nonce,
                              silences=silences + 1), method="POST")
    return response


@bp.post("/callback/secret")
def callback_secret():
    runtime = _runtime()
    response = VoiceResponse()
    with runtime.store.transaction() as session:
        callback, refusal = _admit_next_step(session, runtime)
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        secret_id = _int_arg("secret", MAX_ID)
        silences = _int_arg("silences", SECRET_OFFERS)
        if not _digits() and 0 < silences < SECRET_OFFERS:
            return twiml(_offer_choice(response, secret_id, language, callbacks.issue_nonce(callback), silences))
        if _digits() != "1":
            one_time_secrets.finish_call(session, runtime, callback, "the person has it")
            speak(response, "verify_secret_deleted", language)
            return twiml(_offer_hand_over(response, callback, language))
        again = one_time_secrets.repeat(session, runtime, callback, secret_id)
        if again is None:
            speak(response, "verify_secret_deleted", language)
            return twiml(_offer_hand_over(response, callback, language))
        secret, last = again
        if not last:
            return twiml(_read_secret(response, secret, secret_id, language, callbacks.issue_nonce(callback)))
        _spell_out(response, secret, language)
        speak(response, "verify_secret_last", language)
        return twiml(_offer_hand_over(response, callback, language))


@bp.post("/callback/connect")
def callback_connect():
    """The verified person pressed 1 to be put through: ring the desk, or the on-call technician after
    hours, each screened with a prompt that says who is on the line and that they were verified."""
    runtime = _runtime()
    with runtime.store.transaction() as session:
        callback, refusal = _admit_next_step(session, runtime)
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        if _digits() != "1" or not callbacks.still_verified(runtime, callback):
            return hang_up("verify_callback_goodbye", language=language)
        target = callbacks.hand_over_target(runtime)
        callbacks.hand_over_started(runtime, callback, target)
    response = VoiceResponse()
    speak(response, "verify_connecting_desk" if target.to == "desk" else "verify_connecting_oncall", language)
    dial = response.dial(caller_id=runtime.config.support_number, timeout=runtime.config.ring_seconds,
                         action=url_for("verification.callback_handed", token=_token()), method="POST")
    for number in target.numbers:
        dial.number(number, url=url_for("verification.callback_screen", token=_token()), method="POST")
    return twiml(response)


def _screened_callback(session):
    """The verified callback a hand-over leg belongs to (its ParentCallSid must be the callback's call)."""
    return callbacks.for_screening(session, _token(), (request.form.get("ParentCallSid") or "")[:64])


@bp.post("/callback/screen")
def callback_screen():
    """Played to whoever picks up at the desk or the on-call mobile: who it is, that they were verified."""
    runtime = _runtime()
    response = VoiceResponse()
    with runtime.store.reading() as session:
        callback = _screened_callback(session)
        if callback is None:
            response.hangup()
            return twiml(response)
        contact, number = callback.contact, callback.to_number
        gather = response.gather(input="dtmf", num_digits=1, timeout=6, method="POST",
                                 action=url_for("verification.callback_accept", token=_token()))
        speak(gather, "verify_screen", contact=contact.name, client=contact.client.name,
              digits=speech.spell(number))
    response.hangup()
    return twiml(response)


@bp.post("/callback/accept")
def callback_accept():
    """A person at the desk (or the on-call technician) pressed 1: the legs are bridged."""
    runtime = _runtime()
    response = VoiceResponse()
    if _digits() != "1":
        response.hangup()
        return twiml(response)
    with runtime.store.transaction() as session:
        callback = _screened_callback(session)
        if callback is None:
            response.hangup()
            return twiml(response)
        callbacks.hand_over_accepted(runtime, callback, (request.form.get("To") or "")[:20] or None)
    return twiml(response)  # an empty document bridges the two calls


@bp.post("/callback/handed")
def callback_handed():
    """The ``<Dial>`` of the hand-over is over: a person took it, or nobody did."""
    runtime = _runtime()
    outcome = statuses.dial_outcome(request.form.get("DialCallStatus"))
    with runtime.store.transaction() as session:
        callback, refusal = _admit(session, ("verified",), fresh=False)
        if refusal is not None:
            return refusal
        language = _callback_language(callback)
        taken = callbacks.hand_over_ended(session, runtime, callback, outcome)
    if taken and outcome == "connected":
        return hang_up()
    return hang_up("verify_hand_over_unanswered", language=language)


@bp.post("/callback/status")
@retried_by_twilio
def callback_status():
    """Status callback of the outbound call: when it ends, whatever was delivered on it is erased."""
    runtime = _runtime()
    if request.form.get("CallStatus") not in CALL_ENDED:
        return empty()
    with runtime.store.transaction() as session:
        callback = callbacks.by_token(session, _token())
        if callback is None or callback.call_sid != _call_sid():
            log.warning("ignored a callback status for an unknown token or another CallSid")
            return empty()
        one_time_secrets.finish_call(session, runtime, callback, "call ended")
        callbacks.call_ended(runtime, callback, request.form.get("CallStatus"))
    return empty()


INBOUND_STEPS = ("verification.start", "verification.number", "verification.pin")


def _after_unexpected_error():
    """A caller of ours (menu option 2) goes back to the main menu, where the desk and the
    voicemail still work; the person on a dual callback, which is our call, is told goodbye."""
    if request.endpoint in INBOUND_STEPS:
        response = VoiceResponse()
        _speak(response, "verify_unavailable")
        return twiml(main_menu(response, language=_lang()))
    return hang_up("verify_error")


answer_errors_with(bp, _after_unexpected_error, "the caller is sent back to the menu, or a callback ends politely")
