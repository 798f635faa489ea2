"""The hand-off to the MSP's own tools, end to end: a real SMTP server (aiosmtpd) and a real HTTP
receiver on loopback, the worker driven in bursts on the test's clock."""
from __future__ import annotations

import email
import hashlib
import hmac
import io
import json
import logging
import re
import threading
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.config import ConfigError, parse_config
from core.settings import Settings
from dispatch import directory, jobs
from dispatch.handoff import render, transport
from dispatch.handoff.models import HandoffDelivery
from dispatch.tickets import changes
from dispatch.tickets.models import Ticket
from fake_twilio.server import recording_audio
from tests.dispatch_support import BOB, DAVE, advance, emergency_voicemail, events, settle
from tests.support import CLIENT_PHONE, SUPPORT_NUMBER, config_with, free_port, make_stack, toml_dumps
from tests.verification_helpers import reach_pin_prompt
from wiring import build

PSA = "help@psa.example.com"
SENDER = "phones@smartpath.example"
SECRET = "s3cret-for-the-receiver"
ACME_CSV = f"client,name,phone,email\nAcme Corp,Jane Doe,{CLIENT_PHONE},jane@acme.example\n"


def verify(body: bytes, header: str, secret: str) -> bool:
    """The receiver's check, as docs/handoff.md gives it."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content,
                                                      policy=default_policy))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class MailServer:
    """A real SMTP server on a loopback port, started and stopped at will (the port stays the same)."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> MailServer:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


class Receiver:
    """A real HTTP server taking webhooks: it answers each path with the statuses queued for it, then 200."""

    def __init__(self):
        self.received: list[dict] = []
        self.answers: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                queued = receiver.answers.get(self.path) or []
                status = queued.pop(0) if queued else 200
                receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                          "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mail():
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def handoff_stack(tmp_path, redis_url, database_url, handoff: dict, env: dict | None = None):
    stack = make_stack(tmp_path, redis_url, database_url, config=config_with(handoff=handoff),
                       public_base_url="https://support.example.com", env={"WEBHOOK_SECRET": SECRET, **(env or {})})
    stack.at(2026, 11, 24, 3, 0)  # a Tuesday at 3 AM: extension 501 goes straight to the emergency voicemail
    with stack.runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO(ACME_CSV), "US")
    return stack


def hand_off(stack) -> None:
    """What the worker's housekeeping and RQ do: hand the outbox to RQ, then run what is due."""
    jobs.flush(stack.runtime)
    settle(stack)


def text_of(message, subtype: str) -> str:
    return message.get_body(preferencelist=(subtype,)).get_content()


def deliveries(stack, number: str = "1") -> list[dict]:
    response = stack.api(f"/api/tickets/{number}/handoff")
    assert response.status_code == 200, response.get_data(as_text=True)
    return [dict(d, change=e["change"], id=e["id"]) for e in response.get_json()["events"] for d in e["deliveries"]]


def support_voicemail(stack, transcript="Printer on floor two jams", **kwargs):
    """A caller at night presses 1 and leaves a message for the morning (a P3: nobody is paged)."""
    call = stack.call()
    call.press("1").wait()  # "… otherwise, stay on the line to leave a message"
    call.leave_message(seconds=20, transcript=transcript, **kwargs)
    call.deliver_callbacks()
    return call


