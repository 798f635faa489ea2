"""Ticket numbers as callers hear them and technicians type them: ``CS-000123``."""
from __future__ import annotations

import re


def format_number(prefix: str, ticket_id: int) -> str:
    return f"{prefix}-{ticket_id:06d}"


def parse_number(text: str | None, prefix: str) -> int | None:
    """'CS-000123', 'cs123' or '123' -> 123; anything else -> None."""
    match = re.fullmatch(rf"\s*(?:{re.escape(prefix)}\s*-?\s*)?0*(\d{{1,9}})\s*", text or "", re.IGNORECASE)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


KEYPAD = {letter: digit for digit, letters in {"2": "ABC", "3": "DEF", "4": "GHI", "5": "JKL", "6": "MNO",
                                               "7": "PQRS", "8": "TUV", "9": "WXYZ"}.items() for letter in letters}


def keyed_candidates(keyed: str | None, prefix: str) -> list[int]:
    """The ticket ids a caller may have meant by what they keyed: '123' (just the digits, as they are
    told), or the number as written, letters and all, which a keypad turns into digits ('CS-000123'
    keyed is '27000123'); the digits as they are first."""
    digits = "".join(ch for ch in keyed or "" if ch.isdigit())[:20]
    found = []
    letters = "".join(KEYPAD[ch] for ch in prefix.upper() if ch in KEYPAD)
    for candidate in (digits, digits[len(letters):] if letters and digits.startswith(letters) else ""):
        number = parse_number(candidate, prefix) if candidate else None
        if number is not None and number not in found:
            found.append(number)
    return found
