"""Ticket numbers as callers hear them and technicians type them: ``CS-000123``."""
from __future__ import annotations

import re


def format_number(prefix: str, ticket_id: int) -> str:
    return f"{prefix}-{ticket_id:06d}"


def parse_number(text: str | None, prefix: str) -> int | None:
    """'CS-000123', 'cs123' or '123' -> 123; anything else -> None."""
    match = re.fullmatch(rf"\s*(?:{re.escape(prefix)}\s*-?\s*)?0*(\d{{1,9}})\s*", text or "", re.IGNORECASE)
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None
