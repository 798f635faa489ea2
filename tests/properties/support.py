"""Property-based tests over what Twilio can put in a webhook: strategies, the seeded stack's
helpers, and what an answer must be (the fixtures are in ``conftest.py``).

Twilio's parameters come from a caller's keypad, a carrier's caller ID, a speech
recogniser and Twilio's own status machine, and new ones appear without notice. Whatever
arrives in a correctly signed request, the app must answer as Twilio needs: never a 5xx
(Twilio would play "an application error has occurred" to a client in trouble), always
well-formed TwiML, and on an inbound call never a dead end. A wrongly signed request must
always be refused, and must change nothing.

Every request is signed with ``RequestValidator`` exactly as Twilio signs it, so the
app's real logic runs, not only its 403 path. One stack for the whole package (real
Redis server, real SQLite file, the Twilio stand-in) is seeded once with a directory, an
emergency ticket with its SMS and voice pages, a CALL bridge and two dual callbacks, so
that known page ids, callback tokens and CallSids can be mixed into the generated values.
"""

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import HTTPException

from dispatch.calls import spool
from dispatch.calls.intake import BOXES
from dispatch.calls.models import JoinedCall
from dispatch.notification.models import Page
from dispatch.tickets.models import Ticket, TimelineEvent
from fake_twilio.phone import ACCOUNT_SID, PhoneCall, new_sid
from ivr import signature
from tests.support import AUTH_TOKEN, CLIENT_PHONE, NY, SUPPORT_NUMBER
from tests.verification_helpers import ANN, ANN_PIN, BEN, GIL, STRANGER

BASE = "http://localhost"


STAFF_MOBILES = ("+12705550111", "+12705550112", "+12705550113", "+12705550114")


DESK_NUMBERS = ("+12705550101", "+12705550102")


PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                            HealthCheck.data_too_large])


@dataclass(frozen=True)
class Seeded:
    """A placeholder for a value the seeded stack made (a page id, a callback token, a CallSid),
    so strategies defined at import time can still hit the app's real records."""

    name: str


def resolve(values: dict, seeded: dict) -> dict:
    return {k: seeded[v.name] if isinstance(v, Seeded) else v for k, v in values.items()}


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


def answering_verdicts(*valid) -> st.SearchStrategy[str]:
    """Twilio's answering-machine verdicts, and junk, short enough that a webhook carrying it stays
    under the 32 KB Twilio never comes near (a longer one is refused before it is read: 413)."""
    return statuses(*valid).filter(lambda value: len(value.encode()) < 2000)


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
    "UNSUBSCRIBE", "REOPEN", "REOPEN 1", "reopen cs-000001", "4",
    "Ack!", "ACK\x001", "ACK 1 thanks", "ACK ١", "🚨 ACK 1", "x" * 2100, "ACK " + "9" * 5000)


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
    "attempt": NUMBERS, "silences": NUMBERS, "wait": NUMBERS, "secret": NUMBERS, "offers": NUMBERS, "ticket": NUMBERS,
    "n": one_of_values("0" * 22),
    "lang": one_of_values("es", "en", "fr", "ES", "es\x00"), "staff": one_of_values("alice", "dave", "zed"),
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
    Endpoint("/voice/menu", CALLER, ("attempt", "lang")),
    Endpoint("/voice/emergency-check", CALLER, ("lang",)),
    Endpoint("/voice/desk", CALLER, ("lang",)),
    Endpoint("/voice/fallback", CALLER),
    Endpoint("/voice/voicemail", CALLER, ("box", "lang")),
    Endpoint("/voice/recorded", CALLER, ("box", "lang"), may_end=True),
    Endpoint("/voice/no-message", CALLER, ("box", "lang"), may_end=True),
    # The desk took the call and it is over: nothing more to say to the caller.
    Endpoint("/voice/desk-result", CALLER, ("box", "lang"), may_end=True,
             silent_end=lambda p: p.get("DialCallStatus") in ("completed", "answered")),
    Endpoint("/voice/oncall-result", CALLER, ("lang",), may_end=True),
    Endpoint("/voice/ticket-status", CALLER, ("lang",)),
    Endpoint("/voice/ticket-reopen", CALLER, ("ticket", "lang")),
    Endpoint("/verification/start", CALLER, ("lang",)),
    Endpoint("/verification/number", CALLER, ("attempt", "lang")),
    Endpoint("/verification/pin", CALLER, ("silences", "lang"), may_end=True),
    Endpoint("/voice/desk-screen", CALLEE, ("box", "lang")),
    # Empty bridges the desk phone to the caller; anything but 1 drops the desk leg only.
    Endpoint("/voice/desk-accept", CALLEE, silent_end=lambda p: True, empty_ok=True),
    Endpoint("/voice/oncall-screen", CALLEE, ("staff", "lang")),
    # As the desk's: what is left of the document bridges the technician to the caller.
    Endpoint("/voice/oncall-accept", CALLEE, ("staff", "lang"), silent_end=lambda p: True, empty_ok=True),
    Endpoint("/voice/page", CALLEE, ("page", "attempt"), silent_end=_machine),
    Endpoint("/voice/page/key", CALLEE, ("page",)),
    Endpoint("/voice/page/connect-result", CALLEE, ("page",)),
    Endpoint("/voice/bridge", CALLEE, ("page",), silent_end=_machine),
    Endpoint("/voice/bridge/result", CALLEE, ("page",)),
    Endpoint("/verification/callback", CALLEE, ("token", "wait")),
    Endpoint("/verification/callback/confirm", CALLEE, ("token",)),
    Endpoint("/verification/callback/pin", CALLEE, ("token",)),
    Endpoint("/verification/callback/ready", CALLEE, ("token", "offers")),
    Endpoint("/verification/callback/secret", CALLEE, ("token", "secret", "silences", "n")),
    Endpoint("/verification/callback/connect", CALLEE, ("token", "n")),
    # The hand-over's legs: the screening prompt (a leg of no verified callback hears nothing) and
    # its key (empty bridges, anything else drops that leg only); the <Dial>'s end.
    Endpoint("/verification/callback/screen", CALLEE, ("token",), silent_end=lambda p: True),
    Endpoint("/verification/callback/accept", CALLEE, ("token",), silent_end=lambda p: True, empty_ok=True),
    Endpoint("/verification/callback/handed", CALLEE, ("token",), silent_end=lambda p: True),
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

    def callers(self) -> set[str]:
        """The callers of the tickets in the store (verification calls aside): who may get answers to texts."""
        with self.stack.runtime.store.transaction() as session:
            return set(session.scalars(select(Ticket.caller).where(Ticket.kind != "verification")))

    def tickets_of_call(self, call_sid: str) -> list[dict]:
        """The call's voicemail or missed-call tickets (a verification ticket has its own key), or the
        open P1 its caller's emergency call joined (one number opens only so many an hour)."""
        with self.stack.runtime.store.transaction() as session:
            found = session.scalars(select(Ticket).where(Ticket.call_sid == call_sid,
                                                         Ticket.kind != "verification")).all()
            joined = session.get(JoinedCall, call_sid)
            if joined is not None:
                found = [*found, session.get(Ticket, joined.ticket_id)]
            return [_summary(t) for t in found]


