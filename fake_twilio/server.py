"""A Twilio-compatible REST server on loopback, for tests, the benchmark and staging.

Point the app at it with ``TWILIO_API_BASE_URL``; the real ``twilio`` client then
creates messages and calls here, and recordings' audio is fetched here (``…/Recordings/RE….mp3``,
Basic auth, byte ranges). It checks Basic auth and the ``To`` number like
Twilio, counts SMS segments (GSM-7 or UCS-2), answers with Twilio-shaped JSON, refuses
texts to a number that texted STOP until it texts START (21610, as Advanced Opt-Out
does), and sends signed status callbacks when told to. It keeps the account's phone numbers
and their webhooks (``IncomingPhoneNumbers``; ``add_number``). Faults can be queued: HTTP 500/429,
a permanent error code, a hang, or a dropped connection, before the message or call is
created or after (Twilio created it, but the answer never reached the client).

A recording the test names (``add_recording``) is served like Twilio's media: at its URL plus
``.mp3``, behind the same Basic auth, with byte ranges; the audio is silence of its length.

``python -m fake_twilio.server`` runs it as a process of its own (so a load generator's
GIL does not slow it), prints ``port <n>`` once it listens, and shows what it was sent
at ``GET /_fake/state`` (JSON); ``POST /_fake/faults`` queues faults (a JSON list).
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import re
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import phonenumbers

from fake_twilio.phone import ACCOUNT_SID, PhoneCall, Webhooks, new_sid

GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = set("^{}\\[~]|€\f")
RECORDING_MEDIA = re.compile(r"Recordings/(RE[0-9a-f]{32})\.(mp3|wav)")
MEDIA_TYPES = {"mp3": "audio/mpeg", "wav": "audio/x-wav"}
# One MPEG-1 Layer III frame of silence: 32 kbit/s, 44.1 kHz, mono, no CRC (4 header bytes), all-zero
# side information (nothing to decode), 104 bytes in all; each one lasts 1152 samples.
SILENT_MP3_FRAME = bytes([0xFF, 0xFB, 0x10, 0xC4]) + bytes(100)
RECORDING_SECONDS = 3.0  # the audio of a recording the stand-in was not told the length of


def silent_mp3(seconds: float) -> bytes:
    """An MP3 of ``seconds`` of silence, which browsers and players decode like any other."""
    return SILENT_MP3_FRAME * max(1, round(seconds * 44100 / 1152))


def recording_audio(recording_sid: str, seconds: float = RECORDING_SECONDS) -> bytes:
    """The stand-in's audio of a recording: an ID3 tag naming it (so that no two recordings' bytes
    are the same), then ``seconds`` of silence that players decode."""
    text = recording_sid.encode()
    frame = b"TIT2" + (len(text) + 1).to_bytes(4, "big") + b"\x00\x00\x00" + text
    size = len(frame)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + frame + silent_mp3(seconds)


# Twilio's default opt-out and opt-in keywords (Advanced Opt-Out): after one of the first, Twilio
# refuses every message to that sender (error 21610) until they text one of the second.
OPT_OUT = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
OPT_IN = {"START", "YES", "UNSTOP"}


def sms_segments(body: str) -> tuple[int, str]:
    """How many segments Twilio bills ``body`` as, and the encoding it uses."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in body):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in body)
        return (1 if units <= 160 else math.ceil(units / 153)), "GSM-7"
    units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body)
    return (1 if units <= 70 else math.ceil(units / 67)), "UCS-2"


