"""The TOML configuration, loaded and validated once at start-up.

Every key is checked before a request is served: a wrong phone number, time zone,
time range, staff id or an unknown key raises :class:`ConfigError` whose message is
one line naming the key, so an operator sees exactly what to fix.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLES = ("technician", "manager")
CHANNELS = ("sms", "voice")
LEVELS = ("primary", "secondary", "managers")
# The languages voice_prompts has a catalogue for; English is the company's, every other one a caller's.
LANGUAGES = ("en", "es")
EMERGENCY_MODES = ("voicemail", "ring_oncall")
# Twilio <Say> voice and language of each catalogue, unless [voices.<code>] says otherwise.
DEFAULT_VOICES = {"en": ("Polly.Joanna", "en-US"), "es": ("Polly.Lupe", "es-US")}
PRIORITIES = ("P1", "P2", "P3", "P4")
SLA_CLOCKS = ("24x7", "business")

_SECTIONS = {
    "company": {"name", "timezone", "support_number", "ticket_prefix"},
    "hours": set(WEEKDAYS) | {"holidays", "holiday_country"},
    "menu": {"support_digit", "emergency_extension", "verification_digit", "status_digit", "desk_digit",
             "languages"},
    "emergency": {"mode", "ring_seconds", "callback_minutes"},
    "voices": set(LANGUAGES),
    "voices.language": {"voice", "language"},
    "desk": {"numbers", "ring_seconds", "screen_calls"},
    "voicemail": {"max_seconds", "min_seconds"},
    "staff": {"id", "name", "mobile", "role"},
    "oncall": {"rotation", "handoff", "managers", "escalation", "repeat", "delivery_deadline_minutes"},
    "oncall.escalation": {"notify", "channel", "after_minutes"},
    "handoff": {"email_to", "email_from", "email_events", "webhooks", "recording_link_days"},
    "handoff.webhooks": {"url", "events", "secret_env", "format"},
    "sla": {"warn_at", *PRIORITIES},
    "sla.priority": {"name", "response", "resolution", "clock"},
    "followup": {"confirm_by_sms", "waiting_reminders", "reminder_every", "reopen_within", "survey", "digest_to"},
    "security": {"callable_countries", "emergencies_per_caller_per_hour", "page_burst_seconds"},
}
HANDOFF_EVENTS = ("ticket.created", "ticket.updated")
WEBHOOK_FORMATS = ("auto", "json", "slack", "teams")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[^@\s<>\"(),;:]+@{_LABEL}(?:\.{_LABEL})+")  # a plain address, no display name


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
class Webhook:
    url: str
    events: tuple[str, ...]
    secret_env: str | None  # the environment variable holding the HMAC key
    format: str  # json, slack or teams ("auto" in the file: told by the URL's host)


@dataclass(frozen=True)
class Handoff:
    """Where tickets go next: the MSP's PSA mailbox, chat channels, any HTTP endpoint."""

    email_to: tuple[str, ...] = ()
    email_from: str | None = None
    email_events: tuple[str, ...] = HANDOFF_EVENTS
    webhooks: tuple[Webhook, ...] = ()
    recording_link_days: int = 7

    @property
    def active(self) -> bool:
        return bool(self.email_to or self.webhooks)


@dataclass(frozen=True)
class SlaTarget:
    """A priority's promise: the first response and the resolution within these times, counted on
    ``clock`` (``24x7``, or ``business``: only the time inside [hours], holidays left out)."""

    priority: str
    name: str
    response: timedelta
    resolution: timedelta
    clock: str


