"""Property-based tests over what Twilio can put in a webhook.

Twilio's parameters come from a caller's keypad, a carrier's caller ID, a speech
recogniser and Twilio's own status machine, and new ones appear without notice. Whatever
arrives in a correctly signed request, the app must answer as Twilio needs: never a 5xx
(Twilio would play "an application error has occurred" to a client in trouble), always
well-formed TwiML, and on an inbound call never a dead end. A wrongly signed request must
always be refused, and must change nothing.

Every request is signed with ``RequestValidator`` exactly as Twilio signs it, so the
app's real logic runs, not only its 403 path. One module-scoped stack (real Redis
server, real SQLite file, the Twilio stand-in) is seeded once with a directory, an
emergency ticket with its SMS and voice pages, a CALL bridge and two dual callbacks, so
that known page ids, callback tokens and CallSids can be mixed into the generated values.
"""
from __future__ import annotations

import logging
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import redis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException

from dispatch.tickets.models import Ticket, TimelineEvent
from dispatch.calls import spool
from dispatch.notification.models import Page
from dispatch.calls.intake import BOXES
from fake_twilio.phone import ACCOUNT_SID, CallError, PhoneCall, new_sid
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, on_call, settle
from tests.support import AUTH_TOKEN, CLIENT_PHONE, NY, SUPPORT_NUMBER, fresh_database_url, make_stack
from tests.verification_helpers import ANN, ANN_PIN, BEN, GIL, STRANGER, reach_pin_prompt, seed

pytestmark = pytest.mark.postgres

BASE = "http://localhost"
STAFF_MOBILES = ("+12705550111", "+12705550112", "+12705550113", "+12705550114")
DESK_NUMBERS = ("+12705550101", "+12705550102")

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.data_too_large])


# -- values known only once the stack is seeded -----------------------------------------------
@dataclass(frozen=True)
class Seeded:
    """A placeholder for a value the seeded stack made (a page id, a callback token, a CallSid),
    so strategies defined at import time can still hit the app's real records."""

    name: str


def resolve(values: dict, seeded: dict) -> dict:
    return {k: seeded[v.name] if isinstance(v, Seeded) else v for k, v in values.items()}


# -- strategies ---------------------------------------------------------------------------
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # any Unicode HTTP can carry
HUGE = st.builds(lambda piece, times: piece * times, st.text(st.characters(exclude_categories=["Cs"]),
                                                             min_size=1, max_size=3), st.integers(700, 6000))
ODD = ["", " ", "\x00", "\x00" * 3, "\r\n", "\t", "🚨🔥", "Ωmega", "Ünïcødé", "\u202e", "\ufeff", "<Say>", "&amp;",
       "]]>", "'\"", "\x0b\x1f"]


def one_of_values(*known, regexes=()) -> st.SearchStrategy[str]:
    """Known interesting values, shaped values, and then anything: odd characters, any Unicode, huge."""
    return st.one_of(st.sampled_from(known or ODD), st.sampled_from(ODD),
                     *[st.from_regex(r, fullmatch=True) for r in regexes], TEXT, HUGE)


def keys(*weighted: tuple[str, int], junk: str) -> st.SearchStrategy[str | None]:
    """What a person keys at a <Gather>: mostly what the flow asks for (each key as often as its
    weight), sometimes silence (None) or any keys at all. Junk alone would rarely get past
    the first prompt."""
    pool = st.sampled_from([key for key, weight in weighted for _ in range(weight)])
    return st.one_of(pool, pool, st.none(), st.from_regex(junk, fullmatch=True))


def statuses(*valid) -> st.SearchStrategy[str]:
    return one_of_values(*valid, *(v.upper() for v in valid), "unknown", "complete", "in_progress")


CALLERS = one_of_values(
    CLIENT_PHONE, ANN, BEN, GIL, STRANGER, SUPPORT_NUMBER, *STAFF_MOBILES, *DESK_NUMBERS,
    "2705550199", "(270) 555-0199", "+1 270 555 0199", "+44 20 7946 0958", "+442079460958", "+1", "+", "0", "+0",
    "+999999999999999999", "Anonymous", "anonymous", "ANONYMOUS", "Restricted", "Unavailable", "Blocked",
    "Unknown", "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253", "client:alice",
    "sip:alice@example.com", "١٢٧٠٥٥٥٠١٩٩",
    regexes=(r"\+[1-9][0-9]{6,14}", r"[0-9 ()+-]{1,20}"))
DIGITS = st.one_of(st.sampled_from(["1", "2", "3", "501", "4", "6", "9", "1", ANN_PIN, "1"]), one_of_values(
    "5", "0", "50", "5011", "*", "#", "*#", "**", "1#", "hangup", " 1 ", "123", "000001", "2705550150",
    "12705550150", "1111", "CS-000001", "١", "５０１", regexes=(r"[0-9*#]{0,30}",)))
DURATIONS = st.one_of(st.integers(-10**12, 10**12).map(str), one_of_values(
    "0", "-1", "1", "3", "5", "42", "120", "600", "86401", "1e3", "12.5", " 42 ", "4_2", "٤٢", "NaN", "9" * 5000))
URLS = one_of_values(
    f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE0123456789abcdef0123456789abcdef",
    "not a url", "javascript:alert(1)", "http://localhost/voice/menu", "ftp://example.com/x.wav",
    "https://example.com/" + "a" * 3000)
SMS_BODIES = one_of_values(
    "ACK", "ACK 1", "ack cs-000001", "'ACK #1'", "ACK 12", "ACK 999999999", "ACK 9999999999", "ACK 0", "ACK -1",
    "RES 1", "res", "ESC", "ESC 1", "CALL", "CALL 1", "call 999", "WHO", "who?", "HELP", "STOP", "START",
    "UNSUBSCRIBE", "Ack!", "ACK\x001", "ACK 1 thanks", "ACK ١", "🚨 ACK 1", "x" * 2100, "ACK " + "9" * 5000)
TRANSCRIPTS = one_of_values("My server is down, please call me.", "\x00", "a" * 2100, "🔥" * 700,
                            "<Response><Hangup/></Response>", "line one\x0bline two")
