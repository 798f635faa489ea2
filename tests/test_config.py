"""A bad configuration stops start-up with one line naming the key."""
import os
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import ConfigError, load_config, parse_config
from tests.support import BASE_CONFIG, config_with, toml_dumps

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_example_is_valid():
    config = load_config(ROOT / "config.example.toml")
    assert config.support_number == "+12702054709" and config.emergency_extension == "501"
    assert len(config.escalation) == 4


@pytest.mark.parametrize("patch, key", [
    ({"company": {"support_number": "12702054709x"}}, "company.support_number"),
    ({"company": {"timezone": "Mars/Olympus"}}, "company.timezone"),
    ({"hours": {"mon": "9-5"}}, "hours.mon"),
    ({"hours": {"tue": "17:00-09:00"}}, "hours.tue"),
    ({"hours": {"holidays": ["2026-13-40"]}}, "hours.holidays"),
    ({"desk": {"numbers": ["+1555"]}}, "desk.numbers[0]"),
    ({"desk": {"colour": "red"}}, "desk.colour"),
    ({"menu": {"emergency_extension": "5x1"}}, "menu.emergency_extension"),
    ({"oncall": {"rotation": ["alice", "zed"]}}, "oncall.rotation"),
    ({"oncall": {"managers": ["nobody"]}}, "oncall.managers"),
    ({"oncall": {"managers": ["dave", "dave"]}}, "oncall.managers"),  # would page dave twice a step
    ({"oncall": {"handoff": "someday 9"}}, "oncall.handoff"),
    ({"greeting": {"text": "hi"}}, "greeting"),
])
def test_a_bad_key_is_named(patch, key):
    with pytest.raises(ConfigError) as raised:
        parse_config(config_with(**patch), "config.toml")
    message = str(raised.value)
    assert message.startswith(f"config.toml: {key}:"), message
    assert "\n" not in message


def test_an_escalation_step_naming_an_unknown_staff_id_is_named():
    config = config_with()
    config["oncall"]["escalation"][1]["notify"] = "zed"
    with pytest.raises(ConfigError, match=r"oncall.escalation\[1\].notify"):
        parse_config(config)


def test_a_bad_staff_mobile_is_named():
    config = config_with()
    config["staff"][2]["mobile"] = "call me"
    with pytest.raises(ConfigError, match=r"staff\[2\].mobile"):
        parse_config(config)


@pytest.mark.parametrize("entry", ["wsgi", "worker", "check"])
def test_start_up_stops_with_one_line_naming_the_key(tmp_path, entry):
    bad = dict(BASE_CONFIG, company=dict(BASE_CONFIG["company"], timezone="Nowhere/Land"))
    path = tmp_path / "config.toml"
    path.write_text(toml_dumps(bad))
    env = {**os.environ, "IVR_CONFIG": str(path), "IVR_DATA_DIR": str(tmp_path / "var")}
    command = {"wsgi": [sys.executable, "-c", "import wsgi"],
               "worker": [sys.executable, "-m", "dispatch.worker", "--burst"],
               "check": [sys.executable, "-m", "core.check"]}[entry]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["configuration error: config.toml: company.timezone: 'Nowhere/Land' is not an IANA time "
                     "zone such as America/New_York"]


