"""The web addresses of the calls and messages the dispatcher starts (``core.links.Links``).

Paths live here, beside the blueprints that answer them; the worker, which has no request
to build them from, gets an instance from the composition root.
"""
from __future__ import annotations

from urllib.parse import urlencode


class PublicLinks:
    def __init__(self, public_base_url: str | None):
        self.base = public_base_url.rstrip("/") if public_base_url else None

    def _at(self, path: str, **query) -> str | None:
        return f"{self.base}{path}?{urlencode(query)}" if self.base else None

    def sms_status(self, page_id: int) -> str | None:
        return self._at("/sms/status", page=page_id)

    def voice_page(self, page_id: int) -> str | None:
        return self._at("/voice/page", page=page_id)

    def voice_page_status(self, page_id: int) -> str | None:
        return self._at("/voice/page/status", page=page_id)

    def bridge(self, page_id: int) -> str | None:
        return self._at("/voice/bridge", page=page_id)

    def bridge_status(self, page_id: int) -> str | None:
        return self._at("/voice/bridge/status", page=page_id)

    def number_webhooks(self) -> dict[str, str] | None:
        """The support number's own webhooks, by what each is for (set in Twilio, not by a request)."""
        if self.base is None:
            return None
        return {"voice": f"{self.base}/voice/incoming", "voice_fallback": f"{self.base}/voice/fallback",
                "voice_status": f"{self.base}/voice/status", "sms": f"{self.base}/sms/incoming"}

    def callback_answer(self, base: str, token: str) -> str:
        return f"{base}/verification/callback?{urlencode({'token': token})}"

    def callback_status(self, base: str, token: str) -> str:
        return f"{base}/verification/callback/status?{urlencode({'token': token})}"

    def recording(self, number: str, expires: int, signature: str) -> str:
        return f"{self.base or ''}/recordings/{number}?{urlencode({'expires': expires, 'sig': signature})}"
