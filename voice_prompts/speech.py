"""Turning numbers, keys and times into words a text-to-speech voice says naturally."""
from __future__ import annotations

from datetime import datetime

import phonenumbers

KEY_NAMES = {"en": {"*": "star", "#": "pound"}, "es": {"*": "asterisco", "#": "numeral"}}
WEEKDAYS_ES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
             "noviembre", "diciembre")


def spell(text: str) -> str:
    """'CS-123' -> 'C, S, 1, 2, 3': one character at a time, with pauses between."""
    return ", ".join(ch for ch in text if ch.isalnum())


def digits(text: str) -> str:
    """'501' -> '5 0 1': each digit a word, as a caller keys them."""
    return " ".join(ch for ch in text if ch.isdigit())


def keys(pressed: str, language: str = "en") -> str:
    """What a caller keyed, said back: '9*' -> '9 star'."""
    names = KEY_NAMES.get(language, KEY_NAMES["en"])
    return " ".join(names.get(ch, ch) for ch in pressed if ch.isdigit() or ch in names)


def spoken_ticket(number: int) -> str:
    """A ticket number as a caller hears it and keys it: '1 2 3' (the digits, no prefix, no zeros)."""
    return digits(str(number))


def phone_number(e164: str) -> str:
    """A phone number in the groups people say it in: '+12705550199' -> '2 7 0, 5 5 5, 0 1 9 9'."""
    try:
        number = phonenumbers.parse(e164, None)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return spell(e164)
    groups, current = [], ""
    for ch in national:
        if ch.isdigit():
            current += ch
        elif current:
            groups.append(current)
            current = ""
    if current:
        groups.append(current)
    return ", ".join(digits(group) for group in groups)


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def clock_time(at: datetime, language: str = "en") -> str:
    """'9 AM', '9:30 AM', '12 PM'; in Spanish 'las 9 de la mañana', 'la 1 de la tarde'."""
    hour = at.hour % 12 or 12
    if language == "es":
        part = ("de la madrugada" if at.hour < 6 else "de la mañana" if at.hour < 12 else
                "del mediodía" if at.hour == 12 else "de la tarde" if at.hour < 20 else "de la noche")
        time = str(hour) if at.minute == 0 else f"{hour}:{at.minute:02d}"
        return f"{'la' if hour == 1 else 'las'} {time} {part}"
    suffix = "AM" if at.hour < 12 else "PM"
    return f"{hour} {suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d} {suffix}"


def spoken_opening(opening: datetime, now: datetime, language: str = "en") -> str:
    """When the desk opens, relative to now in the same zone: 'today at 9 AM', 'tomorrow at 9 AM',
    'on Monday at 9 AM', or 'on Monday, January 5 at 9 AM' beyond the coming week; in Spanish
    'hoy a las 9 de la mañana', 'mañana …', 'el lunes …', 'el lunes 5 de enero …'."""
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    when = clock_time(opening, language)
    if language == "es":
        day = WEEKDAYS_ES[opening.weekday()]
        if days == 0:
            return f"hoy a {when}"
        if days == 1:
            return f"mañana a {when}"
        if days < 7:
            return f"el {day} a {when}"
        return f"el {day} {opening.day} de {MONTHS_ES[opening.month - 1]} a {when}"
    if days == 0:
        return f"today at {when}"
    if days == 1:
        return f"tomorrow at {when}"
    if days < 7:
        return f"on {opening:%A} at {when}"
    return f"on {opening:%A}, {opening:%B} {opening.day} at {when}"