def _summary(ticket: Ticket) -> dict:
    return {"id": ticket.id, "kind": ticket.kind, "priority": ticket.priority, "caller": ticket.caller,
            "recording_sid": ticket.recording_sid, "transcript": ticket.transcript, "box": ticket.box,
            "events": [e.event for e in ticket.timeline]}


def _query_value(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


VERBS = {"Say", "Play", "Pause", "Gather", "Record", "Dial", "Redirect", "Hangup", "Reject", "Enqueue", "Leave",
         "Connect", "Start", "Stop", "Refer", "Pay", "Prompt"}


NESTED = {"Gather": {"Say", "Play", "Pause"}, "Dial": {"Number", "Client", "Conference", "Queue", "Sip", "Sim"}}


SSML = {"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub", "w", "amazon:effect",
        "amazon:domain"}


HEARD = {"Say", "Play"}


E164 = re.compile(r"\+[1-9][0-9]{6,14}")


SPOKEN_TICKET = re.compile(r"(?:ticket number is|ticket) ((?:[0-9] )*[0-9])(?![0-9])")


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
    """413 when the form is over the webhooks' limits (Twilio's are a few KB and a few dozen fields),
    400 when a SID in it is not of Twilio's shape, else 200."""
    resolved = resolve(params, world.seeded)
    body = urlencode(resolved).encode()
    if len(body) > signature.MAX_BODY_BYTES or body.count(b"&") >= signature.MAX_FIELDS:
        return 413
    return 400 if signature.malformed_sid(resolved) is not None else 200


def _assert_walk_documents(world: World, phone: PhoneCall, silent_end: bool) -> None:
    """Every document the call fetched is valid TwiML, and an ended call ended on a <Hangup>
    that comes after something said (or silently, where ``silent_end``)."""
    for document in phone.documents:
        assert_valid_voice_twiml(world.app, BASE + "/voice/incoming", parse_twiml(document))
    if phone.state == "ended" and phone.documents:
        last = parse_twiml(phone.documents[-1])
        assert len(last) and last[-1].tag == "Hangup", f"the call ran off the end: {phone.transcript!r}"
        assert silent_end or any(node.tag in HEARD for node in last.iter()), "a silent hang-up"


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