def test_a_toml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[company\nname = 1")
    with pytest.raises(ConfigError, match="config.toml: syntax:"):
        load_config(path)


# -- wrong types, key by key ------------------------------------------------------------------
# Each key and the kind of value it takes; every other kind must be refused with one line naming
# the key (never a TypeError or another traceback).
TABLE, STAFF_LIST, STEPS, TEXT, DIGIT, INT, BOOL, TEXTS, DATES = (
    "table", "staff", "steps", "text", "digit", "int", "bool", "texts", "dates")
KEY_KINDS = {
    "company": TABLE, "hours": TABLE, "menu": TABLE, "desk": TABLE, "voicemail": TABLE, "oncall": TABLE,
    "staff": STAFF_LIST, "oncall.escalation": STEPS, "staff[1]": TABLE, "oncall.escalation[1]": TABLE,
    "company.name": TEXT, "company.timezone": TEXT, "company.support_number": TEXT,
    "company.ticket_prefix": TEXT,
    **{f"hours.{day}": TEXT for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "hours.holidays": DATES, "hours.holiday_country": TEXT,
    "menu.support_digit": DIGIT, "menu.verification_digit": DIGIT, "menu.status_digit": DIGIT,
    "menu.emergency_extension": DIGIT,
    "desk.numbers": TEXTS, "desk.ring_seconds": INT, "desk.screen_calls": BOOL,
    "voicemail.max_seconds": INT, "voicemail.min_seconds": INT,
    "staff[1].id": TEXT, "staff[1].name": TEXT, "staff[1].mobile": TEXT, "staff[1].role": TEXT,
    "oncall.rotation": TEXTS, "oncall.handoff": TEXT, "oncall.managers": TEXTS, "oncall.repeat": INT,
    "oncall.delivery_deadline_minutes": INT,
    "oncall.escalation[1].notify": TEXT, "oncall.escalation[1].channel": TEXT,
    "oncall.escalation[1].after_minutes": INT,
}


def is_a(kind: str, value) -> bool:
    """Whether ``value`` is of the kind a key takes (right or wrong in content)."""
    def text(v):
        return isinstance(v, str)

    def day(v):
        return isinstance(v, str) or (isinstance(v, date) and not isinstance(v, datetime))

    def whole(v):
        return isinstance(v, int) and not isinstance(v, bool)

    return {TABLE: lambda v: isinstance(v, dict),
            STAFF_LIST: lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
            STEPS: lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
            TEXT: text, DIGIT: lambda v: text(v) or whole(v), INT: whole, BOOL: lambda v: isinstance(v, bool),
            TEXTS: lambda v: isinstance(v, list) and all(text(x) for x in v),
            DATES: lambda v: isinstance(v, list) and all(day(x) for x in v)}[kind](value)


def with_value(key: str, value) -> dict:
    """BASE_CONFIG with the value at the dotted ``key`` (``staff[1].id``) replaced."""
    config = config_with()
    *path, last = re.findall(r"[a-z_]+|\[\d+\]", key)
    node = config
    for part in path:
        node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value
    return config


# Every kind of value TOML can hold: strings, integers, floats, booleans, dates and times, arrays, tables.
TOML_SCALARS = (st.text(max_size=12) | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.dates()
                | st.datetimes() | st.times())
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_value_of_the_wrong_type_is_refused_with_one_line_naming_its_key(data):
    key = data.draw(st.sampled_from(sorted(KEY_KINDS)), label="key")
    value = data.draw(TOML_VALUES.filter(lambda v: not is_a(KEY_KINDS[key], v)), label="value")
    with pytest.raises(ConfigError) as raised:
        parse_config(with_value(key, value), "config.toml")
    message = str(raised.value)
    assert message.startswith(f"config.toml: {key}"), message
    assert "\n" not in message


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_any_value_at_any_key_is_accepted_or_refused_with_one_line(data):
    key = data.draw(st.sampled_from(sorted(KEY_KINDS)), label="key")
    value = data.draw(TOML_VALUES, label="value")
    try:
        parse_config(with_value(key, value), "config.toml")
    except ConfigError as exc:
        assert str(exc).startswith("config.toml: ") and "\n" not in str(exc)


@pytest.mark.parametrize("key, value", [
    ("oncall.rotation", [["alice"]]),
    ("oncall.managers", [{"id": "dave"}]),
    ("oncall.escalation[0].notify", ["primary"]),
    ("oncall.escalation[0].channel", ["sms"]),
    ("hours.holiday_country", ["US"]),
    ("hours.holidays", ["2026-12-25", 20261226]),
    ("hours.holidays", [datetime(2026, 12, 25, 0, 0)]),
    ("desk.numbers", "+12705550101"),
    ("staff[0].role", ["technician"]),
    ("company.timezone", "America"),
])
def test_known_crashes_are_one_line(key, value):
    with pytest.raises(ConfigError) as raised:
        parse_config(with_value(key, value), "config.toml")
    assert str(raised.value).startswith(f"config.toml: {key}:"), str(raised.value)


def test_a_key_with_a_newline_is_named_on_one_line():
    config = config_with()
    config["company"]["bad\nkey"] = 1
    with pytest.raises(ConfigError) as raised:
        parse_config(config, "config.toml")
    assert str(raised.value) == "config.toml: company.bad\\nkey: unknown key"
