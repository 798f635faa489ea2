"""The TOML configuration, loaded and validated once at start-up.

Every key is checked before a request is served: a wrong phone number, time zone,
time range, staff id or an unknown key raises :class:`ConfigError` whose message is
one line naming the key, so an operator sees exactly what to fix.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLES = ("technician", "manager")
CHANNELS = ("sms", "voice")
LEVELS = ("primary", "secondary", "managers")

_SECTIONS = {
    "company": {"name", "timezone", "support_number", "ticket_prefix"},
    "hours": set(WEEKDAYS) | {"holidays", "holiday_country"},
    "menu": {"support_digit", "emergency_extension", "verification_digit", "status_digit"},
    "desk": {"numbers", "ring_seconds", "screen_calls"},
    "voicemail": {"max_seconds", "min_seconds"},
    "staff": {"id", "name", "mobile", "role"},
    "oncall": {"rotation", "handoff", "managers", "escalation", "repeat", "delivery_deadline_minutes"},
    "oncall.escalation": {"notify", "channel", "after_minutes"},
    "security": {"callable_countries", "emergencies_per_caller_per_hour", "page_burst_seconds"},
}


class ConfigError(ValueError):
    """A configuration problem, worded as one line that names the offending key."""

    def __init__(self, key: str, problem: str, source: str = "config"):
        super().__init__(f"{source}: {_printable(key)}: {_printable(problem)}")
        self.key = key


def _printable(text: str) -> str:
    """``text`` on one line: a newline or other control character in a key or value is shown escaped."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


@dataclass(frozen=True)
class Staff:
    id: str
    name: str
    mobile: str
    role: str


@dataclass(frozen=True)
class EscalationStep:
    notify: str
    channel: str
    after_minutes: int