@dataclass(frozen=True)
class Followup:
    """What callers are told, and when, while their ticket is worked (``[followup]``)."""

    confirm_by_sms: bool = False
    waiting_reminders: int = 3
    reminder_every: timedelta = timedelta(days=1)
    reopen_within: timedelta = timedelta(days=5)
    survey: bool = False
    digest_to: tuple[str, ...] | None = None  # staff ids; None: every staff member


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
    desk_digit: str = "0"
    languages: dict[str, str] = field(default_factory=dict)  # a caller's language -> its menu digit
    emergency_mode: str = "voicemail"
    emergency_ring_seconds: int = 20
    emergency_callback_minutes: int = 15
    voices: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(DEFAULT_VOICES))
    sla: dict[str, SlaTarget] = field(default_factory=dict)  # priority -> target; a priority left out has none
    sla_warn_at: float = 0.75
    followup: Followup = field(default_factory=Followup)
    # [security]: CALL dials only callers in these countries (ISO codes); P1s one number may open an hour.
    callable_countries: frozenset[str] = frozenset()
    emergencies_per_caller_per_hour: int = 3
    page_burst_seconds: int = 60  # an emergency SMS within this long of the last one waits for the digest
    source: str = field(default="config", compare=False)
    handoff: Handoff = field(default_factory=Handoff)

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
    v.known_keys(raw, set(_SECTIONS) - {"oncall.escalation", "handoff.webhooks", "voices.language",
                                        "sla.priority"}, "")
    for name in ("company", "hours", "menu", "desk", "voicemail", "oncall", "emergency", "voices", "sla",
                 "followup", "security"):
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
        for key, default in (("support_digit", "1"), ("verification_digit", "2"), ("status_digit", "3"),
                             ("desk_digit", "0"))
    }
    for key, value in digits.items():
        v.expect(re.fullmatch(r"[0-9]", value) is not None, f"menu.{key}", "must be a single digit 0-9")
    v.expect(len(set(digits.values())) == 4, "menu",
             "support_digit, verification_digit, status_digit and desk_digit must differ")
    extension = str(menu.get("emergency_extension", "501"))
    v.expect(re.fullmatch(r"[0-9]{2,6}", extension) is not None, "menu.emergency_extension",
             "must be 2 to 6 digits")
    languages_raw = menu.get("languages", {})
    v.expect(isinstance(languages_raw, dict), "menu.languages", "must be a table like es = \"9\"")
    languages = {}
    for code, digit in languages_raw.items():
        key = f"menu.languages.{code}"
        v.expect(code in LANGUAGES and code != "en", key,
                 f"no catalogue for {code!r}; callers may choose {', '.join(c for c in LANGUAGES if c != 'en')}")
        v.expect(isinstance(digit, str) and re.fullmatch(r"[0-9]", digit) is not None, key,
                 "must be a single digit 0-9, as a string")
        v.expect(digit not in digits.values() and digit not in languages.values(), key,
                 f"{digit!r} is already another option of the menu")
        languages[code] = digit

    emergency = raw.get("emergency", {})
    emergency_mode = v.choice(emergency.get("mode", "voicemail"), "emergency.mode", EMERGENCY_MODES)
    emergency_ring = v.integer(emergency, "emergency.ring_seconds", 20, 5, 60)
    emergency_callback = v.integer(emergency, "emergency.callback_minutes", 15, 1, 240)

    voices = dict(DEFAULT_VOICES)
    for code, entry in raw.get("voices", {}).items():
        where = f"voices.{code}"
        v.expect(isinstance(entry, dict), where, "must be a table with voice and language")
        v.known_keys(entry, _SECTIONS["voices.language"], where + ".")
        voice = v.text(entry, f"{where}.voice", default=voices[code][0])
        locale = v.text(entry, f"{where}.language", default=voices[code][1])
        v.expect(re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}", locale) is not None, f"{where}.language",
                 f"{locale!r} is not a language tag like {DEFAULT_VOICES[code][1]}")
        voices[code] = (voice, locale)

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
    handoff = _handoff(v, raw.get("handoff", {}))
    warn_at, sla = _sla(v, raw.get("sla", {}))
    followup = _followup(v, raw.get("followup", {}), staff)

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
        desk_digit=digits["desk_digit"], languages=languages, emergency_mode=emergency_mode,
        emergency_ring_seconds=emergency_ring, emergency_callback_minutes=emergency_callback, voices=voices,
        sla=sla, sla_warn_at=warn_at, followup=followup, callable_countries=frozenset(countries),
        emergencies_per_caller_per_hour=emergencies, page_burst_seconds=burst, source=source, handoff=handoff,
    )


def _sla(v: _Validator, section: dict) -> tuple[float, dict[str, SlaTarget]]:
    """``[sla]``: ``warn_at`` and a table per priority; a priority without one has no targets."""
    warn_at = section.get("warn_at", 0.75)
    v.expect(isinstance(warn_at, (int, float)) and not isinstance(warn_at, bool) and 0 < warn_at < 1,
             "sla.warn_at", "must be a number between 0 and 1, such as 0.75")
    targets = {}
    for priority in PRIORITIES:
        if priority not in section:
            continue
        where = f"sla.{priority}"
        table = section[priority]
        v.expect(isinstance(table, dict), where, "must be a table")
        v.known_keys(table, _SECTIONS["sla.priority"], where + ".")
        response = v.duration(table, f"{where}.response")
        resolution = v.duration(table, f"{where}.resolution")
        v.expect(resolution >= response, f"{where}.resolution", "must not be shorter than the response target")
        targets[priority] = SlaTarget(priority, v.text(table, f"{where}.name", default=priority), response,
                                      resolution, v.choice(table.get("clock", "24x7"), f"{where}.clock", SLA_CLOCKS))
    return float(warn_at), targets


def _followup(v: _Validator, section: dict, staff: dict) -> Followup:
    digest_to = section.get("digest_to")
    return Followup(
        confirm_by_sms=v.boolean(section, "followup.confirm_by_sms", False),
        waiting_reminders=v.integer(section, "followup.waiting_reminders", 3, 0, 10),
        reminder_every=v.duration(section, "followup.reminder_every", "1d"),
        reopen_within=v.duration(section, "followup.reopen_within", "5d"),
        survey=v.boolean(section, "followup.survey", False),
        digest_to=None if digest_to is None else tuple(v.staff_ids(digest_to, "followup.digest_to", staff, once=True)),
    )