class FakeTwilio:
    """Start with ``start()``; ``messages`` and ``calls`` list what the app asked Twilio to do."""

    def __init__(self, auth_token: str, account_sid: str = ACCOUNT_SID, webhooks: Webhooks | None = None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.webhooks = webhooks
        self.messages: list[dict] = []
        self.calls: list[dict] = []
        self.numbers: dict[str, dict] = {}  # the account's IncomingPhoneNumbers, by their PN… sid
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, faults included
        self.request_times: list[float] = []  # time.time() each create request arrived
        self.deleted_recordings: set[str] = set()  # answered 404, as Twilio does once a recording is deleted
        self.opted_out: set[str] = set()  # numbers that texted STOP (and not START since)
        self.recordings: dict[str, float] = {}  # RecordingSid -> seconds of audio, when told (add_recording)
        self._faults: list = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm the body then waits
            # for the client's delayed ACK, about 40 ms on a kept-alive connection (a client
            # reusing its connection, as the twilio client does, waited that long per request).
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self, "POST")

            def do_GET(self):
                fake._handle(self, "GET")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-twilio").start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- faults -------------------------------------------------------------------
    def fail_next(self, *faults) -> None:
        """Queue faults for the next create requests, one each: 500, 429, ("error", 400, 21211),
        ("hang", seconds), or "drop" (close the connection without an answer); "accept_then_drop"
        or ("accept_then_hang", seconds) create the message or call first, then do the same."""
        with self._lock:
            self._faults.extend(faults)

    # -- the account's phone numbers ------------------------------------------------------------
    def add_number(self, phone_number: str, **fields) -> str:
        """Give the account a number (as buying one in Twilio's console does), its webhooks unset
        unless ``fields`` (``voice_url=…``, Twilio's JSON names) say otherwise; returns its sid."""
        sid = new_sid("PN")
        number = dict.fromkeys(NUMBER_URLS)
        number.update(dict.fromkeys(NUMBER_METHODS, "POST"))
        number.update(sid=sid, phone_number=phone_number, friendly_name=phone_number, voice_application_sid=None,
                      sms_application_sid=None, trunk_sid=None)
        number.update(fields)
        with self._lock:
            self.numbers[sid] = number
        return sid

    def add_recording(self, sid: str, seconds: float) -> None:
        """Give the recording ``sid`` audio of ``seconds`` (unless told, a recording has a few seconds)."""
        with self._lock:
            self.recordings[sid] = seconds

    # -- what tests look at -------------------------------------------------------------------
    def sms_to(self, number: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == number]

    def calls_to(self, number: str) -> list[dict]:
        return [c for c in self.calls if c["to"] == number]

    # -- callbacks Twilio would send ---------------------------------------------------------
    def deliver_sms_status(self, sid: str, status: str, error_code: str | None = None) -> int:
        message = self._find(self.messages, sid)
        message["status"] = status
        params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.account_sid, "From": message["from"],
                  "To": message["to"], "MessageStatus": status, "SmsStatus": status, "ApiVersion": "2010-04-01"}
        if error_code:
            params["ErrorCode"] = error_code
        if not message.get("status_callback"):
            return 0
        return self.webhooks.post(message["status_callback"], params)[0]

    def send_call_status(self, sid: str, status: str, answered_by: str | None = None, duration: int = 0) -> int:
        call = self._find(self.calls, sid)
        call["status"] = status
        params = {"CallSid": sid, "AccountSid": self.account_sid, "From": call["from"], "To": call["to"],
                  "CallStatus": status, "Direction": "outbound-api", "ApiVersion": "2010-04-01",
                  "CallDuration": str(duration)}
        if answered_by:
            params["AnsweredBy"] = answered_by
        if not call.get("status_callback"):
            return 0
        return self.webhooks.post(call["status_callback"], params)[0]

    def answer_call(self, sid: str, answered_by: str = "human") -> PhoneCall:
        """The callee picks up: Twilio fetches the call's TwiML, and the returned call can press keys."""
        call = self._find(self.calls, sid)
        extra = {"AnsweredBy": answered_by} if call.get("machine_detection") else {}
        phone = PhoneCall(self.webhooks, from_=call["from"], to=call["to"], voice_url=call["url"],
                          status_url=call.get("status_callback"), direction="outbound-api", call_sid=sid,
                          extra=extra)
        return phone.start()

    def sms_from(self, from_: str, body: str, to: str) -> tuple[int, str]:
        """A text arriving at the app's Messaging URL (``/sms/incoming``)."""
        keyword = body.strip().strip("'\".!?").upper()
        if keyword in OPT_OUT:
            self.opted_out.add(from_)
        elif keyword in OPT_IN:
            self.opted_out.discard(from_)
        sid = new_sid("SM")
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid,
                  "From": from_, "To": to, "Body": body, "NumMedia": "0",
                  "NumSegments": str(sms_segments(body)[0]), "ApiVersion": "2010-04-01"}
        return self.webhooks.post("/sms/incoming", params)

    @staticmethod
    def _find(items: list[dict], sid: str) -> dict:
        for item in items:
            if item["sid"] == sid:
                return item
        raise KeyError(sid)

    # -- HTTP ---------------------------------------------------------------------------------
    def _handle(self, http: BaseHTTPRequestHandler, method: str) -> None:
        arrived = time.time()
        parts = urlsplit(http.path)
        if parts.path.startswith("/_fake/"):
            return self._control(http, method, parts.path)
        with self._lock:
            self.requests.append((method, parts.path))
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length).decode() if length else ""
        form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}  # "" clears a field
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/"
        if not self._authorised(http.headers.get("Authorization", "")):
            return self._reply(http, 401, {"code": 20003, "message": "Authenticate", "status": 401})
        media = RECORDING_MEDIA.fullmatch(parts.path.removeprefix(prefix)) if parts.path.startswith(prefix) else None
        if method == "GET" and media:
            return self._recording(http, media.group(1), media.group(2))
        if parts.path == f"/2010-04-01/Accounts/{self.account_sid}.json" and method == "GET":
            return self._reply(http, 200, {"sid": self.account_sid, "friendly_name": "Stand-in account",
                                           "status": "active", "type": "Full",
                                           "uri": f"/2010-04-01/Accounts/{self.account_sid}.json"})
        if parts.path.startswith(prefix + "IncomingPhoneNumbers"):
            return self._phone_numbers(http, method, parts.path[len(prefix):], parts.query, form)
        if method == "GET" and parts.path == prefix + "Messages.json":
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            found = [m for m in self.messages
                     if m["to"] == query.get("To", m["to"]) and m["from"] == query.get("From", m["from"])]
            return self._reply(http, 200, {"messages": [self._message_json(m) for m in reversed(found)],
                                           "page": 0, "page_size": 50, "next_page_uri": None})
        if method != "POST" or parts.path not in (prefix + "Messages.json", prefix + "Calls.json"):
            return self._reply(http, 404, {"code": 20404, "message": "The requested resource was not found",
                                           "status": 404})
        self.request_times.append(arrived)
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        after = _fault_after_create(fault)
        if fault is not None and after is None and self._apply_fault(http, fault):
            return
        to = form.get("To", "")
        if not _valid_number(to):
            return self._reply(http, 400, {"code": 21211, "message": f"The 'To' number {to} is not a valid phone "
                                                                     "number.", "status": 400})
        if parts.path.endswith("Messages.json"):
            if to in self.opted_out:
                return self._reply(http, 400, {"code": 21610, "message": "Attempt to send to unsubscribed "
                                                                         "recipient", "status": 400})
            body = form.get("Body", "")
            if not body or len(body) > 1600:
                return self._reply(http, 400, {"code": 21617, "message": "The concatenated message body exceeds "
                                                                         "the 1600 character limit or is empty.",
                                               "status": 400})
            segments, encoding = sms_segments(body)
            message = {"sid": new_sid("SM"), "to": to, "from": form.get("From"), "body": body,
                       "status": "queued", "status_callback": form.get("StatusCallback"),
                       "num_segments": segments, "encoding": encoding, "at": time.time(),
                       "requested_at": arrived}
            with self._lock:
                self.messages.append(message)
            return self._created(http, self._message_json(message), after)
        call = {"sid": new_sid("CA"), "to": to, "from": form.get("From"), "url": form.get("Url"),
                "twiml": form.get("Twiml"), "status": "queued", "status_callback": form.get("StatusCallback"),
                "machine_detection": form.get("MachineDetection"), "timeout": form.get("Timeout"),
                "at": time.time(), "requested_at": arrived}
        with self._lock:
            self.calls.append(call)
        return self._created(http, {"sid": call["sid"], "account_sid": self.account_sid, "to": to,
                                    "from": call["from"], "status": "queued", "direction": "outbound-api",
                                    "date_created": _now_rfc2822(), "uri": f"{prefix}Calls/{call['sid']}.json"},
                             after)

    def _phone_numbers(self, http, method: str, path: str, query: str, form: dict) -> None:
        """``IncomingPhoneNumbers.json`` (GET, ``?PhoneNumber=`` filters) and
        ``IncomingPhoneNumbers/PN….json`` (GET; POST updates the fields sent, as Twilio does)."""
        if path == "IncomingPhoneNumbers.json" and method == "GET":
            wanted = {k: v[-1] for k, v in parse_qs(query).items()}.get("PhoneNumber")
            with self._lock:
                found = [self._number_json(n) for n in self.numbers.values()
                         if wanted is None or n["phone_number"] == wanted]
            uri = f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers.json"
            return self._reply(http, 200, {"incoming_phone_numbers": found, "page": 0, "page_size": 50, "start": 0,
                                           "end": max(0, len(found) - 1), "uri": uri, "first_page_uri": uri,
                                           "next_page_uri": None, "previous_page_uri": None})
        sid = path.removeprefix("IncomingPhoneNumbers/").removesuffix(".json")
        with self._lock:
            number = self.numbers.get(sid)
            if number is not None and method == "POST":
                for name, value in form.items():
                    field = UPDATABLE.get(name)
                    if field is None:
                        continue
                    if field in NUMBER_METHODS and value.upper() not in ("GET", "POST"):
                        return self._reply(http, 400, {"code": 21501, "message": f"{name} must be GET or POST",
                                                       "status": 400})
                    number[field] = value.upper() if field in NUMBER_METHODS else (value or None)
            answer = self._number_json(number) if number is not None else None
        if answer is None or method not in ("GET", "POST"):
            return self._reply(http, 404, {"code": 20404, "message": "The requested resource was not found",
                                           "status": 404})
        return self._reply(http, 200, answer)

    def _number_json(self, number: dict) -> dict:
        return {**number, "account_sid": self.account_sid, "api_version": "2010-04-01",
                "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
                "date_created": _now_rfc2822(), "date_updated": _now_rfc2822(),
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{number['sid']}.json"}

    def _created(self, http, payload: dict, lost_answer) -> None:
        """201 with ``payload``, unless the answer is to be lost (``lost_answer``: "drop" or ("hang", s))."""
        if lost_answer is None:
            self._reply(http, 201, payload)
        else:
            self._apply_fault(http, lost_answer)

    def _recording(self, http, sid: str, extension: str) -> None:
        """A recording's audio, whole or the one byte range asked for (``Range: bytes=a-b``)."""
        if sid in self.deleted_recordings:
            return self._reply(http, 404, {"code": 20404, "message": "The requested resource was not found",
                                           "status": 404})
        audio, status, headers = recording_audio(sid, self.recordings.get(sid, RECORDING_SECONDS)), 200, {}
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", http.headers.get("Range", ""))
        if wanted and (wanted.group(1) or wanted.group(2)):
            first, last = wanted.groups()
            start = int(first) if first else max(0, len(audio) - int(last))
            end = min(int(last), len(audio) - 1) if first and last else len(audio) - 1
            if start <= end:
                headers["Content-Range"] = f"bytes {start}-{end}/{len(audio)}"
                audio, status = audio[start:end + 1], 206
        http.send_response(status)
        http.send_header("Content-Type", MEDIA_TYPES[extension])
        http.send_header("Content-Length", str(len(audio)))
        http.send_header("Accept-Ranges", "bytes")
        for name, value in headers.items():
            http.send_header(name, value)
        http.end_headers()
        http.wfile.write(audio)

    def _control(self, http, method: str, path: str) -> None:
        """The stand-in's own endpoints, for a test or benchmark in another process (no auth: loopback)."""
        if method == "GET" and path == "/_fake/state":
            with self._lock:
                state = {"messages": list(self.messages), "calls": list(self.calls),
                         "requests": list(self.requests), "request_times": list(self.request_times),
                         "numbers": list(self.numbers.values())}
            return self._reply(http, 200, state)
        if method == "POST" and path == "/_fake/faults":
            length = int(http.headers.get("Content-Length") or 0)
            faults = json.loads(http.rfile.read(length) or b"[]")
            self.fail_next(*(tuple(f) if isinstance(f, list) else f for f in faults))
            return self._reply(http, 200, {"queued": len(faults)})
        return self._reply(http, 404, {"message": "unknown control endpoint"})

    def _apply_fault(self, http, fault) -> bool:
        if fault == 500:
            self._reply(http, 500, {"code": 20500, "message": "Internal Server Error", "status": 500})
        elif fault == 429:
            self._reply(http, 429, {"code": 20429, "message": "Too Many Requests", "status": 429})
        elif fault == "drop":
            http.close_connection = True
            http.connection.shutdown(2)
        elif isinstance(fault, tuple) and fault[0] == "hang":
            time.sleep(fault[1])
            http.close_connection = True
            http.connection.shutdown(2)
        elif isinstance(fault, tuple) and fault[0] == "error":
            _, status, code = fault
            self._reply(http, status, {"code": code, "message": f"error {code}", "status": status})
        else:
            return False
        return True

    def _authorised(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == self.account_sid and password == self.auth_token

    def _message_json(self, m: dict) -> dict:
        return {"sid": m["sid"], "account_sid": self.account_sid, "to": m["to"], "from": m["from"],
                "body": m["body"], "status": m["status"], "num_segments": str(m["num_segments"]),
                "direction": "outbound-api", "date_created": _now_rfc2822(), "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{m['sid']}.json"}

    @staticmethod
    def _reply(http, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json")
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)


NUMBER_URLS = ("voice_url", "voice_fallback_url", "status_callback", "sms_url", "sms_fallback_url")
NUMBER_METHODS = ("voice_method", "voice_fallback_method", "status_callback_method", "sms_method",
                  "sms_fallback_method")
# The form names of an IncomingPhoneNumber update, and the JSON fields they set.
UPDATABLE = {"VoiceUrl": "voice_url", "VoiceMethod": "voice_method", "VoiceFallbackUrl": "voice_fallback_url",
             "VoiceFallbackMethod": "voice_fallback_method", "StatusCallback": "status_callback",
             "StatusCallbackMethod": "status_callback_method", "SmsUrl": "sms_url", "SmsMethod": "sms_method",
             "SmsFallbackUrl": "sms_fallback_url", "SmsFallbackMethod": "sms_fallback_method",
             "VoiceApplicationSid": "voice_application_sid", "SmsApplicationSid": "sms_application_sid",
             "FriendlyName": "friendly_name"}


def _fault_after_create(fault):
    """The fault to apply in place of the answer, for the "accept_then_…" kinds; else None."""
    if fault == "accept_then_drop":
        return "drop"
    if isinstance(fault, tuple) and fault[0] == "accept_then_hang":
        return ("hang", fault[1])
    return None


def _valid_number(value: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        return False


def _now_rfc2822() -> str:
    return datetime.now(timezone.utc).strftime("%a, %d %b %Y %H:%M:%S +0000")


def main(argv: list[str] | None = None) -> int:
    """Serve until terminated; the first line printed is ``port <n>``."""
    parser = argparse.ArgumentParser(prog="python -m fake_twilio.server", description=main.__doc__)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--account-sid", default=ACCOUNT_SID)
    parser.add_argument("--number", action="append", default=[], help="a phone number the account owns")
    args = parser.parse_args(argv)
    fake = FakeTwilio(args.auth_token, account_sid=args.account_sid).start()
    for number in args.number:
        fake.add_number(number)
    print(f"port {fake._server.server_address[1]}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
