"""The support number as Twilio keeps it (``notification.numbers.NumberAdmin``): its webhooks, on
its IncomingPhoneNumber resource, read and set through Twilio's REST API; and whether the
account's credentials are accepted.

The rest of the project names the webhooks by what they are for (``numbers.PURPOSES``);
Twilio's field names stay here.
"""
from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException

from dispatch.notification.numbers import Account, AccountError, NumberWebhooks
from dispatch.notification.twilio.client import make_client

# What each webhook is for -> (Twilio's URL field, its method field).
WEBHOOKS = {
    "voice": ("voice_url", "voice_method"),                          # "A call comes in"
    "voice_fallback": ("voice_fallback_url", "voice_fallback_method"),  # "Primary handler fails"
    "voice_status": ("status_callback", "status_callback_method"),  # "Call status changes"
    "sms": ("sms_url", "sms_method"),                                # "A message comes in"
}


class TwilioNumbers:
    """``NumberAdmin`` through Twilio's REST API."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str | None = None):
        self.account_sid = account_sid
        self.client = make_client(account_sid, auth_token, api_base_url)

    def account(self) -> Account:
        """The account the credentials open; AccountError when Twilio refuses them."""
        found = _asking(lambda: self.client.api.v2010.accounts(self.account_sid).fetch())
        return Account(name=found.friendly_name or self.account_sid, status=found.status or "unknown",
                       trial=(found.type or "").lower() == "trial")

    def find(self, phone_number: str) -> NumberWebhooks | None:
        """The webhooks of ``phone_number`` (E.164), or None when the account has no such number."""
        found = _asking(lambda: self.client.incoming_phone_numbers.list(phone_number=phone_number, limit=1))
        return _webhooks(found[0]) if found else None

    def point(self, phone_number: str, urls: dict[str, str]) -> tuple[NumberWebhooks, NumberWebhooks] | None:
        """Set ``phone_number``'s webhooks to ``urls`` (by ``WEBHOOKS``'s keys), each requested with
        POST, and let its own URLs handle it (a TwiML application set on it would take precedence);
        returns (before, after), or None when the account has no such number."""
        found = _asking(lambda: self.client.incoming_phone_numbers.list(phone_number=phone_number, limit=1))
        if not found:
            return None
        before = _webhooks(found[0])
        changes = {}
        for purpose, url in urls.items():
            url_field, method_field = WEBHOOKS[purpose]
            changes[url_field], changes[method_field] = url, "POST"
        if found[0].voice_application_sid:
            changes["voice_application_sid"] = ""
        if found[0].sms_application_sid:
            changes["sms_application_sid"] = ""
        updated = _asking(lambda: found[0].update(**changes))
        return before, _webhooks(updated)


def _webhooks(number) -> NumberWebhooks:
    return NumberWebhooks(
        sid=number.sid, phone_number=number.phone_number,
        urls={purpose: getattr(number, url) or None for purpose, (url, _) in WEBHOOKS.items()},
        methods={purpose: (getattr(number, method) or "").upper() or None for purpose, (_, method) in WEBHOOKS.items()},
        overridden_by=("a TwiML application" if number.voice_application_sid else
                       "a SIP trunk" if getattr(number, "trunk_sid", None) else None))


def _asking(request):
    try:
        return request()
    except TwilioRestException as exc:
        raise AccountError(f"Twilio answered {exc.status} (error {exc.code}): {exc.msg}",
                           refused=exc.status == 401) from None
    except TwilioException as exc:
        raise AccountError(f"Twilio error: {exc}") from None
    except requests.RequestException as exc:
        raise AccountError(f"Twilio unreachable: {type(exc).__name__}") from None