SIDS = st.one_of(st.sampled_from([Seeded("emergency_sid"), Seeded("ann_callback_sid"), Seeded("ben_callback_sid"),
                                  Seeded("page_call_sid"), Seeded("bridge_call_sid"), "CA" + "0" * 32]),
                 st.builds(new_sid, st.just("CA")), one_of_values("unknown"))

VOICE_FIELDS = {
    "CallSid": SIDS, "AccountSid": one_of_values(ACCOUNT_SID), "From": CALLERS, "To": CALLERS, "Caller": CALLERS,
    "Called": CALLERS, "CallStatus": statuses("queued", "initiated", "ringing", "in-progress", "completed", "busy",
                                              "failed", "no-answer", "canceled"),
    "Direction": one_of_values("inbound", "outbound-api", "outbound-dial"), "ApiVersion": st.just("2010-04-01"),
    "FromCountry": TEXT, "CallerName": TEXT, "CallDuration": DURATIONS,
    "Digits": DIGITS, "FinishedOnKey": one_of_values("#", "*"),
    "DialCallStatus": statuses("completed", "answered", "busy", "no-answer", "failed", "canceled"),
    "DialCallSid": SIDS, "DialCallDuration": DURATIONS,
    "RecordingUrl": URLS, "RecordingSid": one_of_values("RE" + "1" * 32), "RecordingDuration": DURATIONS,
    "RecordingStatus": statuses("in-progress", "completed", "absent", "failed"),
    "TranscriptionText": TRANSCRIPTS, "TranscriptionStatus": statuses("completed", "failed"),
    "AnsweredBy": statuses("human", "machine_start", "machine_end_beep", "machine_end_silence",
                           "machine_end_other", "fax", "unknown"),
    "ErrorCode": one_of_values("11200", "12300"), "ErrorUrl": URLS,
    "StirVerstat": TEXT,  # Twilio adds parameters without notice; the signature covers them all
}
SMS_FIELDS = {
    "MessageSid": one_of_values("SM" + "2" * 32), "SmsSid": one_of_values("SM" + "2" * 32),
    "AccountSid": one_of_values(ACCOUNT_SID), "From": CALLERS, "To": CALLERS, "Body": SMS_BODIES,
    "NumMedia": DURATIONS, "NumSegments": DURATIONS, "MediaUrl0": URLS,
    "MessageStatus": statuses("accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered",
                              "failed", "read", "canceled"),
    "SmsStatus": TEXT, "ErrorCode": one_of_values("30003", "30008", "21610"), "ApiVersion": st.just("2010-04-01"),
}
VOICE_PARAMS = st.fixed_dictionaries({}, optional=VOICE_FIELDS)  # any field may be missing
SMS_PARAMS = st.fixed_dictionaries({}, optional=SMS_FIELDS)

NUMBERS = st.one_of(st.integers(-10**25, 10**25).map(str), one_of_values("abc", "-1", "0", "1", "2", "3", "4",
                                                                            "99999999999999999999", "1e3", "１"))
QUERY = st.fixed_dictionaries({}, optional={
    "attempt": NUMBERS, "silences": NUMBERS, "wait": NUMBERS, "secret": NUMBERS,
    "box": one_of_values(*BOXES, "unknown", "SUPPORT", "emergency ", "fallback\x00"),
    "page": st.one_of(st.sampled_from([Seeded("sms_page"), Seeded("voice_page"), Seeded("bridge_page")]),
                      st.sampled_from([Seeded("voice_page"), Seeded("bridge_page")]), NUMBERS),
    "token": st.one_of(st.sampled_from([Seeded("ann_token"), Seeded("ben_token")]), st.just(Seeded("ann_token")),
                   one_of_values("0" * 43)),
})
INSTANTS = st.sampled_from([
    datetime(2026, 11, 24, 10, 0, tzinfo=NY),   # a Tuesday, open
    datetime(2026, 11, 24, 3, 0, tzinfo=NY),    # the same night, closed
    datetime(2026, 12, 25, 11, 0, tzinfo=NY),   # Christmas, closed all day
    datetime(2026, 11, 1, 1, 30, tzinfo=NY),    # the Sunday daylight saving ends
    datetime(2026, 11, 27, 16, 59, tzinfo=NY),  # a minute before Friday's close
])


# -- the endpoints --------------------------------------------------------------------------
CALLER, CALLEE, CALLBACK = "caller", "callee", "callback"


def _machine(params: dict) -> bool:
    answered_by = params.get("AnsweredBy") or ""
    return answered_by.startswith("machine") or answered_by == "fax"


@dataclass(frozen=True)
class Endpoint:
    """A Twilio-facing URL and what its answer must be.

    ``kind``: ``caller`` (the inbound caller is on the line: never a dead end), ``callee``
    (a technician or a called-back contact: valid, and a hang-up says why unless
    ``silent_end``), ``callback`` (Twilio ignores the answer: valid TwiML is enough).
    ``args``: the query-string arguments the app puts in this URL's links.
    ``may_end``: a caller's flow may really end here (after a ticket number, a callback promise).
    """

    path: str
    kind: str
    args: tuple[str, ...] = ()
    may_end: bool = False
    silent_end: Callable[[dict], bool] = field(default=lambda params: False)
    empty_ok: bool = False

    def __str__(self):
        return self.path


