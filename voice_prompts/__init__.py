"""Every sentence a caller or a technician hears or reads, in one catalogue per language.

Wording is edited here and nowhere else. English, the company's language, keeps its
sentences in a module per area (``caller`` for the phone menu and voicemail, ``paging``
for technicians, ``verification``); every other language has a module of its own
(``es``) holding the sentences a caller hears or reads: technicians always read the
company's language.

``say(key, language="en", **values)`` fills in one sentence in a language; a key a
language lacks is said in English (``missing`` lists them, for its tests). The voice
each language is spoken with is configuration (``[voices]``), not a constant here.
"""
from __future__ import annotations

from string import Formatter

from voice_prompts import caller, console, es, followup, handoff, paging, security, verification

COMPANY_LANGUAGE = "en"

_ENGLISH: dict[str, str] = {}
for _module in (caller, paging, verification, handoff, followup, console, security):
    for _key, _text in _module.PROMPTS.items():
        if _key in _ENGLISH:
            raise RuntimeError(f"prompt {_key!r} is defined twice")
        _ENGLISH[_key] = _text

CATALOGUES: dict[str, dict[str, str]] = {"en": _ENGLISH, "es": es.PROMPTS}
LANGUAGES = tuple(CATALOGUES)
# What a caller's own catalogue must hold: all they hear and read (pages stay in English).
CALLER_KEYS = frozenset(caller.PROMPTS) | frozenset(verification.CALLER_PROMPTS) | security.CALLER_PROMPTS

for _language, _catalogue in CATALOGUES.items():
    if unknown := set(_catalogue) - set(_ENGLISH):
        raise RuntimeError(f"prompts {sorted(unknown)} of {_language!r} have no English original")
    for _key, _text in _catalogue.items():
        if "language" in {field for _, field, _, _ in Formatter().parse(_text)}:
            raise RuntimeError(f"prompt {_key!r}: {{language}} is say()'s own argument, not a value to fill in")


def language_or_default(language: str | None) -> str:
    """``language`` if there is a catalogue for it, else the company's language."""
    return language if language in CATALOGUES else COMPANY_LANGUAGE


def say(key: str, language: str = COMPANY_LANGUAGE, **values) -> str:
    """The sentence ``key`` in ``language`` (English when that catalogue lacks it), ``values`` filled in."""
    catalogue = CATALOGUES.get(language, _ENGLISH)
    return catalogue.get(key, _ENGLISH[key]).format(**values)


def missing(language: str) -> set[str]:
    """The caller's sentences ``language`` has no translation of."""
    return set(CALLER_KEYS) - set(CATALOGUES[language])
