"""A bad configuration stops start-up with one line naming the key."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