VOICE_ENDPOINTS = [
    Endpoint("/voice/incoming", CALLER),
    Endpoint("/voice/menu", CALLER, ("attempt",)),
    Endpoint("/voice/fallback", CALLER),
    Endpoint("/voice/voicemail", CALLER, ("box",)),
    Endpoint("/voice/recorded", CALLER, ("box",), may_end=True),
    Endpoint("/voice/no-message", CALLER, ("box",), may_end=True),
    # The desk took the call and it is over: nothing more to say to the caller.
    Endpoint("/voice/desk-result", CALLER, ("box",), may_end=True,
             silent_end=lambda p: p.get("DialCallStatus") in ("completed", "answered")),
    Endpoint("/voice/ticket-status", CALLER),
    Endpoint("/verification/start", CALLER),
    Endpoint("/verification/number", CALLER, ("attempt",)),
    Endpoint("/verification/pin", CALLER, ("silences",), may_end=True),
    Endpoint("/voice/desk-screen", CALLEE),
    # Empty bridges the desk phone to the caller; anything but 1 drops the desk leg only.
    Endpoint("/voice/desk-accept", CALLEE, silent_end=lambda p: True, empty_ok=True),
    Endpoint("/voice/page", CALLEE, ("page", "attempt"), silent_end=_machine),
    Endpoint("/voice/page/key", CALLEE, ("page",)),
    Endpoint("/voice/bridge", CALLEE, ("page",), silent_end=_machine),
    Endpoint("/voice/bridge/result", CALLEE, ("page",)),
    Endpoint("/verification/callback", CALLEE, ("token", "wait")),
    Endpoint("/verification/callback/confirm", CALLEE, ("token",)),
    Endpoint("/verification/callback/pin", CALLEE, ("token",)),
    Endpoint("/verification/callback/secret", CALLEE, ("token", "secret")),
    Endpoint("/voice/recording-status", CALLBACK, ("box",)),
    Endpoint("/voice/transcription", CALLBACK, ("box",)),
    Endpoint("/voice/status", CALLBACK),
    Endpoint("/voice/page/status", CALLBACK, ("page",)),
    Endpoint("/voice/bridge/status", CALLBACK, ("page",)),
    Endpoint("/verification/callback/status", CALLBACK, ("token",)),
]
SMS_ENDPOINTS = [Endpoint("/sms/incoming", CALLBACK), Endpoint("/sms/status", CALLBACK, ("page",))]
ALL_ENDPOINTS = VOICE_ENDPOINTS + SMS_ENDPOINTS
ENDPOINT = {e.path: e for e in ALL_ENDPOINTS}


# -- the seeded stack -------------------------------------------------------------------------
class ExceptionLog(logging.Handler):
    """Collects log records that carry a traceback: the app's safety net (``answer_errors_with``)
    answers an exception with polite TwiML, so a crash would otherwise look like a 200."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(record)


class World:
    """The seeded stack, what seeding made, and the exceptions logged during the last request."""

    def __init__(self, stack, seeded: dict, errors: ExceptionLog, contacts: dict):
        self.stack, self.seeded, self.errors, self.contacts = stack, seeded, errors, contacts
        self.nights = 0

    def next_night(self) -> datetime:
        """3 AM on a night after every earlier one: the office is closed, and the hourly callback
        limit and the escalation timers of earlier examples are behind us."""
        self.nights += 1
        night = datetime(2027, 1, 4, 3, 0, tzinfo=NY) + timedelta(days=self.nights)
        self.stack.clock.set(night)
        return night

    def page_ticket(self, page_id: int) -> int:
        with self.stack.runtime.store.transaction() as session:
            return session.get(Page, page_id).ticket_id

    def __repr__(self):
        return "World(...)"  # keeps hypothesis' falsifying examples readable

    @property
    def app(self):
        return self.stack.app

    def post(self, path: str, query: dict, params: dict, token: str = AUTH_TOKEN, signed_url: str | None = None,
             signed_params: dict | None = None):
        """POST a form as Twilio does, signed over the public URL and every parameter."""
        query, params = resolve(query, self.seeded), resolve(params, self.seeded)
        url = BASE + path + (f"?{urlencode(query)}" if query else "")
        headers = {}
        if token is not None:
            signature_params = params if signed_params is None else signed_params
            headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(signed_url or url,
                                                                                      signature_params)
        self.errors.records.clear()
        response = self.stack.client.post(url, data=urlencode(params).encode(), headers=headers,
                                          content_type="application/x-www-form-urlencoded",
                                          buffered=True)  # closed as a server does: work after the response runs
        crashes = [f"{r.getMessage()}: {r.exc_info[1]!r}" for r in self.errors.records]
        return response, url, params, crashes

    def counts(self) -> tuple[int, int]:
        """How many tickets and timeline events the store holds."""
        with self.stack.runtime.store.transaction() as session:
            return (session.scalar(select(func.count()).select_from(Ticket)),
                    session.scalar(select(func.count()).select_from(TimelineEvent)))

    def tickets_of_call(self, call_sid: str) -> list[dict]:
        """The call's voicemail or missed-call tickets (a verification ticket has its own key)."""
        with self.stack.runtime.store.transaction() as session:
            found = session.scalars(select(Ticket).where(Ticket.call_sid == call_sid,
                                                         Ticket.kind != "verification")).all()
            return [_summary(t) for t in found]


def _summary(ticket: Ticket) -> dict:
    return {"id": ticket.id, "kind": ticket.kind, "priority": ticket.priority, "caller": ticket.caller,
            "recording_sid": ticket.recording_sid, "transcript": ticket.transcript, "box": ticket.box,
            "events": [e.event for e in ticket.timeline]}


