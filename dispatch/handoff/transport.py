"""How a hand-off leaves: e-mail through ``SMTP_URL`` (or the console outbox without it), and
signed HTTP POSTs to webhooks. Each send says what came of it as an :class:`Outcome`; none raises."""
from __future__ import annotations

import hashlib
import hmac
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import requests

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30
HTTP_TIMEOUT_SECONDS = (5, 10)  # to connect, then for each read of the answer
USER_AGENT = "support-line-handoff/1"
SIGNATURE_HEADER = "X-Signature-256"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    via: str
    status: int | None = None  # the HTTP status, or the SMTP reply code
    error: str | None = None
    gone: bool = False  # the receiver answered 410: it wants nothing more


def _printable(text: str, limit: int = 300) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:limit]


# -- e-mail -------------------------------------------------------------------------------------

def send_email(smtp_url: str | None, sender: str, recipients: list[str], message: bytes, subject: str) -> Outcome:
    """Send ``message`` (the whole RFC 5322 text) from ``sender`` to ``recipients``."""
    if not smtp_url:
        log.warning("console outbox (no SMTP_URL): e-mail to %s: %s", ", ".join(recipients), subject)
        return Outcome(True, "console")
    parts = urlsplit(smtp_url)
    implicit_tls = parts.scheme == "smtps"
    port = parts.port or (465 if implicit_tls else 587)
    user = unquote(parts.username) if parts.username else None
    context = ssl.create_default_context()
    client = None
    try:
        if implicit_tls:
            client = smtplib.SMTP_SSL(parts.hostname, port, local_hostname=socket.gethostname(),
                                      timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            client = smtplib.SMTP(parts.hostname, port, local_hostname=socket.gethostname(),
                                  timeout=SMTP_TIMEOUT_SECONDS)
        client.ehlo()
        if not implicit_tls and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        elif not implicit_tls and user:
            return Outcome(False, "smtp", error="the mail server offers no STARTTLS, and the password is never "
                                                "sent in the clear: use smtps:// or a server with STARTTLS")
        if user:
            client.login(user, unquote(parts.password or ""))
        refused = client.sendmail(sender, recipients, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        return Outcome(False, "smtp", codes[0] if codes else None,
                       _printable(f"every recipient refused: {', '.join(exc.recipients)}"))
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return Outcome(False, "smtp", exc.smtp_code, _printable(f"{exc.smtp_code} {reply}"))
    except (smtplib.SMTPException, OSError) as exc:  # OSError: refused, unreachable, timed out, TLS failures
        return Outcome(False, "smtp", error=_printable(f"{type(exc).__name__}: {exc}"))
    finally:
        if client is not None:
            try:
                client.quit()  # the message is accepted by now: a failed goodbye changes nothing
            except (smtplib.SMTPException, OSError):
                client.close()
    note = f"refused by the server: {', '.join(refused)}" if refused else None
    return Outcome(True, "smtp", 250, note)


# -- webhooks -----------------------------------------------------------------------------------

_session = requests.Session()


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature-256`` value: ``sha256=`` and the hex HMAC-SHA256 of the body, keyed by the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, body: str, secret: str | None) -> Outcome:
    """POST ``body`` (JSON) to ``url``, signed when a secret is given."""
    data = body.encode()
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, data)
    try:
        response = _session.post(url, data=data, headers=headers, timeout=HTTP_TIMEOUT_SECONDS,
                                 allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(False, "http", error=_printable(f"no answer: {type(exc).__name__}"))
    try:
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(True, "http", status)
        answer = _printable(response.text[:120]) if response.content else ""
        return Outcome(False, "http", status, _printable(f"HTTP {status} {response.reason or ''} {answer}".strip()),
                       gone=status == 410)
    finally:
        response.close()
