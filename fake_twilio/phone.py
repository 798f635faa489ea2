"""A phone call as Twilio places it: signed webhooks, TwiML read verb by verb, keys pressed.

Used by the test suite, the benchmark and ``flask --app wsgi simulate``. It imitates
what Twilio's documentation describes: ``<Gather>`` without input falls through to
the next verb, ``numDigits`` cuts a longer entry short, an empty ``<Record>`` makes no
action request, recording and transcription callbacks come later and in any order.
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class Webhooks:
    """Sends signed form posts the way Twilio does, to a Flask test client or over real HTTP."""

    def __init__(self, base_url: str, auth_token: str, client=None, timeout: float = 15):
        self.base_url = base_url.rstrip("/") + "/"
        self.validator = RequestValidator(auth_token)
        self.client = client
        self.timeout = timeout
        self._session = None

    def absolute(self, url: str, relative_to: str | None = None) -> str:
        return urljoin(relative_to or self.base_url, url)

    def post(self, url: str, params: dict, relative_to: str | None = None, signed: bool = True) -> tuple[int, str]:
        full = self.absolute(url, relative_to)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(full, params)} if signed else {}
        headers["I-Twilio-Idempotency-Token"] = uuid.uuid4().hex
        if self.client is not None:
            parts = urlsplit(full)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            # buffered: the response is read and closed at once, as a WSGI server does after sending it
            # (the app's work after the response runs then; see ivr.after_response).
            response = self.client.post(path, data=params, headers=headers, base_url=f"{parts.scheme}://{parts.netloc}",
                                        buffered=True)
            return response.status_code, response.get_data(as_text=True)
        import requests

        if self._session is None:
            self._session = requests.Session()
        response = self._session.post(full, data=params, headers=headers, timeout=self.timeout)
        return response.status_code, response.text


class CallError(AssertionError):
    """The call did something a real Twilio call could not go on from (an error page, a 403)."""


@dataclass
class PhoneCall:
    """One call. Drive it with ``press``, ``wait``, ``leave_message``, ``dial_result``, ``hang_up``."""

    hooks: Webhooks
    from_: str
    to: str
    voice_url: str = "/voice/incoming"
    status_url: str | None = "/voice/status"
    direction: str = "inbound"
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    extra: dict = field(default_factory=dict)
    heard: list[str] = field(default_factory=list)
    voices: list[str] = field(default_factory=list)  # the language of each line heard (a <Say>'s, "" for a <Play>)
    pending: list[tuple[str, dict]] = field(default_factory=list)  # callbacks Twilio sends later
    state: str = "new"  # gather | record | dial | ended
    documents: list[str] = field(default_factory=list)
    _verbs: list = field(default_factory=list)
    _url: str = ""
    _waiting: ET.Element | None = None
    _mark: int = 0

    # -- what the caller hears -------------------------------------------------
    @property
    def said(self) -> str:
        """Everything heard since the last key press or message, as one string."""
        return " ".join(self.heard[self._mark:])

    @property
    def transcript(self) -> str:
        return " ".join(self.heard)

    # -- driving ----------------------------------------------------------------
    def start(self) -> PhoneCall:
        self._request(self.voice_url, {}, relative_to=None)
        return self

    def press(self, digits: str) -> PhoneCall:
        gather = self._expect("gather")
        wanted = gather.get("numDigits")
        finish = gather.get("finishOnKey", "#")
        entered, finished_on = "", ""
        for key in digits:
            if finish and key in finish:
                finished_on = key
                break
            entered += key
            if wanted and len(entered) >= int(wanted):
                break
        if not entered and gather.get("actionOnEmptyResult") != "true":
            return self.wait()
        self._mark = len(self.heard)
        action = gather.get("action") or self._url
        self._request(action, {"Digits": entered, "FinishedOnKey": finished_on}, relative_to=self._url)
        return self

    def wait(self) -> PhoneCall:
        """Let a ``<Gather>`` time out: Twilio goes on with the next verb, or, with
        ``actionOnEmptyResult``, requests the action with no digits."""
        gather = self._expect("gather")
        self._mark = len(self.heard)
        if gather.get("actionOnEmptyResult") == "true":
            self._request(gather.get("action") or self._url, {"Digits": "", "FinishedOnKey": ""},
                          relative_to=self._url)
            return self
        self._continue()
        return self

    def leave_message(self, seconds: int = 15, transcript: str | None = "My server is down, please call me.",
                      hang_up: bool = False) -> PhoneCall:
        record = self._expect("record")
        self._mark = len(self.heard)
        recording_sid = new_sid("RE")
        recording_url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"
        common = {"RecordingSid": recording_sid, "RecordingUrl": recording_url}
        if record.get("recordingStatusCallback"):
            self.pending.append((self.hooks.absolute(record.get("recordingStatusCallback"), self._url), {
                **common, "RecordingStatus": "completed", "RecordingDuration": str(seconds),
                "RecordingChannels": "1", "RecordingSource": "RecordVerb", "CallSid": self.call_sid,
                "AccountSid": ACCOUNT_SID}))
        if record.get("transcribe") == "true" and record.get("transcribeCallback") and transcript is not None:
            self.pending.append((self.hooks.absolute(record.get("transcribeCallback"), self._url), {
                **self._base(), **common, "TranscriptionSid": new_sid("TR"), "TranscriptionText": transcript,
                "TranscriptionStatus": "completed", "TranscriptionUrl": recording_url + "/Transcriptions"}))
        params = {**common, "RecordingDuration": str(seconds), "Digits": "hangup" if hang_up else "#"}
        action = record.get("action") or self._url
        if hang_up:
            self._post(action, params)  # requested, but its answer is ignored
            self._end()
        else:
            self._request(action, params, relative_to=self._url)
        return self

    def stay_silent(self) -> PhoneCall:
        """Say nothing at the tone: the recording is trimmed to nothing, no action request is made."""
        record = self._expect("record")
        if record.get("recordingStatusCallback"):
            self.pending.append((self.hooks.absolute(record.get("recordingStatusCallback"), self._url), {
                "RecordingSid": new_sid("RE"), "RecordingStatus": "absent", "RecordingDuration": "0",
                "CallSid": self.call_sid, "AccountSid": ACCOUNT_SID}))
        self._mark = len(self.heard)
        self._continue()
        return self

    def fall_back(self, url: str = "/voice/fallback", error_code: str = "11200") -> PhoneCall:
        """Twilio gave up on the last request (an error, or no answer within 15 s) and requests the
        number's Voice Fallback URL for the same call, with ``ErrorCode`` and ``ErrorUrl``."""
        failed = self._url
        self._mark = len(self.heard)
        self._request(url, {"ErrorCode": error_code, "ErrorUrl": failed}, relative_to=None)
        return self

    def desk_picks_up(self, press: str | None | Callable[[str], str | None] = "1", index: int = 0) -> str:
        """A dialled number answers (a desk phone, or the on-call technician's mobile). With a
        ``<Number url>`` (call screening), Twilio runs that TwiML on the answering leg, a child call
        whose requests name its parent and show the ``<Dial callerId>`` (else the caller's number):
        the person (or the phone's own voicemail, ``press=None``) hears it and keys ``press`` at its
        ``<Gather>`` (``press`` may be a function of what they heard, returning the keys), then hears
        what the action answers before the calls are bridged.
        Returns all the answering leg heard; ``dial_result`` then ends the ``<Dial>``."""
        dial = self._expect("dial")
        number = [n for n in dial if n.tag == "Number"][index]
        if not number.get("url"):
            return ""
        leg = {**self._base(), "CallSid": new_sid("CA"), "ParentCallSid": self.call_sid,
               "From": dial.get("callerId") or self.from_, "To": (number.text or "").strip(),
               "Direction": "outbound-dial"}
        status, body = self.hooks.post(number.get("url"), leg, relative_to=self._url)
        if status != 200:
            raise CallError(f"the screening TwiML answered HTTP {status}: {body[:300]}")
        root = ET.fromstring(body)
        heard = [(say.text or "").strip() for say in root.iter("Say")]
        gather = root.find("Gather")
        if callable(press):
            press = press(" ".join(heard))
        if press is not None and gather is not None and gather.get("action"):
            screening_url = self.hooks.absolute(number.get("url"), self._url)
            status, body = self.hooks.post(gather.get("action"), {**leg, "Digits": press}, relative_to=screening_url)
            if status != 200:
                raise CallError(f"the screening's action answered HTTP {status}: {body[:300]}")
            heard += [(say.text or "").strip() for say in ET.fromstring(body).iter("Say")]
        return " ".join(heard)

    def dial_result(self, status: str = "no-answer", duration: int = 0) -> PhoneCall:
        dial = self._expect("dial")
        self._mark = len(self.heard)
        params = {"DialCallStatus": status, "DialCallSid": new_sid("CA"), "DialCallDuration": str(duration)}
        if dial.get("action"):
            self._request(dial.get("action"), params, relative_to=self._url)
        else:
            self._continue()
        return self

    def unanswered(self, status: str = "no-answer") -> PhoneCall:
        """A call placed to this phone (an outbound one) was never picked up: Twilio requests no
        TwiML, and its status callback says how it ended (``no-answer``, ``busy``, ``failed``)."""
        self.state, self._waiting, self._verbs = "ended", None, []
        if self.status_url:
            self.hooks.post(self.status_url, {**self._base(), "CallStatus": status, "CallDuration": "0"},
                            relative_to=None)
        return self

    def hang_up(self) -> PhoneCall:
        if self.state != "ended":
            self._end()
        return self

    def deliver_callbacks(self, order: list[int] | None = None, repeat: bool = False) -> list[int]:
        """Send the recording and transcription callbacks; ``order`` picks which first."""
        chosen = [self.pending[i] for i in (order if order is not None else range(len(self.pending)))]
        statuses = []
        for url, params in chosen + (chosen if repeat else []):
            statuses.append(self._post(url, params)[0])
        self.pending = [] if order is None else [p for i, p in enumerate(self.pending) if i not in order]
        return statuses

    # -- TwiML interpretation -------------------------------------------------
    def _base(self) -> dict:
        return {"CallSid": self.call_sid, "AccountSid": ACCOUNT_SID, "From": self.from_, "To": self.to,
                "Caller": self.from_, "Called": self.to, "CallStatus": "in-progress",
                "Direction": self.direction, "ApiVersion": "2010-04-01", "FromCountry": "", "FromState": "",
                "FromCity": "", "FromZip": "", **self.extra}

    def _post(self, url: str, params: dict) -> tuple[int, str]:
        return self.hooks.post(url, {**self._base(), **params}, relative_to=self._url or None)

    def _request(self, url: str, params: dict, relative_to: str | None) -> None:
        full = self.hooks.absolute(url, relative_to)
        status, body = self.hooks.post(full, {**self._base(), **params})
        if status != 200:
            raise CallError(f"{full} answered HTTP {status}: {body[:300]}")
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise CallError(f"{full} answered something that is not TwiML: {body[:300]}") from exc
        if root.tag != "Response":
            raise CallError(f"{full} answered <{root.tag}>, not <Response>")
        self.documents.append(body)
        self._url = full
        self._verbs = list(root)
        self._continue()

    def _continue(self) -> None:
        self._waiting = None
        while self._verbs:
            verb = self._verbs.pop(0)
            tag = verb.tag
            if tag == "Say":
                self._hear(verb)
            elif tag == "Play":
                self.heard.append(f"[plays {verb.text}]")
                self.voices.append("")
            elif tag in ("Pause", "Message"):
                continue
            elif tag == "Gather":
                for inner in verb:
                    if inner.tag == "Say":
                        self._hear(inner)
                self._wait_for("gather", verb)
                return
            elif tag in ("Record", "Dial"):
                self._wait_for(tag.lower(), verb)
                return
            elif tag == "Redirect":
                self._request(verb.text.strip(), {}, relative_to=self._url)
                return
            elif tag in ("Hangup", "Reject"):
                self._end()
                return
            else:
                raise CallError(f"unsupported TwiML verb <{tag}>")
        self._end()  # the end of a document hangs up

    def _hear(self, say: ET.Element) -> None:
        self.heard.append((say.text or "").strip())
        self.voices.append(say.get("language") or "")

    def _wait_for(self, state: str, verb: ET.Element) -> None:
        self.state, self._waiting = state, verb

    def _expect(self, state: str) -> ET.Element:
        if self.state != state:
            raise CallError(f"the call is at {self.state!r}, not at a {state!r}; last heard: {self.said!r}")
        return self._waiting

    def _end(self) -> None:
        self.state, self._waiting, self._verbs = "ended", None, []
        if self.status_url:
            self.hooks.post(self.status_url, {**self._base(), "CallStatus": "completed", "CallDuration": "30"},
                            relative_to=None)

    def dial_numbers(self) -> list[str]:
        dial = self._expect("dial")
        return [(n.text or "").strip() for n in dial if n.tag == "Number"] or [(dial.text or "").strip()]
