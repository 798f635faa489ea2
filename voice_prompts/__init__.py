"""Every sentence a caller or a technician hears or reads, in one catalogue.

Wording is edited here and nowhere else. Each area keeps its sentences in a module of
this package (``caller`` for the phone menu and voicemail); ``say(key, **values)``
fills one in. ``VOICE`` and ``LANGUAGE`` are what every ``<Say>`` uses.
"""
from __future__ import annotations

from voice_prompts import caller, paging, security, verification

VOICE = "Polly.Joanna"
LANGUAGE = "en-US"

_CATALOGUE: dict[str, str] = {}
for _module in (caller, paging, security, verification):
    for _key, _text in _module.PROMPTS.items():
        if _key in _CATALOGUE:
            raise RuntimeError(f"prompt {_key!r} is defined twice")
        _CATALOGUE[_key] = _text


def say(key: str, **values) -> str:
    """The sentence ``key`` with ``values`` filled in."""
    return _CATALOGUE[key].format(**values)