@pytest.mark.postgres
def test_a_new_ticket_and_each_change_reach_the_psa_mailbox_as_one_thread(tmp_path, redis_url, database_url, mail):
    stack = handoff_stack(tmp_path, redis_url, database_url, {"email_to": [PSA], "email_from": SENDER},
                          env={"SMTP_URL": mail.start().url})
    try:
        emergency_voicemail(stack, transcript="The mail server is down for the whole office.")
        hand_off(stack)
        assert stack.fake.messages  # the page went out as ever
        status, _ = stack.fake.sms_from(BOB, "ACK 1", to=SUPPORT_NUMBER)
        assert status == 200
        with stack.runtime.store.transaction() as session:  # a change this release does not word: shown as it is
            changes.record(session, session.get(Ticket, 1), "priority", stack.clock.now(), by="bob", to="P2")
        stack.clock.advance(minutes=3)
        stack.fake.sms_from(BOB, "RES 1", to=SUPPORT_NUMBER)
        hand_off(stack)

        created, acked, priority, resolved = mail.inbox.messages
        assert mail.inbox.envelopes[0] == (SENDER, [PSA])
        assert created["Subject"] == "[CS-000001] P1 Emergency voicemail — Acme Corp (Jane Doe)"
        assert acked["Subject"] == ("[CS-000001] Acknowledged by Bob Brown by SMS: "
                                    "P1 Emergency voicemail — Acme Corp (Jane Doe)")
        assert priority["Subject"].startswith("[CS-000001] Priority: by Bob Brown, to P2: ")
        assert resolved["Subject"].startswith("[CS-000001] Resolved by Bob Brown by SMS: ")
        root = created["Message-ID"]
        assert root.endswith("@smartpath.example>") and created["In-Reply-To"] is None
        assert {m["Message-ID"] for m in mail.inbox.messages}.__len__() == 4
        assert all(m["In-Reply-To"] == root and m["References"] == root for m in (acked, priority, resolved))
        assert created["From"] == f"SmartPath Technologies <{SENDER}>" and created["To"] == PSA

        text, page = text_of(created, "plain"), text_of(created, "html")
        ticket = stack.ticket("1")
        [link] = re.findall(r"https://support\.example\.com/recordings/CS-000001\?expires=\d+&sig=[0-9a-f]+", text)
        played = stack.client.get(link.removeprefix("https://support.example.com"))
        with stack.runtime.store.reading() as session:
            recording_sid = session.get(Ticket, 1).recording_sid
        assert played.status_code == 200 and played.data == recording_audio(recording_sid)  # the stand-in's audio
        for expected in ("Caller:", CLIENT_PHONE, "Acme Corp", "Jane Doe", "Priority:", "P1", "Caller verified:",
                         "0:42", "The mail server is down for the whole office.", "Timeline:",
                         "Ticket created (emergency line)", "On-call paging started"):
            assert expected in text, expected
        assert link in text and f'href="{link.replace("&", "&amp;")}"' in page
        assert "<blockquote" in page and "The mail server is down for the whole office." in page
        assert "api.twilio.com" not in text + page  # Twilio's own URL needs a login: never given
        assert "Acknowledged by Bob Brown by SMS" in text_of(acked, "plain")

        assert [e["change"] for e in events(ticket, "handoff_delivered")] == [
            "created", "acknowledged", "priority", "resolved"]
        assert {d["state"] for d in deliveries(stack)} == {"delivered"}
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_with_the_mail_server_down_nothing_is_lost_and_nothing_is_sent_twice(tmp_path, redis_url, database_url,
                                                                            mail):
    stack = handoff_stack(tmp_path, redis_url, database_url, {"email_to": [PSA], "email_from": SENDER},
                          env={"SMTP_URL": mail.url})  # nothing listens there yet
    try:
        support_voicemail(stack)
        hand_off(stack)
        [waiting] = deliveries(stack)
        assert (waiting["state"], waiting["attempts"], waiting["attempt_log"][0]["outcome"]) == ("pending", 1, "failed")
        assert "ConnectionRefusedError" in waiting["last_error"]
        [noted] = events(stack.ticket("1"), "handoff_retrying")
        assert noted["to"] == PSA and noted["change"] == "created"

        stack.clock.advance(seconds=20)
        support_voicemail(stack, transcript="Scanner offline")  # its first try fails too: due again at 0:50
        hand_off(stack)

        mail.start()
        advance(stack, seconds=10)  # the first one's retry gets through, and the server's back: the other goes too
        assert [m["Subject"] for m in mail.inbox.messages] == [
            "[CS-000001] P3 Voicemail — Acme Corp (Jane Doe)", "[CS-000002] P3 Voicemail — Acme Corp (Jane Doe)"]
        advance(stack, hours=30)  # every timer there is, and a day of them
        first, second = mail.inbox.messages
        assert first["Message-ID"] == waiting["message_id"]
        assert "Printer on floor two jams" in text_of(first, "plain")
        assert "Scanner offline" in text_of(second, "plain")
        [done] = deliveries(stack)
        assert (done["state"], done["attempts"]) == ("delivered", 2)
        assert [a["outcome"] for a in done["attempt_log"]] == ["failed", "delivered"]
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


