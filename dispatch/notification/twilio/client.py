"""Twilio behind the carrier interface: the real ``twilio`` REST client.

Requests go to Twilio, or to ``TWILIO_API_BASE_URL`` (a compatible server on loopback
in tests and staging). What Twilio answers is turned into neutral terms here.
"""
from __future__ import annotations

import logging
import os
import re

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from dispatch.notification.carrier import REQUEST_TIMEOUT_SECONDS, DeliveryError, RecordingMedia, Sent
from dispatch.notification.twilio.statuses import PERMANENT_CODES, state_of

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
BYTE_RANGE = re.compile(r"bytes=\d*-\d*")
MEDIA_CHUNK = 64 * 1024


def make_client(account_sid: str, auth_token: str, api_base_url: str | None = None) -> Client:
    """Twilio's REST client, sending to ``api_base_url`` when given, with a time-out on every request."""
    http = TwilioHttpClient(timeout=REQUEST_TIMEOUT_SECONDS,
                            proxy=requests.utils.get_environ_proxies(api_base_url or TWILIO_API))
    # requests reads proxy and CA settings from the environment on every request (a scan of
    # os.environ, a good share of a page's REST call); they are read once, above and here.
    http.session.trust_env = False
    http.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    client = Client(account_sid, auth_token, http_client=http)
    if api_base_url:
        client.api.base_url = api_base_url
        # An edge or region from the environment would rewrite the host back to Twilio's.
        client.edge = None
        client.region = None
    return client


class TwilioCarrier:
    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base_url: str | None = None):
        self.client = make_client(account_sid, auth_token, api_base_url)
        self._media = self.client.http_client.session
        self._credentials = (account_sid, auth_token)
        self._api_base = (api_base_url or TWILIO_API).rstrip("/")
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

    def recording_media(self, recording_sid: str, byte_range: str | None = None) -> RecordingMedia | None:
        # Built from the recording's SID, never from a stored URL: the account's credentials go to
        # Twilio (or TWILIO_API_BASE_URL) and nowhere else. Twilio may redirect to its media host;
        # requests drops the credentials on a redirect to another host.
        if not RECORDING_SID.fullmatch(recording_sid or ""):
            return None
        url = f"{self._api_base}/2010-04-01/Accounts/{self._credentials[0]}/Recordings/{recording_sid}.mp3"
        headers = {"Range": byte_range} if byte_range and BYTE_RANGE.fullmatch(byte_range) else {}
        try:
            response = self._media.get(url, auth=self._credentials, headers=headers, stream=True,
                                       timeout=(5, REQUEST_TIMEOUT_SECONDS))
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio unreachable: {type(exc).__name__}", permanent=False) from None
        if response.status_code == 404:
            response.close()
            return None
        if response.status_code not in (200, 206):
            response.close()
            raise DeliveryError(f"Twilio {response.status_code} for recording {recording_sid}",
                                permanent=400 <= response.status_code < 500, status=response.status_code)
        length = response.headers.get("Content-Length")
        return RecordingMedia(response.status_code, response.headers.get("Content-Type") or "audio/mpeg",
                              int(length) if length and length.isdigit() else None,
                              response.headers.get("Content-Range"), response.iter_content(MEDIA_CHUNK),
                              response.close)

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