def _query_value(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


@pytest.fixture(scope="module")
def world(tmp_path_factory, redis_server):
    """One stack for the whole module, seeded through the app's own flows (no rows written by hand)."""
    redis.Redis.from_url(redis_server.url).flushall()
    folder = tmp_path_factory.mktemp("properties")
    stack = make_stack(folder, redis_server.url, fresh_database_url(folder), public_base_url=BASE)
    errors = ExceptionLog()
    logging.getLogger().addHandler(errors)
    try:
        stack.at(2026, 11, 24, 3, 0)
        contacts = seed(stack)  # Ann (with a PIN), Ben, Gil
        created = stack.api("/api/disclosures", method="POST",
                            json={"contact_id": contacts["ann"], "secret": "Tr0ub4dor&3"})
        assert created.status_code == 201, created.get_data(as_text=True)
        emergency = emergency_voicemail(stack, transcript="The mail server is down.")  # ticket 1, P1
        settle(stack)
        deliver_all(stack)
        advance(stack, minutes=5)  # the voice page to the primary
        primary = on_call(stack)["primary"]
        status, _ = stack.fake.sms_from(primary, "CALL 1", SUPPORT_NUMBER)
        assert status == 200
        for caller in (ANN, BEN):
            reach_pin_prompt(stack, caller).press("*")  # the dual callback
        settle(stack)
        calls = {urlsplit(c["url"]).path: c for c in stack.fake.calls}
        callbacks = [c for c in stack.fake.calls if urlsplit(c["url"]).path == "/verification/callback"]
        by_number = {c["to"]: c for c in callbacks}
        seeded = {
            "emergency_sid": emergency.call_sid,
            "sms_page": _query_value(stack.fake.messages[0]["status_callback"], "page"),
            "voice_page": _query_value(calls["/voice/page"]["url"], "page"),
            "page_call_sid": calls["/voice/page"]["sid"],
            "bridge_page": _query_value(calls["/voice/bridge"]["url"], "page"),
            "bridge_call_sid": calls["/voice/bridge"]["sid"],
            "ann_token": _query_value(by_number[ANN]["url"], "token"),
            "ann_callback_sid": by_number[ANN]["sid"],
            "ben_token": _query_value(by_number[BEN]["url"], "token"),
            "ben_callback_sid": by_number[BEN]["sid"],
        }
        assert errors.records == [], "seeding the stack logged an exception"
        yield World(stack=stack, seeded=seeded, errors=errors, contacts=contacts)
    finally:
        logging.getLogger().removeHandler(errors)
        stack.fake.stop()
        stack.runtime.store.dispose()


# -- what an answer must be ---------------------------------------------------------------
VERBS = {"Say", "Play", "Pause", "Gather", "Record", "Dial", "Redirect", "Hangup", "Reject", "Enqueue", "Leave",
         "Connect", "Start", "Stop", "Refer", "Pay", "Prompt"}
NESTED = {"Gather": {"Say", "Play", "Pause"}, "Dial": {"Number", "Client", "Conference", "Queue", "Sip", "Sim"}}
SSML = {"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w", "amazon:effect",
        "amazon:domain"}
HEARD = {"Say", "Play"}
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
SPOKEN_TICKET = re.compile(r"C, S, ((?:[0-9], )*[0-9])(?![0-9])")
LINK_ATTRIBUTES = ("action", "recordingStatusCallback", "transcribeCallback", "statusCallback", "url")


def parse_twiml(body: str) -> ET.Element:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise AssertionError(f"not well-formed XML ({exc}): {body[:300]!r}") from None
    assert root.tag == "Response", f"root is <{root.tag}>, not <Response>"
    return root


def assert_links_lead_somewhere(app, base_url: str, link: str) -> None:
    """A URL Twilio will request next must be one of this app's POST routes, or the call dies there."""
    target = urlsplit(urljoin(base_url, link))
    assert target.netloc == urlsplit(BASE).netloc, f"link to another host: {link!r}"
    try:
        app.url_map.bind("localhost").match(target.path, method="POST")
    except HTTPException:
        raise AssertionError(f"link {link!r} leads to no POST route of the app") from None


def assert_valid_voice_twiml(app, url: str, root: ET.Element) -> None:
    """Real TwiML verbs, nested as Twilio allows, with values Twilio accepts."""
    for verb in root:
        assert verb.tag in VERBS, f"<{verb.tag}> is not a TwiML verb"
        _assert_noun(app, url, verb, NESTED.get(verb.tag, set()))


def _assert_noun(app, url: str, node: ET.Element, allowed: set[str]) -> None:
    for child in node:
        if node.tag == "Say":
            assert child.tag in SSML, f"<{child.tag}> inside <Say>"
            continue
        assert child.tag in allowed, f"<{child.tag}> inside <{node.tag}>"
        _assert_noun(app, url, child, NESTED.get(child.tag, set()))
    text = (node.text or "").strip()
    if node.tag == "Say":
        assert text or len(node), "an empty <Say> (Twilio error 13520)"
    if node.tag == "Play":
        assert re.match(r"https?://", text), f"<Play> of something that is not a URL: {text[:80]!r}"
    if node.tag == "Redirect":
        assert text, "an empty <Redirect>"
        assert_links_lead_somewhere(app, url, text)
    if node.tag == "Number":
        assert E164.fullmatch(text), f"<Dial> to something that is not a phone number: {text[:80]!r}"
    if node.tag == "Dial" and node.get("callerId"):
        assert E164.fullmatch(node.get("callerId"))
    for name in LINK_ATTRIBUTES:
        if node.get(name):
            assert_links_lead_somewhere(app, url, node.get(name))
    for name in ("timeout", "numDigits", "maxLength", "length"):
        if node.get(name) is not None:
            assert node.get(name).isdigit() and int(node.get(name)) >= (1 if name != "length" else 0), \
                f"{node.tag} {name}={node.get(name)!r}"


def assert_goes_somewhere(endpoint: Endpoint, params: dict, root: ET.Element) -> None:
    """No dead ends: the person on the line hears something or is taken on; a hang-up comes
    only where the flow really ends, as the last verb, and after telling them why."""
    verbs = [verb.tag for verb in root]
    if not verbs:
        assert endpoint.empty_ok, "an empty answer: Twilio hangs up in silence"
        return
    last = root[-1]
    forward = last.tag in ("Redirect", "Enqueue") or (last.tag == "Dial" and last.get("action"))
    assert forward or last.tag == "Hangup", \
        f"the document runs out after <{last.tag}>: Twilio hangs up without a word ({verbs})"
    assert "Reject" not in verbs
    if "Hangup" in verbs:
        assert verbs.index("Hangup") == len(verbs) - 1, f"verbs after <Hangup>: {verbs}"
        assert endpoint.kind == CALLEE or endpoint.may_end, f"the caller is hung up on at {endpoint}: {verbs}"
        heard = any(node.tag in HEARD for node in root.iter())
        assert heard or endpoint.silent_end(params), f"a silent hang-up: {verbs}"


def check_voice_answer(world: World, endpoint: Endpoint, url: str, params: dict, response, crashes) -> ET.Element:
    body = response.get_data(as_text=True)
    assert response.status_code == 200, f"{endpoint} answered HTTP {response.status_code}: {body[:300]!r}"
    assert not crashes, f"{endpoint} crashed and the safety net answered: {crashes}"
    assert response.mimetype in ("text/xml", "application/xml")
    root = parse_twiml(body)
    assert_valid_voice_twiml(world.app, url, root)
    if endpoint.kind != CALLBACK:
        assert_goes_somewhere(endpoint, params, root)
    return root


def _expected_status(params: dict, world: World) -> int:
    """413 when the form is over the app's limit (Twilio's webhooks are a few KB), else 200."""
    size = len(urlencode(resolve(params, world.seeded)).encode())
    return 413 if size > world.app.config["MAX_CONTENT_LENGTH"] else 200


# -- the properties ---------------------------------------------------------------------------
def test_every_twilio_facing_route_is_covered(world):
    """New webhook routes must join these properties: the list is checked against the app's URL map."""
    routes = {rule.rule for rule in world.app.url_map.iter_rules() if "POST" in rule.methods
              and rule.rule.startswith(("/voice/", "/sms/", "/verification/"))}
    assert routes == {e.path for e in ALL_ENDPOINTS}


@PROPERTY
@given(transcript=TRANSCRIPTS, recording_url=URLS, answered_by=statuses("human", "machine_start", "fax"),
       key=st.sampled_from(["1", "*", "0", "#"]))
@example(transcript="\x00", recording_url="", answered_by="human", key="*")  # was: a NUL in <Say>: not XML
@example(transcript="line one\x0bline two", recording_url="", answered_by="human", key="*")
@example(transcript="", recording_url="not a url", answered_by="human", key="1")  # was: <Play>not a url</Play>
def test_whatever_the_recording_callbacks_say_the_voice_page_reading_them_is_valid_twiml(
        world, transcript, recording_url, answered_by, key):
    """The technician's voice page reads the caller's transcript aloud and plays the recording
    on 1: whatever Twilio's recording and transcription callbacks carried, the page and its
    keys answer valid TwiML, and nothing the callbacks said is lost. (First in the module,
    while ticket 1 is still new and its page still reads them; the keys tried here leave it so.)"""
    call_sid = world.seeded["emergency_sid"]
    for path, params in (("/voice/recording-status", {
            "RecordingSid": new_sid("RE"), "RecordingUrl": recording_url, "RecordingStatus": "completed",
            "RecordingDuration": "42"}), ("/voice/transcription", {
            "TranscriptionText": transcript, "TranscriptionStatus": "completed"})):
        response, _, _, crashes = world.post(path, {"box": "emergency"}, {
            "CallSid": call_sid, "From": CLIENT_PHONE, "AccountSid": ACCOUNT_SID, **params})
        assert response.status_code == 200 and not crashes, crashes
    [ticket] = world.tickets_of_call(call_sid)
    if transcript:  # the words are kept (PostgreSQL's text cannot hold a NUL, so the store drops those)
        assert (ticket["transcript"] or "").replace("\x00", "") == transcript[:20000].replace("\x00", ""), \
            "transcript lost"
    params = {"CallSid": world.seeded["page_call_sid"], "AnsweredBy": answered_by, "Direction": "outbound-api"}
    response, url, params, crashes = world.post("/voice/page", {"page": Seeded("voice_page")}, params)
    check_voice_answer(world, ENDPOINT["/voice/page"], url, params, response, crashes)
    response, url, params, crashes = world.post("/voice/page/key", {"page": Seeded("voice_page")},
                                                {**params, "Digits": key})
    check_voice_answer(world, ENDPOINT["/voice/page/key"], url, params, response, crashes)


CALLBACK_KEYS = keys(("1", 4), (ANN_PIN + "#", 3), ("9", 2), ("2", 1), ("*", 1), ("#", 1), ("1111#", 2),
                     (ANN_PIN, 1), junk=r"[0-9*#]{1,8}")
# Accept the call, give the PIN, hear the secret again, say it is written down: the first
# steps of this, then anything, so that examples reach every step of the callback.
CALLBACK_SCRIPTS = st.builds(lambda right, then: ["1", ANN_PIN + "#", "1", "9"][:right] + then,
                             st.integers(0, 4), st.lists(CALLBACK_KEYS, max_size=4))


@settings(PROPERTY, max_examples=10)
@given(who=st.sampled_from([ANN, BEN]), answered_by=statuses("human", "machine_start", "fax", "unknown"),
       keys=CALLBACK_SCRIPTS, forge_at=st.one_of(st.none(), st.integers(0, 5)),
       with_secret=st.booleans())
def test_a_dual_callback_answered_with_any_keys_reads_a_secret_only_after_the_pin(world, who, answered_by, keys,
                                                                                  forge_at, with_secret):
    """A fresh dual callback, answered by a person or a machine pressing anything, perhaps with a
    forged webhook (the callback's token under another CallSid) in the middle. Every answer
    is TwiML the call can follow and ends with a spoken goodbye; a one-time secret is read
    only after 1 and the right PIN, and it does not outlive the call."""
    stack = world.stack
    world.next_night()
    disclosure = None
    if with_secret:
        created = stack.api("/api/disclosures", method="POST",
                            json={"contact_id": world.contacts["ann"], "secret": "Xy7!"})
        assert created.status_code == 201
        disclosure = created.get_json()["id"]
    before = len(stack.fake.calls)
    reach_pin_prompt(stack, who).press("*")
    settle(stack)
    [placed] = [c for c in stack.fake.calls[before:] if urlsplit(c["url"]).path == "/verification/callback"]
    assert placed["to"] == who
    world.errors.records.clear()
    pressed = []
    try:
        phone = stack.fake.answer_call(placed["sid"], answered_by=answered_by)
        for step, key in enumerate(keys):
            if step == forge_at:
                response, url, sent, crashes = world.post(urlsplit(placed["url"]).path + "?" + urlsplit(
                    placed["url"]).query, {}, {"CallSid": new_sid("CA"), "AnsweredBy": "human", "Digits": "1"})
                check_voice_answer(world, ENDPOINT["/verification/callback"], url, sent, response, crashes)
            if phone.state != "gather":
                break
            pressed.append(key)
            phone.press(key) if key else phone.wait()
    except CallError as exc:
        raise AssertionError(f"the callback could not go on: {exc}") from None
    assert not world.errors.records, [r.getMessage() for r in world.errors.records]
    _assert_walk_documents(world, phone, silent_end=False)
    heard_secret = "one-time message" in phone.transcript
    if heard_secret:  # only Ann has a secret waiting, and only her PIN opens it
        assert who == ANN and any(k and k.split("#")[0] == ANN_PIN for k in pressed), (pressed, phone.transcript)
    if who == ANN and with_secret and pressed[:2] == ["1", ANN_PIN + "#"] and not _machine(
            {"AnsweredBy": answered_by}) and (forge_at is None or forge_at >= 2):
        assert heard_secret, f"Ann verified but was not read her message: {phone.transcript!r}"
    phone.hang_up()
    if disclosure is not None:
        status = stack.api(f"/api/disclosures/{disclosure}").get_json()["status"]
        assert status != "delivering", "a secret outlived the call it was read on"


TECHNICIAN_KEYS = keys(("4", 2), ("6", 2), ("1", 2), ("*", 2), ("9", 1), ("#", 1), ("44", 1), ("64", 1),
                       junk=r"[0-9*#]{1,4}")


@settings(PROPERTY, max_examples=8)
@given(answered_by=statuses("human", "machine_start", "machine_end_beep", "fax", "unknown"),
       keys=st.lists(TECHNICIAN_KEYS, max_size=5), transcript=TRANSCRIPTS.filter(lambda t: len(t) < 3000),
       acknowledged_by_sms=st.booleans())
def test_a_technician_answering_a_voice_page_with_any_keys(world, answered_by, keys, transcript,
                                                           acknowledged_by_sms):
    """A fresh emergency, escalated to the voice page, answered by a person or a machine that
    presses anything. Every answer is TwiML the call can follow, the call ends with a spoken
    reason (silently only for a machine), and the ticket's status is decided by the keys alone:
    4 acknowledges, 6 resolves, a machine or any other key changes nothing."""
    stack = world.stack
    world.next_night()
    call = emergency_voicemail(stack, transcript=transcript)
    [ticket] = world.tickets_of_call(call.call_sid)
    settle(stack)
    deliver_all(stack)
    advance(stack, minutes=5)
    [page_call] = [c for c in stack.fake.calls if urlsplit(c["url"]).path == "/voice/page"
                   and world.page_ticket(int(_query_value(c["url"], "page"))) == ticket["id"]]
    if acknowledged_by_sms:  # another technician takes it while the phone rings
        assert stack.fake.sms_from(on_call(stack)["secondary"], f"ACK {ticket['id']}", SUPPORT_NUMBER)[0] == 200
    world.errors.records.clear()
    expected = "acknowledged" if acknowledged_by_sms else "new"
    try:
        phone = stack.fake.answer_call(page_call["sid"], answered_by=answered_by)
        for key in keys:
            if phone.state != "gather":
                break
            if key and key[0] in "46":  # numDigits=1: only the first key counts
                expected = "resolved" if key[0] == "6" else "acknowledged"
            phone.press(key) if key else phone.wait()
    except CallError as exc:
        raise AssertionError(f"the page could not go on: {exc}") from None
    assert not world.errors.records, [r.getMessage() for r in world.errors.records]
    _assert_walk_documents(world, phone, silent_end=_machine({"AnsweredBy": answered_by}))
    status = stack.ticket(str(ticket["id"]))["status"]
    assert status == expected, (status, expected, keys, phone.transcript)
    # The technician closes it, so its escalation does not go on paging through later examples.
    assert stack.fake.sms_from(on_call(stack)["primary"], f"RES {ticket['id']}", SUPPORT_NUMBER)[0] == 200


def _assert_walk_documents(world: World, phone: PhoneCall, silent_end: bool) -> None:
    """Every document the call fetched is valid TwiML, and an ended call ended on a <Hangup>
    that comes after something said (or silently, where ``silent_end``)."""
    for document in phone.documents:
        assert_valid_voice_twiml(world.app, BASE + "/voice/incoming", parse_twiml(document))
    if phone.state == "ended" and phone.documents:
        last = parse_twiml(phone.documents[-1])
        assert len(last) and last[-1].tag == "Hangup", f"the call ran off the end: {phone.transcript!r}"
        assert silent_end or any(node.tag in HEARD for node in last.iter()), "a silent hang-up"


@pytest.mark.parametrize("endpoint", VOICE_ENDPOINTS, ids=str)
@PROPERTY
@given(params=VOICE_PARAMS, query=QUERY, at=INSTANTS)
# was: a page id beyond SQLite's INTEGER raised OverflowError (answered by the safety net)
@example(params={"CallSid": "CA1", "DialCallStatus": "completed"}, query={"page": "99999999999999999999"},
         at=datetime(2026, 11, 24, 3, 0, tzinfo=NY))
# was, on PostgreSQL (its text cannot hold a NUL): the verification answered with its error message
@example(params={"CallSid": "CA\x00", "From": "\x00"}, query={}, at=datetime(2026, 11, 24, 3, 0, tzinfo=NY))
def test_a_signed_voice_webhook_always_gets_valid_twiml_and_never_a_dead_end(world, endpoint, params, query, at):
    """Any parameters (missing, junk, huge, Unicode) and any query string: 200 and TwiML a
    caller can follow, or 413 when the form is over the size limit; never a 5xx."""
    world.stack.clock.set(at)
    query = {k: v for k, v in query.items() if k in endpoint.args}
    response, url, sent, crashes = world.post(endpoint.path, query, params)
    if _expected_status(params, world) == 413:
        assert response.status_code == 413
        return
    check_voice_answer(world, endpoint, url, sent, response, crashes)


def _is_staff(raw: str | None) -> bool:
    """Whether ``raw`` could be read as a staff mobile (in any format): only then may it get an answer."""
    digits = "".join(str(unicodedata.decimal(ch)) for ch in raw or "" if ch.isdecimal())
    return any(mobile[2:] in digits for mobile in STAFF_MOBILES)


@PROPERTY
@given(params=SMS_PARAMS)
@example(params={"From": STAFF_MOBILES[0], "Body": "ACK 1"})
@example(params={"From": STRANGER, "Body": "WHO"})
def test_a_text_gets_a_messaging_response_and_a_stranger_gets_nothing(world, params):
    """/sms/incoming answers a <Response> of <Message>s (possibly none); a sender that is not a
    staff mobile gets an empty one, whatever it writes, and changes nothing in the store."""
    before = world.counts()
    response, _, _, crashes = world.post("/sms/incoming", {}, params)
    if _expected_status(params, world) == 413:
        assert response.status_code == 413
        return
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and not crashes, (response.status_code, body[:300], crashes)
    root = parse_twiml(body)
    assert all(child.tag == "Message" and (child.text or "").strip() and not len(child) for child in root), body
    assert len(root) <= 1
    if not _is_staff(params.get("From")):
        assert len(root) == 0, f"a stranger was answered: {body!r}"
        assert world.counts() == before, "a stranger's text changed the store"


@PROPERTY
@given(params=SMS_PARAMS, query=QUERY)
@example(params={"MessageStatus": "delivered"}, query={"page": "99999999999999999999"})  # was: a 500
def test_an_sms_status_callback_gets_an_empty_response(world, params, query):
    """Status callbacks of our SMS: any status, any page id (or none), out of range or not: 200 and <Response/>."""
    query = {k: v for k, v in query.items() if k == "page"}
    response, _, _, crashes = world.post("/sms/status", query, params)
    if _expected_status(params, world) == 413:
        assert response.status_code == 413
        return
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and not crashes, (response.status_code, body[:300], crashes)
    assert len(parse_twiml(body)) == 0


FORGERIES = st.sampled_from(["unsigned", "another token", "tampered parameter", "tampered query", "another URL"])


@PROPERTY
@given(endpoint=st.sampled_from(ALL_ENDPOINTS), params=st.one_of(VOICE_PARAMS, SMS_PARAMS), query=QUERY,
       forgery=FORGERIES)
def test_a_wrongly_signed_request_is_refused_and_changes_nothing(world, endpoint, params, query, forgery):
    """Unsigned, signed with another token, or signed for other parameters or another URL: 403
    (or 413 for an oversized form, refused before it is read, unless there is no signature to check
    it against: 403 at once), and the store is untouched."""
    query = {k: v for k, v in query.items() if k in endpoint.args}
    before = world.counts()
    url = BASE + endpoint.path + (f"?{urlencode(resolve(query, world.seeded))}" if query else "")
    kwargs = {
        "unsigned": {"token": None},
        "another token": {"token": "not-the-" + AUTH_TOKEN},
        "tampered parameter": {"signed_params": {**resolve(params, world.seeded),
                                                 "Digits": (params.get("Digits") or "") + "1"}},
        "tampered query": {"signed_url": url + ("&" if query else "?") + "box=emergency"},
        "another URL": {"signed_url": BASE + "/voice/incoming" if endpoint.path != "/voice/incoming"
                        else BASE + "/voice/fallback"},
    }[forgery]
    response, _, _, crashes = world.post(endpoint.path, query, params, **kwargs)
    too_large = _expected_status(params, world) == 413 and forgery != "unsigned"
    assert response.status_code == (413 if too_large else 403), response.get_data(as_text=True)[:300]
    assert not crashes
    assert world.counts() == before


@settings(PROPERTY, max_examples=5)
@given(endpoint=st.sampled_from(ALL_ENDPOINTS), field_name=st.sampled_from(["Body", "TranscriptionText", "Digits",
                                                                            "X" * 30]),
       piece=st.sampled_from(["x", "é", "🔥", "\x00"]))
def test_a_form_over_the_size_limit_is_refused_with_413(world, endpoint, field_name, piece):
    """Twilio's webhooks are a few KB; a signed form over the limit is 413, never a 500, never read."""
    limit = world.app.config["MAX_CONTENT_LENGTH"]
    params = {"CallSid": new_sid("CA"), field_name: piece * (limit // len(piece.encode()) + 1)}
    before = world.counts()
    response, _, _, crashes = world.post(endpoint.path, {}, params)
    assert response.status_code == 413 and not crashes
    assert world.counts() == before


RECORDING_CALLBACKS = st.tuples(
    st.sampled_from(["/voice/recorded", "/voice/recording-status", "/voice/transcription", "/voice/no-message",
                     "/voice/status"]),
    one_of_values(*BOXES, "unknown"), VOICE_PARAMS)


@PROPERTY
@given(callbacks=st.lists(RECORDING_CALLBACKS, min_size=1, max_size=6), caller=CALLERS)
# were, on PostgreSQL: a RecordingSid longer than its column, or a NUL, failed the write; the
# callback went to the spool, whose replay failed on it for ever: no ticket
@example(callbacks=[("/voice/recording-status", "support", {"RecordingSid": "RE" + "1" * 100,
                                                            "RecordingStatus": "completed"})], caller=CLIENT_PHONE)
@example(callbacks=[("/voice/transcription", "emergency", {"TranscriptionText": "down\x00",
                                                           "TranscriptionStatus": "completed"})], caller="\x00")
def test_recording_callbacks_with_junk_leave_exactly_one_ticket_per_call(world, callbacks, caller):
    """The <Record> action, the recording and transcription callbacks, the silent-caller and
    status callbacks of one CallSid, in any order, repeated, with junk values: one ticket (none
    if only a status callback came), paged at most once, and the number a caller hears is that
    ticket's. Nothing lost, nothing duplicated."""
    call_sid = new_sid("CA")
    spool.replay(world.stack.runtime)  # what earlier tests of this world left there
    folder = spool.spool_dir(world.stack.runtime.settings.data_dir)
    heard, creators, paging = [], 0, False
    for path, box, params in callbacks:
        params = {**params, "CallSid": call_sid, "From": caller}
        if _expected_status(params, world) == 413:
            continue
        waiting = len(list(folder.glob("*.json")))
        response, url, sent, crashes = world.post(path, {"box": box}, params)
        root = check_voice_answer(world, ENDPOINT[path], url, sent, response, crashes)
        heard += [" ".join(node.text or "" for node in root.iter("Say"))] if path in (
            "/voice/recorded", "/voice/no-message") else []
        if path != "/voice/status":
            creators += 1
            paging |= BOXES.get(box, BOXES["support"]).pages
        if path == "/voice/recording-status" and len(list(folder.glob("*.json"))) == waiting:
            # not kept for the worker: only because the call's ticket already held it
            assert world.tickets_of_call(call_sid), params
    kept = len(list(folder.glob("*.json")))
    assert spool.replay(world.stack.runtime) == kept
    assert not list(folder.glob("*"))
    tickets = world.tickets_of_call(call_sid)
    assert len(tickets) == (1 if creators else 0), tickets
    if tickets:
        [ticket] = tickets
        assert ticket["caller"] == "anonymous" or E164.fullmatch(ticket["caller"])
        assert ticket["events"].count("created") == 1
        assert ticket["events"].count("page_requested") == (1 if paging else 0)
        for said in heard:  # the number the caller writes down is this call's ticket, and no other
            assert set(SPOKEN_TICKET.findall(said)) == {", ".join(str(ticket["id"]))}, said


@dataclass(frozen=True)
class Move:
    """What the caller does at the next step, read according to where the call is."""

    keys: str | None  # at a <Gather>: what is keyed (None: silence)
    seconds: int  # at a <Record>: length of the message (0: silence)
    hang_up: bool  # at a <Record>: hang up after speaking
    dial_status: str  # at a <Dial>: what the desk did


MOVES = st.builds(Move, keys=keys(("1", 3), ("501", 3), ("2", 2), ("3", 2), ("*", 2), ("9", 1), ("1#", 1),
                                  ("#", 1), (ANN_PIN + "#", 2), ("1111#", 1), ("2705550150#", 1), ("*1", 1),
                                  junk=r"[0-9*#]{1,12}"),
                  seconds=st.integers(0, 700), hang_up=st.booleans(),
                  dial_status=st.sampled_from(["completed", "answered", "busy", "no-answer", "failed", "canceled"]))


@PROPERTY
@given(caller=CALLERS.filter(lambda c: len(c) < 500), moves=st.lists(MOVES, max_size=8), at=INSTANTS,
       order=st.permutations([0, 1]), repeat=st.booleans())
def test_a_caller_pressing_anything_is_never_stranded_and_a_message_is_never_lost(world, caller, moves, at, order,
                                                                                  repeat):
    """A whole call, driven by the Twilio stand-in's phone: any keys, silences, messages and desk
    results. Every answer is TwiML the phone can follow, a call only ends on an explicit
    <Hangup>, and a message left becomes exactly one voicemail ticket, whatever the order or
    repetition of the recording and transcription callbacks."""
    world.stack.clock.set(at)
    call = PhoneCall(world.stack.hooks, from_=caller, to=SUPPORT_NUMBER).start()
    left_message = hung_up = False
    try:
        for move in moves:
            if call.state == "gather":
                call.press(move.keys) if move.keys else call.wait()
            elif call.state == "record":
                if move.seconds:
                    call.leave_message(seconds=move.seconds, transcript="Printer on fire", hang_up=move.hang_up)
                    left_message = move.seconds >= world.stack.config.voicemail_min_seconds
                    hung_up = move.hang_up
                else:
                    call.stay_silent()
            elif call.state == "dial":
                call.dial_result(move.dial_status)
            else:
                break
    except CallError as exc:
        raise AssertionError(f"the call could not go on: {exc}; heard: {call.transcript[-300:]!r}") from None
    for document in call.documents:
        root = parse_twiml(document)
        assert_valid_voice_twiml(world.app, BASE + "/voice/incoming", root)
    if call.state == "ended" and not hung_up:
        assert parse_twiml(call.documents[-1])[-1].tag == "Hangup", f"the call ran off the end: {call.transcript!r}"
    if len(call.pending) == 2:
        call.deliver_callbacks(order=order, repeat=repeat)
    else:
        call.deliver_callbacks(repeat=repeat)
    call.hang_up()
    tickets = world.tickets_of_call(call.call_sid)
    assert len(tickets) <= 1
    if left_message:
        [ticket] = tickets
        assert ticket["kind"] in ("voicemail", "emergency_voicemail") and ticket["recording_sid"], ticket


class DatabaseAway:
    """A second stack whose SQLite file can vanish and come back (its folder becomes a plain
    file, as in test_fallback), to see what happens to callbacks while the database is away."""

    def __init__(self, world: World, folder):
        self.world, self.folder = world, folder
        self.blocked, self.hidden = folder / "blocked", folder / "hidden"

    def gone(self):
        self.blocked.rename(self.hidden)
        self.blocked.write_text("not a folder")
        self.world.stack.runtime.store.dispose()

    def back(self):
        self.blocked.unlink()
        self.hidden.rename(self.blocked)
        self.world.stack.runtime.store.dispose()

    def spooled(self) -> list:
        return sorted(spool.spool_dir(self.world.stack.runtime.settings.data_dir).glob("*"))


@pytest.fixture(scope="module")
def away(tmp_path_factory, redis_server, world):
    folder = tmp_path_factory.mktemp("away")
    (folder / "blocked").mkdir()
    stack = make_stack(folder, redis_server.url, f"sqlite:///{folder / 'blocked' / 'tickets.sqlite3'}",
                       public_base_url=BASE)
    try:
        yield DatabaseAway(World(stack, world.seeded, world.errors, {}), folder)
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


SPOOL_CALLBACKS = st.tuples(st.sampled_from(["/voice/recorded", "/voice/recording-status", "/voice/transcription",
                                             "/voice/no-message"]),
                            one_of_values(*BOXES, "unknown"), VOICE_PARAMS.map(lambda p: {
                                k: v for k, v in p.items() if k != "CallSid"}))


@settings(PROPERTY, max_examples=15)
@given(callbacks=st.lists(SPOOL_CALLBACKS, min_size=1, max_size=4),
       call_sid=st.one_of(st.builds(new_sid, st.just("CA")), one_of_values("../../escaped", "a/b", "CA" + "9" * 80)))
# was: the CallSid made the spool file's name, so 'a/b' raised FileNotFoundError and the message was lost
@example(callbacks=[("/voice/recorded", "support", {"RecordingDuration": "20"})], call_sid="a/b")
def test_with_the_database_away_every_recording_callback_is_kept_and_becomes_one_ticket(away, callbacks, call_sid):
    """While the database is away, every recording callback (any values, any CallSid Twilio
    could sign) still answers valid TwiML and is written to the spool; when the database is
    back, the replay turns them into exactly one ticket for the call, and the spool is empty."""
    world = away.world
    sent = 0
    away.gone()
    try:
        for path, box, params in callbacks:
            params = {**params, "CallSid": call_sid}
            if _expected_status(params, world) == 413:
                continue
            response, url, posted, crashes = world.post(path, {"box": box}, params)
            check_voice_answer(world, ENDPOINT[path], url, posted, response, crashes)
            sent += 1
        assert len(away.spooled()) == sent, "a callback was not kept while the database was away"
    finally:
        away.back()
    assert spool.replay(world.stack.runtime) == sent
    assert away.spooled() == []
    assert len(world.tickets_of_call((call_sid or "unknown")[:64])) == (1 if sent else 0)