@dataclass(frozen=True)
class Config:
    company_name: str
    timezone: ZoneInfo
    support_number: str
    ticket_prefix: str
    region: str  # ISO country of the support number: national numbers are read in it
    hours: dict[int, tuple[time, time]]  # weekday (0=Monday) -> open, close
    holidays: frozenset[date]
    holiday_country: str | None
    support_digit: str
    emergency_extension: str
    verification_digit: str
    status_digit: str
    desk_numbers: tuple[str, ...]
    ring_seconds: int
    screen_calls: bool
    voicemail_max_seconds: int
    voicemail_min_seconds: int
    staff: dict[str, Staff]
    rotation: tuple[str, ...]
    handoff_weekday: int
    handoff_time: time
    managers: tuple[str, ...]
    escalation: tuple[EscalationStep, ...]
    escalation_repeat: int
    delivery_deadline_minutes: int
    # [security]: CALL dials only callers in these countries (ISO codes); P1s one number may open an hour.
    callable_countries: frozenset[str] = frozenset()
    emergencies_per_caller_per_hour: int = 3
    page_burst_seconds: int = 60  # an emergency SMS within this long of the last one waits for the digest
    source: str = field(default="config", compare=False)

    def staff_with_mobile(self, e164: str | None) -> Staff | None:
        """The staff member whose mobile is ``e164``, if any."""
        for person in self.staff.values():
            if e164 and person.mobile == e164:
                return person
        return None


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file at ``path``."""
    path = Path(path)
    source = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("IVR_CONFIG", f"no configuration file at {path}", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("syntax", str(exc), source) from None
    return parse_config(raw, source)


def parse_config(raw: dict, source: str = "config") -> Config:
    """Validate an already-parsed TOML document; see :func:`load_config`."""
    v = _Validator(source)
    v.known_keys(raw, set(_SECTIONS) - {"oncall.escalation"}, "")
    for name in ("company", "hours", "menu", "desk", "voicemail", "oncall", "security"):
        section = raw.get(name, {})
        v.expect(isinstance(section, dict), name, "must be a table")
        v.known_keys(section, _SECTIONS[name], name + ".")

    company = raw.get("company", {})
    name = v.text(company, "company.name")
    timezone = v.zone(company, "company.timezone")
    support_number = v.phone(company.get("support_number"), "company.support_number")
    region = phonenumbers.region_code_for_number(phonenumbers.parse(support_number))
    prefix = v.text(company, "company.ticket_prefix", default="CS")
    v.expect(re.fullmatch(r"[A-Z]{1,6}", prefix) is not None, "company.ticket_prefix",
             "must be 1 to 6 capital letters")

    hours_raw = raw.get("hours", {})
    hours = {}
    for index, day in enumerate(WEEKDAYS):
        if day in hours_raw:
            hours[index] = v.time_range(hours_raw[day], f"hours.{day}")
    holidays = frozenset(v.dates(hours_raw.get("holidays", []), "hours.holidays"))
    holiday_country = hours_raw.get("holiday_country")
    if holiday_country is not None:
        import holidays as holiday_calendars

        v.expect(isinstance(holiday_country, str)
                 and holiday_country in holiday_calendars.list_supported_countries(),
                 "hours.holiday_country", f"{holiday_country!r} is not a country code known to the holidays package")

    menu = raw.get("menu", {})
    digits = {
        key: str(menu.get(key, default))
        for key, default in (("support_digit", "1"), ("verification_digit", "2"), ("status_digit", "3"))
    }
    for key, value in digits.items():
        v.expect(re.fullmatch(r"[0-9]", value) is not None, f"menu.{key}", "must be a single digit 0-9")
    v.expect(len(set(digits.values())) == 3, "menu", "support_digit, verification_digit and status_digit must differ")
    extension = str(menu.get("emergency_extension", "501"))
    v.expect(re.fullmatch(r"[0-9]{2,6}", extension) is not None, "menu.emergency_extension",
             "must be 2 to 6 digits")

    desk = raw.get("desk", {})
    desk_numbers = tuple(v.phone(n, f"desk.numbers[{i}]") for i, n in enumerate(v.list(desk, "desk.numbers")))
    v.expect(bool(desk_numbers), "desk.numbers", "needs at least one number to ring")
    ring_seconds = v.integer(desk, "desk.ring_seconds", 25, 5, 120)
    screen_calls = v.boolean(desk, "desk.screen_calls", True)

    voicemail = raw.get("voicemail", {})
    max_seconds = v.integer(voicemail, "voicemail.max_seconds", 120, 10, 600)
    min_seconds = v.integer(voicemail, "voicemail.min_seconds", 2, 0, 30)

    staff_list = raw.get("staff", [])
    v.expect(isinstance(staff_list, list), "staff", "must be an array of tables ([[staff]])")
    staff: dict[str, Staff] = {}
    for i, entry in enumerate(staff_list):
        where = f"staff[{i}]"
        v.expect(isinstance(entry, dict), where, "must be a table")
        v.known_keys(entry, _SECTIONS["staff"], where + ".")
        sid = v.text(entry, f"{where}.id")
        v.expect(re.fullmatch(r"[a-z0-9_.-]{1,40}", sid) is not None, f"{where}.id",
                 "must be lower-case letters, digits, '.', '_' or '-'")
        v.expect(sid not in staff, f"{where}.id", f"{sid!r} is defined twice")
        role = v.choice(entry.get("role", "technician"), f"{where}.role", ROLES)
        staff[sid] = Staff(sid, v.text(entry, f"{where}.name"), v.phone(entry.get("mobile"), f"{where}.mobile"), role)

    oncall = raw.get("oncall", {})
    rotation = tuple(v.staff_ids(oncall.get("rotation", []), "oncall.rotation", staff))
    v.expect(bool(rotation), "oncall.rotation", "needs at least one staff id")
    managers = tuple(v.staff_ids(oncall.get("managers", []), "oncall.managers", staff, once=True))
    handoff_weekday, handoff_time = v.handoff(oncall.get("handoff", "mon 09:00"), "oncall.handoff")
    steps_raw = oncall.get("escalation", [])
    v.expect(isinstance(steps_raw, list) and bool(steps_raw), "oncall.escalation",
             "needs at least one [[oncall.escalation]] step")
    steps = []
    for i, step in enumerate(steps_raw):
        where = f"oncall.escalation[{i}]"
        v.expect(isinstance(step, dict), where, "must be a table")
        v.known_keys(step, _SECTIONS["oncall.escalation"], where + ".")
        notify = step.get("notify")
        v.expect(isinstance(notify, str) and (notify in LEVELS or notify in staff), f"{where}.notify",
                 f"{notify!r} is neither primary, secondary, managers nor a staff id")
        channel = v.choice(step.get("channel", "sms"), f"{where}.channel", CHANNELS)
        after = v.integer(step, f"{where}.after_minutes", 0, 0, 24 * 60)
        v.expect(not steps or after >= steps[-1].after_minutes, f"{where}.after_minutes",
                 "must not be earlier than the step before it")
        steps.append(EscalationStep(notify, channel, after))
    repeat = v.integer(oncall, "oncall.repeat", 1, 0, 5)
    deadline = v.integer(oncall, "oncall.delivery_deadline_minutes", 3, 1, 60)

    security = raw.get("security", {})
    countries = v.list(security, "security.callable_countries") if "callable_countries" in security else [region]
    for i, code in enumerate(countries):
        v.expect(isinstance(code, str) and code in phonenumbers.SUPPORTED_REGIONS,
                 f"security.callable_countries[{i}]", f"{code!r} is not a two-letter country code such as US")
    v.expect(bool(countries), "security.callable_countries", "needs at least one country code")
    emergencies = v.integer(security, "security.emergencies_per_caller_per_hour", 3, 1, 100)
    burst = v.integer(security, "security.page_burst_seconds", 60, 0, 600)

    return Config(
        company_name=name, timezone=timezone, support_number=support_number, ticket_prefix=prefix,
        region=region, hours=hours, holidays=holidays, holiday_country=holiday_country,
        support_digit=digits["support_digit"], emergency_extension=extension,
        verification_digit=digits["verification_digit"], status_digit=digits["status_digit"],
        desk_numbers=desk_numbers, ring_seconds=ring_seconds, screen_calls=screen_calls,
        voicemail_max_seconds=max_seconds, voicemail_min_seconds=min_seconds, staff=staff,
        rotation=rotation, handoff_weekday=handoff_weekday, handoff_time=handoff_time, managers=managers,
        escalation=tuple(steps), escalation_repeat=repeat, delivery_deadline_minutes=deadline,
        callable_countries=frozenset(countries), emergencies_per_caller_per_hour=emergencies,
        page_burst_seconds=burst, source=source,
    )


class _Validator:
    """Small checks that each raise a :class:`ConfigError` naming the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, problem: str):
        raise ConfigError(key, problem, self.source)

    def expect(self, condition: bool, key: str, problem: str) -> None:
        if not condition:
            self.fail(key, problem)

    def known_keys(self, table: dict, allowed: set[str], prefix: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(prefix + key, "unknown key")

    def text(self, table: dict, key: str, default: str | None = None) -> str:
        value = table.get(key.rsplit(".", 1)[-1], default)
        self.expect(isinstance(value, str) and value.strip() != "", key, "must be a non-empty string")
        return value.strip()

    def list(self, table: dict, key: str) -> list:
        value = table.get(key.rsplit(".", 1)[-1], [])
        self.expect(isinstance(value, list), key, "must be a list")
        return value

    def integer(self, table: dict, key: str, default: int, low: int, high: int) -> int:
        value = table.get(key.rsplit(".", 1)[-1], default)
        self.expect(isinstance(value, int) and not isinstance(value, bool) and low <= value <= high, key,
                    f"must be a whole number from {low} to {high}")
        return value

    def choice(self, value, key: str, choices: tuple[str, ...]) -> str:
        self.expect(isinstance(value, str) and value in choices, key, f"must be one of {', '.join(choices)}")
        return value

    def boolean(self, table: dict, key: str, default: bool) -> bool:
        value = table.get(key.rsplit(".", 1)[-1], default)
        self.expect(isinstance(value, bool), key, "must be true or false")
        return value

    def zone(self, table: dict, key: str) -> ZoneInfo:
        name = self.text(table, key)
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder of zones
            self.fail(key, f"{name!r} is not an IANA time zone such as America/New_York")

    def phone(self, value, key: str) -> str:
        if not isinstance(value, str):
            self.fail(key, "must be a phone number in E.164 form, such as +12705550101")
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            self.fail(key, f"{value!r} is not a phone number in E.164 form, such as +12705550101")
        if not phonenumbers.is_valid_number(number):
            self.fail(key, f"{value!r} is not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def time_range(self, value, key: str) -> tuple[time, time]:
        match = re.fullmatch(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})", value) if isinstance(value, str) else None
        if not match:
            self.fail(key, f"{value!r} is not a time range like 09:00-17:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            self.fail(key, f"{value!r} has an impossible time")
        start, end = time(h1, m1), (time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2))
        self.expect(start < end, key, f"{value!r} closes before it opens")
        return start, end

    def dates(self, value, key: str) -> list[date]:
        self.expect(isinstance(value, list), key, "must be a list of dates like \"2026-12-25\"")
        days = []
        for item in value:
            if isinstance(item, date) and not isinstance(item, datetime):  # a TOML date: 2026-12-25
                days.append(item)
                continue
            try:
                if not isinstance(item, str):
                    raise ValueError(item)
                days.append(date.fromisoformat(item))
            except ValueError:
                self.fail(key, f"{item!r} is not a date like 2026-12-25")
        return days

    def staff_ids(self, value, key: str, staff: dict, once: bool = False) -> list[str]:
        """A list of staff ids; with ``once``, each at most once (a rotation may list a person twice)."""
        self.expect(isinstance(value, list), key, "must be a list of staff ids")
        for i, item in enumerate(value):
            self.expect(isinstance(item, str) and item in staff, key,
                        f"{item!r} is not a staff id defined in [[staff]]")
            self.expect(not once or item not in value[:i], key, f"{item!r} is listed twice")
        return value

    def handoff(self, value, key: str) -> tuple[int, time]:
        pattern = r"(mon|tue|wed|thu|fri|sat|sun) (\d{2}):(\d{2})"
        match = re.fullmatch(pattern, value) if isinstance(value, str) else None
        if not match or int(match.group(2)) > 23 or int(match.group(3)) > 59:
            self.fail(key, f"{value!r} is not a weekday and time like \"mon 09:00\"")
        return WEEKDAYS.index(match.group(1)), time(int(match.group(2)), int(match.group(3)))