@pytest.mark.postgres
def test_webhooks_are_signed_and_a_receiver_down_for_a_while_gets_every_event_with_the_same_id(
        tmp_path, redis_url, database_url, receiver):
    hooks = [{"url": receiver.url("/hook"), "secret_env": "WEBHOOK_SECRET"},
             {"url": receiver.url("/slack"), "format": "slack"},
             {"url": receiver.url("/teams"), "format": "teams", "events": ["ticket.created"]}]
    stack = handoff_stack(tmp_path, redis_url, database_url, {"webhooks": hooks})
    receiver.answers["/hook"] = [503, 503]
    try:
        emergency_voicemail(stack, transcript="Nobody can log in.")
        hand_off(stack)
        stack.fake.sms_from(BOB, "ACK 1", to=SUPPORT_NUMBER)  # while the receiver is still down
        hand_off(stack)
        assert [r["status"] for r in receiver.at("/hook")] == [503]  # the change waits for the one before it
        advance(stack, seconds=30)
        advance(stack, minutes=1)

        sent = receiver.at("/hook")
        assert [r["status"] for r in sent] == [503, 503, 200, 200]
        for request in sent:
            assert request["headers"]["Content-Type"] == "application/json"
            assert verify(request["body"], request["headers"]["X-Signature-256"], SECRET)
            assert not verify(request["body"] + b" ", request["headers"]["X-Signature-256"], SECRET)
        bodies = [json.loads(r["body"]) for r in sent]
        assert [b["event"] for b in bodies] == ["ticket.created"] * 3 + ["ticket.updated"]
        assert len({b["id"] for b in bodies[:3]}) == 1 and bodies[3]["id"] != bodies[0]["id"]
        assert sent[0]["body"] == sent[2]["body"]  # retried as it was made
        created, updated = bodies[0], bodies[3]
        assert set(created) >= {"id", "event", "at", "ticket"}
        assert created["ticket"]["number"] == "CS-000001" and created["ticket"]["transcript"] == "Nobody can log in."
        assert created["ticket"]["recording_url"].startswith("https://support.example.com/recordings/CS-000001?")
        assert updated["change"] == {"name": "acknowledged", "by": "bob", "via": "sms", "owner": "bob"}
        assert updated["ticket"]["status"] == "acknowledged"

        [slack_new, slack_ack] = [json.loads(r["body"]) for r in receiver.at("/slack")]
        assert slack_new["text"] == "[CS-000001] P1 Emergency voicemail — Acme Corp (Jane Doe)"
        [button] = [b for b in slack_new["blocks"] if b["type"] == "actions"][0]["elements"]
        assert button["url"] == created["ticket"]["recording_url"]
        assert "> Nobody can log in." in json.dumps(slack_new["blocks"])
        assert "Acknowledged by Bob Brown" in slack_ack["blocks"][0]["text"]["text"]
        [teams] = [json.loads(r["body"]) for r in receiver.at("/teams")]  # ticket.created only
        card = teams["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard"
        assert card["content"]["actions"][0]["url"] == created["ticket"]["recording_url"]

        json_created = next(d for d in deliveries(stack) if d["to"] == "127.0.0.1" and d["change"] == "created")
        assert [a["status"] for a in json_created["attempt_log"]] == [503, 503, 200]
        timeline = stack.ticket("1")["timeline"]
        assert len([e for e in timeline if e["event"] == "handoff_retrying"]) == 1
        assert len([e for e in timeline if e["event"] == "handoff_delivered"]) == 5
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_a_receiver_that_answers_410_is_disabled_until_an_operator_enables_it(tmp_path, redis_url, database_url,
                                                                              receiver, caplog):
    stack = handoff_stack(tmp_path, redis_url, database_url,
                          {"webhooks": [{"url": receiver.url("/gone"), "secret_env": "WEBHOOK_SECRET"}]})
    receiver.answers["/gone"] = [410]
    try:
        support_voicemail(stack)
        with caplog.at_level(logging.ERROR, logger="dispatch.handoff.delivery"):
            hand_off(stack)
        assert "answered 410 Gone: disabled" in caplog.text
        stack.fake.sms_from(DAVE, "ACK 1", to=SUPPORT_NUMBER)
        hand_off(stack)
        assert len(receiver.at("/gone")) == 1
        assert [d["state"] for d in deliveries(stack)] == ["disabled", "disabled"]
        assert events(stack.ticket("1"), "handoff_disabled")

        cli = stack.app.test_cli_runner()
        assert "DISABLED since" in cli.invoke(args=["handoff", "webhooks"]).output  # stored: it outlives a restart
        assert cli.invoke(args=["handoff", "enable", "0"]).exit_code == 0
        stack.fake.sms_from(DAVE, "RES 1", to=SUPPORT_NUMBER)
        hand_off(stack)
        assert [json.loads(r["body"])["change"]["name"] for r in receiver.at("/gone")] == ["created", "resolved"]
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_a_new_tickets_handoff_waits_briefly_for_the_transcript(tmp_path, redis_url, database_url):
    stack = handoff_stack(tmp_path, redis_url, database_url, {"email_to": [PSA], "email_from": SENDER})
    try:
        call = stack.call()
        call.press("1").wait()
        call.leave_message(seconds=20, transcript="Please reset my password")
        call.deliver_callbacks(order=[0])  # the recording status; the transcription is still being made
        hand_off(stack)
        assert deliveries(stack)[0]["state"] == "pending"
        call.deliver_callbacks()
        advance(stack, seconds=10)
        [made] = deliveries(stack)
        assert (made["state"], made["via"]) == ("delivered", "console")  # no SMTP_URL: the console outbox
        with stack.runtime.store.reading() as session:
            payload = session.get(HandoffDelivery, 1).payload
        assert "Please reset my password" in email.message_from_string(payload, policy=default_policy) \
            .get_body(preferencelist=("plain",)).get_content()
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_a_recording_link_plays_the_audio_and_a_forged_or_expired_one_is_refused(stack):
    stack.at(2026, 11, 24, 3, 0)
    support_voicemail(stack)
    ticket = stack.ticket("1")
    link = ticket["recording_url"]
    parts = urlsplit(link)
    assert parts.path == "/recordings/CS-000001" and not parts.netloc  # no PUBLIC_BASE_URL: the path
    with stack.runtime.store.reading() as session:
        recording_sid = session.get(Ticket, 1).recording_sid

    played = stack.client.get(link)
    assert played.status_code == 200 and played.mimetype == "audio/mpeg"
    assert played.data == recording_audio(recording_sid)
    part = stack.client.get(link, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == recording_audio(recording_sid)[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(recording_audio(recording_sid))}"

    query = dict(p.split("=") for p in parts.query.split("&"))
    forged = f"/recordings/CS-000001?expires={query['expires']}&sig={'0' * 32}"
    later = f"/recordings/CS-000001?expires={int(query['expires']) + 86400}&sig={query['sig']}"
    other = f"/recordings/CS-000002?expires={query['expires']}&sig={query['sig']}"
    for refused in (forged, later, other, "/recordings/CS-000001", "/recordings/nonsense?expires=1&sig=x"):
        answer = stack.client.get(refused)
        assert answer.status_code == 403 and b"not valid" in answer.data, refused
    stack.clock.advance(days=8)  # past handoff.recording_link_days (7)
    assert stack.client.get(link).status_code == 403
    stack.fake.deleted_recordings.add(recording_sid)
    assert stack.client.get(stack.ticket("1")["recording_url"]).status_code == 404  # a fresh link; gone at Twilio


# -- the configuration and the environment ------------------------------------------------------

HOOK = {"url": "https://hooks.example.com/support-line", "secret_env": "WEBHOOK_SECRET"}


@pytest.mark.parametrize("handoff, key", [
    ({"email_to": ["not an address"], "email_from": SENDER}, "handoff.email_to[0]"),
    ({"email_to": [PSA]}, "handoff.email_from"),
    ({"email_to": PSA, "email_from": SENDER}, "handoff.email_to"),
    ({"email_to": [PSA], "email_from": SENDER, "email_events": ["ticket.closed"]}, "handoff.email_events"),
    ({"webhooks": [{**HOOK, "url": "ftp://hooks.example.com/x"}]}, "handoff.webhooks[0].url"),
    ({"webhooks": [{**HOOK, "events": ["ticket.deleted"]}]}, "handoff.webhooks[0].events"),
    ({"webhooks": [{"url": HOOK["url"]}]}, "handoff.webhooks[0].secret_env"),  # signed, or not sent
    ({"webhooks": [{**HOOK, "secret_env": "not a name"}]}, "handoff.webhooks[0].secret_env"),
    ({"webhooks": [HOOK, {**HOOK, "colour": "red"}]}, "handoff.webhooks[1].colour"),
    ({"webhooks": [{**HOOK, "format": "discord"}]}, "handoff.webhooks[0].format"),
    ({"recording_link_days": 0}, "handoff.recording_link_days"),
    ({"email_too": [PSA]}, "handoff.email_too"),
])
def test_a_bad_handoff_key_is_named(handoff, key):
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with(handoff=handoff))
    assert caught.value.key == key


def test_a_chat_tools_url_gets_its_format_and_needs_no_secret():
    config = parse_config(config_with(handoff={"webhooks": [
        {"url": "https://hooks.slack.com/services/T000/B000/XXXX"},
        {"url": "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x"},
        {**HOOK, "events": ["ticket.created"]}]}))
    assert [(h.format, h.events) for h in config.handoff.webhooks] == [
        ("slack", ("ticket.created", "ticket.updated")), ("teams", ("ticket.created", "ticket.updated")),
        ("json", ("ticket.created",))]


def test_start_up_stops_on_a_webhook_secret_missing_from_the_environment_and_a_bad_smtp_url(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(toml_dumps(config_with(handoff={"webhooks": [HOOK]})))
    with pytest.raises(ConfigError, match=r"handoff\.webhooks\[0\]\.secret_env: the environment variable "
                                          r"WEBHOOK_SECRET is not set"):
        build(Settings.from_env({"IVR_CONFIG": str(path), "IVR_DATA_DIR": str(tmp_path)}))
    with pytest.raises(ConfigError, match="SMTP_URL"):
        Settings.from_env({"SMTP_URL": "mail.example.com:587", "IVR_DATA_DIR": str(tmp_path)})
    settings = Settings.from_env({"SMTP_URL": "smtp://phones:hunter2@mail.example.com:587", "WEBHOOK_SECRET": "w1",
                                  "IVR_DATA_DIR": str(tmp_path)})
    assert "hunter2" not in repr(settings) and "w1" not in repr(settings)
    assert "smtp://phones:***@mail.example.com:587" in repr(settings)


# -- the mail server's TLS and password ---------------------------------------------------------

@pytest.fixture
def certificate(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1, trusted by this process's default TLS context."""
    import datetime as dt
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))  # OpenSSL's own variable: the machine's CA store
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    return server


def _authenticator(logins: list):
    from aiosmtpd.smtp import AuthResult

    def check(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"phones", b"p@ss word"))

    return check


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
def test_e_mail_goes_over_starttls_or_smtps_with_the_password(scheme, certificate):
    inbox, logins, port = Inbox(), [], free_port()
    # aiosmtpd does not see the TLS of an smtps:// listener: told that AUTH needs no STARTTLS there
    tls = {"tls_context": certificate, "require_starttls": True} if scheme == "smtp" else {
        "ssl_context": certificate, "auth_require_tls": False}
    server = Controller(inbox, hostname="127.0.0.1", port=port, auth_required=True,
                        authenticator=_authenticator(logins), **tls)
    server.start()
    try:
        outcome = transport.send_email(f"{scheme}://phones:p%40ss%20word@127.0.0.1:{port}", SENDER, [PSA],
                                       b"Subject: [CS-000001] test\r\n\r\nhello\r\n", "[CS-000001] test")
    finally:
        server.stop()
    assert outcome.ok, outcome.error
    assert logins == [(b"phones", b"p@ss word")]
    assert inbox.messages[0]["Subject"] == "[CS-000001] test"


