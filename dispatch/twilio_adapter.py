"""Twilio behind the carrier interface: the real ``twilio`` REST client, or a console outbox.

With credentials, requests go to Twilio (or to ``TWILIO_API_BASE_URL``, a compatible
server on loopback in tests and staging). Without them, every message and call is
logged and stored in the ``console_outbox`` table, never silently dropped.
"""
from __future__ import annotations

import logging
import os
import uuid

import requests
from sqlalchemy import select
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from core.models import ConsoleMessage
from dispatch.carrier import DeliveryError, Sent

log = logging.getLogger(__name__)

# Twilio error codes that no retry will fix.
PERMANENT_CODES = {21211, 21214, 21217, 21219, 21401, 21408, 21610, 21612, 21614, 13224, 13223}
REQUEST_TIMEOUT_SECONDS = 10
TWILIO_API = "https://api.twilio.com"


class TwilioCarrier:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base_url: str | None = None):
        http = TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS,
                                proxy=requests.utils.get_environ_proxies(api_base_url or TWILIO_API))
        # requests reads proxy and CA settings from the environment on every request (a scan of
        # os.environ, a good share of a page's REST call); they are read once, above and here.
        http.session.trust_env = False
        http.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.client = Client(account_sid, auth_token, http_client=http)
        if api_base_url:
            self.client.api.base_url = api_base_url
            # An edge or region from the environment would rewrite the host back to Twilio's.
            self.client.edge = None
            self.client.region = None
        self.from_number = from_number

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        options = {"status_callback": status_callback} if status_callback else {}
        message = self._call(self.client.messages.create, to=to, from_=self.from_number, body=body,
                             smart_encoded=True, **options)
        return Sent(message.sid, message.status)

    def place_call(self, to: str, url: str, status_callback: str | None, *,
                   machine_detection: bool = False, timeout: int = 30) -> Sent:
        options = {}
        if status_callback:
            options.update(status_callback=status_callback, status_callback_method="POST",
                           status_callback_event=["initiated", "ringing", "answered", "completed"])
        if machine_detection:
            options["machine_detection"] = "Enable"
        call = self._call(self.client.calls.create, to=to, from_=self.from_number, url=url,
                          timeout=timeout, **options)
        return Sent(call.sid, call.status)

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        messages = self._call(self.client.messages.list, to=to, from_=self.from_number, limit=20)
        return [(m.sid, m.body) for m in messages]

    @staticmethod
    def _call(create, **params):
        try:
            return create(**params)
        except TwilioRestException as exc:
            transient = exc.status == 429 or exc.status >= 500
            permanent = not transient and (exc.code in PERMANENT_CODES or 400 <= exc.status < 500)
            raise DeliveryError(f"Twilio {exc.status} error {exc.code}: {exc.msg}", permanent=permanent,
                                code=exc.code, status=exc.status) from None
        except TwilioException as exc:
            raise DeliveryError(f"Twilio error: {exc}", permanent=False) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio unreachable: {type(exc).__name__}", permanent=False) from None


class ConsoleOutbox:
    """Stands in for Twilio when no credentials are set: logs and stores what would have gone out."""

    def __init__(self, store, from_number: str):
        self.store = store
        self.from_number = from_number

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        return self._keep("sms", to, body)

    def place_call(self, to: str, url: str, status_callback: str | None, *,
                   machine_detection: bool = False, timeout: int = 30) -> Sent:
        return self._keep("call", to, url)

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        with self.store.transaction() as session:
            rows = session.execute(select(ConsoleMessage.sid, ConsoleMessage.content).where(
                ConsoleMessage.kind == "sms", ConsoleMessage.to == to).order_by(ConsoleMessage.id.desc()).limit(20))
            return [(sid, content) for sid, content in rows]

    def _keep(self, kind: str, to: str, content: str) -> Sent:
        sid = ("SM" if kind == "sms" else "CA") + uuid.uuid4().hex
        with self.store.transaction() as session:
            session.add(ConsoleMessage(sid=sid, kind=kind, to=to, from_=self.from_number, content=content))
        log.warning("console outbox (no Twilio credentials): %s to %s: %s", kind, to, content)
        return Sent(sid, "queued")


def carrier_for(runtime):
    settings = runtime.settings
    if settings.twilio_account_sid and settings.twilio_auth_token:
        return TwilioCarrier(settings.twilio_account_sid, settings.twilio_auth_token,
                             runtime.config.support_number, settings.twilio_api_base_url)
    return ConsoleOutbox(runtime.store, runtime.config.support_number)
