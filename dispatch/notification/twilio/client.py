"""Twilio behind the carrier interface: the real ``twilio`` REST client.

Requests go to Twilio, or to ``TWILIO_API_BASE_URL`` (a compatible server on loopback
in tests and staging). What Twilio answers is turned into neutral terms here.
"""
from __future__ import annotations

import logging
import os

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from dispatch.notification.carrier import REQUEST_TIMEOUT_SECONDS, DeliveryError, Media, Sent
from dispatch.notification.twilio.statuses import PERMANENT_CODES, state_of

log = logging.getLogger(__name__)

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
        self._http = http
        self._auth = (account_sid, auth_token)
        self._api_base_url = api_base_url
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
        return Sent(message.sid, state_of(message.status))

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
        return Sent(call.sid, state_of(call.status, call=True))

    def recent_sms(self, to: str) -> list[tuple[str, str]]:
        messages = self._call(self.client.messages.list, to=to, from_=self.from_number, limit=20)
        return [(m.sid, m.body) for m in messages]

    def fetch_recording(self, url: str, byte_range: str | None = None) -> Media | None:
        """Twilio keeps a recording's audio at its URL plus ``.mp3``, behind the account's credentials
        when "HTTP authentication for media" is on: sent only to Twilio's own API (or the server
        ``TWILIO_API_BASE_URL`` names), never to another host a stored URL might name."""
        if not url.startswith(TWILIO_API + "/"):
            log.warning("recording URL not on Twilio's API, not fetched")
            return None
        if self._api_base_url:
            url = self._api_base_url + url[len(TWILIO_API):]
        headers = {"Range": byte_range} if byte_range else {}
        try:
            answer = self._http.session.get(url + ".mp3", auth=self._auth, headers=headers, stream=True,
                                            timeout=REQUEST_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio unreachable: {type(exc).__name__}", permanent=False) from None
        if answer.status_code not in (200, 206):
            answer.close()
            if answer.status_code == 404:
                return None
            raise DeliveryError(f"Twilio {answer.status_code} for a recording", permanent=answer.status_code < 500,
                                status=answer.status_code)
        passed = {name: answer.headers[name] for name in ("Content-Length", "Content-Range", "Accept-Ranges")
                  if name in answer.headers}
        return Media(answer.status_code, answer.headers.get("Content-Type", "audio/mpeg"),
                     answer.iter_content(64 * 1024), passed, answer.close)

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