def _chat_format(host: str) -> str:
    """A webhook's format told by its host: Slack's incoming webhooks, Microsoft Teams' workflows
    (Power Automate) and its older connectors; anything else gets the signed JSON event."""
    host = host.lower()
    if host in ("hooks.slack.com", "hooks.slack-gov.com"):
        return "slack"
    if host.endswith((".logic.azure.com", ".api.powerplatform.com", ".webhook.office.com")):
        return "teams"
    return "json"


def _handoff(v: _Validator, section) -> Handoff:
    v.expect(isinstance(section, dict), "handoff", "must be a table")
    v.known_keys(section, _SECTIONS["handoff"], "handoff.")
    email_to = tuple(v.email(item, f"handoff.email_to[{i}]")
                     for i, item in enumerate(v.list(section, "handoff.email_to")))
    email_from = section.get("email_from")
    if email_from is not None or email_to:
        v.expect(email_from is not None, "handoff.email_from", "is needed to send e-mails to handoff.email_to")
        email_from = v.email(email_from, "handoff.email_from")
    email_events = v.events(section.get("email_events", list(HANDOFF_EVENTS)), "handoff.email_events")
    hooks_raw = section.get("webhooks", [])
    v.expect(isinstance(hooks_raw, list), "handoff.webhooks", "must be an array of tables ([[handoff.webhooks]])")
    hooks = []
    for i, hook in enumerate(hooks_raw):
        where = f"handoff.webhooks[{i}]"
        v.expect(isinstance(hook, dict), where, "must be a table")
        v.known_keys(hook, _SECTIONS["handoff.webhooks"], where + ".")
        url = v.text(hook, f"{where}.url")
        parts = urlsplit(url)
        v.expect(parts.scheme in ("https", "http") and bool(parts.hostname) and not any(c.isspace() for c in url),
                 f"{where}.url", "must be an https:// (or http://) URL")
        v.expect(url not in (h.url for h in hooks), f"{where}.url", "is listed twice")
        events = v.events(hook.get("events", list(HANDOFF_EVENTS)), f"{where}.events")
        form = v.choice(hook.get("format", "auto"), f"{where}.format", WEBHOOK_FORMATS)
        form = _chat_format(parts.hostname) if form == "auto" else form
        secret_env = hook.get("secret_env")
        if secret_env is not None:
            v.expect(isinstance(secret_env, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", secret_env) is not None,
                     f"{where}.secret_env", "must be the name of an environment variable, such as WEBHOOK_SECRET")
        # A chat tool's URL is its own secret; any other receiver needs the signature to trust what it gets.
        v.expect(secret_env is not None or form != "json", f"{where}.secret_env",
                 "is needed: the environment variable holding the key the webhook is signed with")
        hooks.append(Webhook(url, events, secret_env, form))
    days = v.integer(section, "handoff.recording_link_days", 7, 1, 90)
    return Handoff(email_to=email_to, email_from=email_from, email_events=email_events, webhooks=tuple(hooks),
                   recording_link_days=days)


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

    def email(self, value, key: str) -> str:
        self.expect(isinstance(value, str) and _EMAIL.fullmatch(value.strip()) is not None, key,
                    f"{value!r} is not an e-mail address like help@psa.example.com")
        return value.strip()

    def events(self, value, key: str) -> tuple[str, ...]:
        self.expect(isinstance(value, list) and bool(value) and all(e in HANDOFF_EVENTS for e in value), key,
                    f"must be a list of {' and '.join(HANDOFF_EVENTS)}")
        return tuple(dict.fromkeys(value))

    def choice(self, value, key: str, choices: tuple[str, ...]) -> str:
        self.expect(isinstance(value, str) and value in choices, key, f"must be one of {', '.join(choices)}")
        return value

    def boolean(self, table: dict, key: str, default: bool) -> bool:
        value = table.get(key.rsplit(".", 1)[-1], default)
        self.expect(isinstance(value, bool), key, "must be true or false")
        return value

    def duration(self, table: dict, key: str, default: str | None = None) -> timedelta:
        """A positive length of time: "90s", "15m", "4h", "2d", or parts of them ("1h30m")."""
        value = table.get(key.rsplit(".", 1)[-1], default)
        parts = re.findall(r"(\d+)([smhd])", value) if isinstance(value, str) else []
        if not parts or "".join(n + u for n, u in parts) != value.replace(" ", ""):
            self.fail(key, f"{value!r} is not a length of time like \"90s\", \"15m\", \"4h\" or \"2d\"")
        seconds = sum(int(n) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in parts)
        self.expect(0 < seconds <= 366 * 86400, key, "must be longer than nothing and at most a year")
        return timedelta(seconds=seconds)

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
