"""SMS text in GSM-7 characters, trimmed to fit one segment.

One character outside GSM-7 (an emoji, a curly quote, an accented letter GSM-7 lacks)
switches the whole message to UCS-2 and its limit from 160 to 70 characters, so a
transcript's "café – it’s down" or a name like José Núñez would triple the cost and split
the message. Every SMS goes through :func:`gsm7`: accents are dropped from every letter
(also the few GSM-7 has, which some carriers mangle), then Unidecode, then '?' for what is left.
"""
from __future__ import annotations

import re
import unicodedata

from unidecode import unidecode

SEGMENT_UNITS = 160
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = frozenset("^{}\\[~]|€")  # each takes two units (an escape, then the character)
# The ASCII characters GSM-7 has: a text of only these needs no look at each character (most pages).
_ASCII_IN_GSM7 = frozenset(c for c in map(chr, range(128)) if c in GSM7_BASIC or c in GSM7_EXTENDED)
_SPACES = re.compile(r"\s+")


def gsm7(text: str) -> str:
    """``text`` in GSM-7 characters only, on one line."""
    if not (text.isascii() and _ASCII_IN_GSM7.issuperset(text)):
        text = each_character(text)
    return _SPACES.sub(" ", text).strip()


def each_character(text: str) -> str:
    """Every character of ``text`` as GSM-7: without its accent, else Unidecode's, else '?'."""
    out = []
    for ch in text:
        bare = _without_accent(ch)
        if bare in GSM7_BASIC or bare in GSM7_EXTENDED:
            out.append(bare)
        else:
            out.append("".join(c if c in GSM7_BASIC or c in GSM7_EXTENDED else "?" for c in unidecode(ch)))
    return "".join(out)


def _without_accent(ch: str) -> str:
    """'é' -> 'e', 'Ñ' -> 'N'; any other character as it is."""
    if not ch.isalpha() or ch.isascii():
        return ch
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base if len(base) == 1 else ch


def units(text: str) -> int:
    return sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)


def first_words(text: str, room: int) -> str:
    """As many whole words of ``text`` as fit in ``room`` units, with '...' when cut."""
    if units(text) <= room:
        return text
    words, kept = text.split(" "), ""
    for word in words:
        candidate = f"{kept} {word}" if kept else word
        if units(candidate) + 3 > room:
            break
        kept = candidate
    return kept + "..." if kept else ""