def test_the_password_is_never_sent_to_a_server_without_tls(mail):
    mail.start()
    outcome = transport.send_email(f"smtp://phones:secret@127.0.0.1:{mail.port}", SENDER, [PSA],
                                   b"Subject: x\r\n\r\nhello\r\n", "x")
    assert not outcome.ok and "STARTTLS" in outcome.error and "secret" not in outcome.error
    assert mail.inbox.messages == []


# -- any change, in words ------------------------------------------------------------------------

def test_any_change_gets_a_readable_line_and_verification_tickets_are_not_handed_off(tmp_path, redis_url,
                                                                                    database_url):
    stack = handoff_stack(tmp_path, redis_url, database_url, {"email_to": [PSA], "email_from": SENDER})
    try:
        config = stack.config
        assert render.event_line(config, "acknowledged", {"by": "alice", "via": "voice"}) == \
            "Acknowledged by Alice Adams on a voice page"
        assert render.event_line(config, "waiting", {"by": "bob", "reminders": 3}) == \
            "Waiting: by Bob Brown, reminders 3"
        assert render.event_line(config, "rating", {"rating": 4, "at": "2026-11-24T08:00:00+00:00"}) == \
            "Rating: rating 4, at Tue 24 Nov 2026, 03:00 EST"
        assert render.event_line(config, "closed", {}) == "Closed"
        assert render.event_line(config, "resolved", {}) == "Resolved"  # its sentence needs "by": its name
        assert render.event_line(config, "page_sent", {"staff": "carol", "channel": "voice", "sid": "CA1"}) == \
            "Page to Carol Chen sent by voice call"

        reach_pin_prompt(stack, CLIENT_PHONE)  # a verification call opens a verification ticket
        with stack.runtime.store.transaction() as session:
            ticket = session.scalar(select(Ticket).where(Ticket.kind == "verification"))
            changes.record(session, ticket, "resolved", stack.clock.now(), by="alice", via="api")
        assert deliveries(stack, str(ticket.id)) == []
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()
