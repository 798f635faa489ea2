"""Service-level clocks and targets as pure rules, without a stack or a process: 24x7 and business
clocks across a weekend, a holiday and both daylight-saving changes; when warnings and breaches fall."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from core.config import ConfigError, parse_config
from dispatch.sla import clock, targets
from dispatch.sla.targets import BREACH, RESOLUTION, RESPONSE, WARNING
from tests.support import NY, config_with

SLA = {"warn_at": 0.75,
       "P1": {"name": "Critical", "response": "1h", "resolution": "4h", "clock": "24x7"},
       "P2": {"name": "High", "response": "4h", "resolution": "8h", "clock": "24x7"},
       "P3": {"name": "Medium", "response": "16h", "resolution": "24h", "clock": "business"},
       "P4": {"name": "Low", "response": "16h", "resolution": "32h", "clock": "business"}}
CONFIG = parse_config(config_with(sla=SLA))  # Mon-Fri 09:00-17:00, closed 2026-12-25 and 2027-01-01
HOURS = timedelta(hours=1)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def business(start: datetime, hours: float, config=CONFIG) -> datetime:
    return clock.add(config, clock.BUSINESS, start, timedelta(hours=hours))


# -- the 24x7 clock -------------------------------------------------------------------------------

def test_a_24x7_clock_counts_the_weekend():
    friday = ny(2026, 11, 27, 16, 0)
    assert clock.add(CONFIG, clock.TWENTY_FOUR_SEVEN, friday, 4 * HOURS) == ny(2026, 11, 27, 20, 0)
    assert clock.elapsed(CONFIG, clock.TWENTY_FOUR_SEVEN, friday, ny(2026, 11, 30, 10, 0)) == 66 * HOURS


def test_a_24x7_clock_counts_real_hours_across_the_night_the_clocks_go_back():
    start = ny(2026, 10, 31, 23, 0)  # EDT; at 02:00 on Nov 1 the clocks go back to 01:00 EST
    due = clock.add(CONFIG, clock.TWENTY_FOUR_SEVEN, start, 4 * HOURS)
    assert due - start == 4 * HOURS
    local = due.astimezone(NY)
    assert (local.hour, local.utcoffset()) == (2, timedelta(hours=-5))  # the wall clock moved only three hours


# -- the business clock ---------------------------------------------------------------------------

def test_a_business_clock_stops_over_the_weekend():
    assert business(ny(2026, 11, 27, 15, 0), 16) == ny(2026, 12, 1, 15, 0)  # Fri 2 h, Mon 8 h, Tue 6 h
    assert clock.elapsed(CONFIG, clock.BUSINESS, ny(2026, 11, 27, 15, 0), ny(2026, 12, 1, 15, 0)) == 16 * HOURS


def test_a_business_clock_starts_at_the_next_opening_when_the_ticket_comes_at_night():
    assert business(ny(2026, 11, 24, 3, 0), 1) == ny(2026, 11, 24, 10, 0)
    assert business(ny(2026, 11, 28, 12, 0), 0.5) == ny(2026, 11, 30, 9, 30)  # a Saturday


def test_a_business_clock_skips_a_holiday():
    # Thursday 1 h, Christmas (Friday) and the weekend closed, Monday from 09:00
    assert business(ny(2026, 12, 24, 16, 0), 4) == ny(2026, 12, 28, 12, 0)
    assert clock.elapsed(CONFIG, clock.BUSINESS, ny(2026, 12, 24, 0, 0), ny(2026, 12, 29, 0, 0)) == 16 * HOURS


def test_a_business_clock_skips_a_countrys_public_holiday():
    config = parse_config(config_with(sla=SLA, hours={"holiday_country": "US"}))
    assert business(ny(2026, 11, 25, 16, 0), 2, config) == ny(2026, 11, 27, 10, 0)  # Thanksgiving is closed


@pytest.mark.parametrize("friday, monday, utc_hour", [
    (ny(2026, 10, 30, 16, 0), ny(2026, 11, 2, 10, 0), 15),  # back to EST over the weekend
    (ny(2027, 3, 12, 16, 0), ny(2027, 3, 15, 10, 0), 14),  # forward to EDT over the weekend
])
def test_a_business_clock_opens_at_nine_local_after_a_daylight_saving_change(friday, monday, utc_hour):
    due = business(friday, 2)
    assert due == monday and due.astimezone(timezone.utc).hour == utc_hour


def test_a_business_day_that_changes_its_clocks_counts_its_real_length():
    config = parse_config(config_with(sla=SLA, hours={"sun": "00:00-24:00"}))
    fall_back, spring_forward = ny(2026, 11, 1, 0, 0), ny(2027, 3, 14, 0, 0)  # Sundays, open all day
    assert clock.elapsed(config, clock.BUSINESS, fall_back, ny(2026, 11, 2, 0, 0)) == 25 * HOURS
    assert clock.elapsed(config, clock.BUSINESS, spring_forward, ny(2027, 3, 15, 0, 0)) == 23 * HOURS
    due = clock.add(config, clock.BUSINESS, fall_back, 24 * HOURS)
    assert due - fall_back == 24 * HOURS and due.astimezone(NY).hour == 23  # 23:00 EST, still Sunday


def test_adding_then_measuring_gives_the_length_back():
    start = ny(2026, 12, 23, 11, 17)
    for hours in (0.25, 3, 8, 16, 24, 32, 100):
        due = business(start, hours)
        assert clock.elapsed(CONFIG, clock.BUSINESS, start, due) == timedelta(hours=hours)


def test_a_business_clock_without_hours_never_falls_due():
    config = parse_config(config_with(sla=SLA, hours={}, replace=True))
    assert business(ny(2026, 11, 24, 10, 0), 1, config) is None
    assert not clock.runs_now(config, clock.BUSINESS, ny(2026, 11, 24, 10, 0))


# -- targets ----------------------------------------------------------------------------------------

@dataclass
class T:
    """A ticket's fields the rules read."""

    priority: str
    created_at: datetime
    kind: str = "voicemail"
    status: str = "new"
    responded_at: datetime | None = None
    resolved_at: datetime | None = None
    pauses: list = field(default_factory=list)
    sla_alerts: int = 0
    response_due: datetime | None = None
    resolution_due: datetime | None = None
    sla_next_at: datetime | None = None


def test_a_p3_left_friday_afternoon_is_due_tuesday_and_warned_monday():
    ticket = T("P3", ny(2026, 11, 27, 15, 0))
    targets.refresh(CONFIG, ticket)
    assert ticket.response_due == ny(2026, 12, 1, 15, 0)  # 16 business hours
    assert ticket.resolution_due == ny(2026, 12, 2, 15, 0)  # 24 business hours
    assert ticket.sla_next_at == ny(2026, 12, 1, 11, 0)  # 75 % of 16 h: Fri 2 h, Mon 8 h, Tue 2 h


def test_a_p1_is_warned_at_three_quarters_of_its_hour_then_breached():
    created = ny(2026, 11, 28, 3, 0)  # a Saturday night: the 24x7 clock runs
    ticket = T("P1", created)
    targets.refresh(CONFIG, ticket)
    assert (ticket.response_due, ticket.resolution_due) == (created + HOURS, created + 4 * HOURS)
    assert ticket.sla_next_at == created + timedelta(minutes=45)
    assert targets.owed(CONFIG, ticket, created + timedelta(minutes=44)) == ([], 0)
    [warning], bits = targets.owed(CONFIG, ticket, created + timedelta(minutes=45))
    assert (warning.target, warning.stage) == (RESPONSE, WARNING)
    ticket.sla_alerts = bits
    targets.refresh(CONFIG, ticket)
    assert ticket.sla_next_at == created + HOURS
    [breach], bits = targets.owed(CONFIG, ticket, created + HOURS)
    assert (breach.target, breach.stage, bits) == (RESPONSE, BREACH, targets.BITS[(RESPONSE, BREACH)])


def test_a_warning_is_passed_over_when_its_breach_has_come_too():
    created = ny(2026, 11, 28, 3, 0)
    ticket = T("P1", created)
    send, bits = targets.owed(CONFIG, ticket, created + 3 * HOURS)  # no worker looked for three hours
    assert [(a.target, a.stage) for a in send] == [(RESPONSE, BREACH), (RESOLUTION, WARNING)]
    assert bits == targets.BITS[(RESPONSE, WARNING)] | targets.BITS[(RESPONSE, BREACH)] | targets.BITS[
        (RESOLUTION, WARNING)]


def test_a_met_response_and_a_resolved_ticket_owe_nothing():
    created = ny(2026, 11, 28, 3, 0)
    ticket = T("P1", created, status="acknowledged", responded_at=created + timedelta(minutes=10))
    targets.refresh(CONFIG, ticket)
    assert ticket.response_due is None and ticket.resolution_due == created + 4 * HOURS
    assert [a.target for a in targets.alerts(CONFIG, ticket)] == [RESOLUTION, RESOLUTION]
    ticket.status, ticket.resolved_at = "resolved", created + HOURS
    targets.refresh(CONFIG, ticket)
    assert (ticket.response_due, ticket.resolution_due, ticket.sla_next_at) == (None, None, None)
    assert targets.owed(CONFIG, ticket, created + 10 * HOURS) == ([], 0)


def test_a_wait_on_the_caller_stops_the_resolution_clock_and_adds_its_length():
    created = ny(2026, 11, 28, 3, 0)
    waited = [(created + HOURS).isoformat(), (created + 3 * HOURS).isoformat()]
    ticket = T("P1", created, status="waiting", responded_at=created, pauses=[[waited[0], None]])
    targets.refresh(CONFIG, ticket)
    assert ticket.resolution_due is None and ticket.sla_next_at is None  # no clock runs while waiting
    ticket.status, ticket.pauses = "acknowledged", [waited]
    targets.refresh(CONFIG, ticket)
    assert ticket.resolution_due == created + 6 * HOURS


def test_a_wait_counts_on_the_tickets_own_clock():
    created = ny(2026, 11, 27, 9, 0)  # Friday
    waited = [ny(2026, 11, 27, 16, 0).isoformat(), ny(2026, 11, 30, 10, 0).isoformat()]  # until Monday 10:00
    ticket = T("P3", created, status="acknowledged", responded_at=created, pauses=[waited])
    targets.refresh(CONFIG, ticket)
    # 24 business hours plus the 2 business hours the wait took: Fri 8 h, Mon 8 h, Tue 8 h, Wed 2 h
    assert ticket.resolution_due == ny(2026, 12, 2, 11, 0)


def test_a_new_priority_recomputes_from_the_creation():
    created = ny(2026, 11, 24, 10, 0)  # a Tuesday
    ticket = T("P3", created)
    targets.refresh(CONFIG, ticket)
    assert ticket.response_due == ny(2026, 11, 26, 10, 0)  # Tue 7 h, Wed 8 h, Thu 1 h
    ticket.priority = "P2"
    targets.refresh(CONFIG, ticket)
    assert (ticket.response_due, ticket.resolution_due) == (created + 4 * HOURS, created + 8 * HOURS)


def test_a_priority_without_a_target_and_a_verification_call_have_no_clock():
    config = parse_config(config_with(sla={"P1": SLA["P1"]}))
    for ticket in (T("P3", ny(2026, 11, 24, 10, 0)), T("P1", ny(2026, 11, 24, 10, 0), kind="verification")):
        targets.refresh(config, ticket)
        assert (ticket.response_due, ticket.resolution_due, ticket.sla_next_at) == (None, None, None)


# -- the configuration ----------------------------------------------------------------------------

def test_durations_and_defaults():
    assert CONFIG.sla["P3"].response == 16 * HOURS and CONFIG.sla["P1"].clock == "24x7"
    config = parse_config(config_with(sla={"P2": {"response": "1h30m", "resolution": "2d"}},
                                      followup={"reminder_every": "90s"}))
    assert config.sla["P2"].response == 90 * timedelta(minutes=1) and config.sla["P2"].resolution == 48 * HOURS
    assert config.sla["P2"].name == "P2" and config.sla["P2"].clock == "24x7"
    assert config.followup.reminder_every == timedelta(seconds=90)
    assert config.followup.reopen_within == timedelta(days=5) and config.followup.waiting_reminders == 3
    assert parse_config(config_with()).sla == {}  # no [sla]: no targets


@pytest.mark.parametrize("patch, key", [
    ({"sla": {"warn_at": 1.5}}, "sla.warn_at"),
    ({"sla": {"P5": {"response": "1h"}}}, "sla.P5"),
    ({"sla": {"P1": {"response": "soon", "resolution": "4h"}}}, "sla.P1.response"),
    ({"sla": {"P1": {"response": "0h", "resolution": "4h"}}}, "sla.P1.response"),
    ({"sla": {"P1": {"response": "4h", "resolution": "1h"}}}, "sla.P1.resolution"),
    ({"sla": {"P1": {"response": "1h", "resolution": "4h", "clock": "office"}}}, "sla.P1.clock"),
    ({"sla": {"P1": {"response": "1h", "resolution": "4h", "colour": "red"}}}, "sla.P1.colour"),
    ({"followup": {"reminder_every": "daily"}}, "followup.reminder_every"),
    ({"followup": {"waiting_reminders": 99}}, "followup.waiting_reminders"),
    ({"followup": {"survey": "yes"}}, "followup.survey"),
    ({"followup": {"digest_to": ["zed"]}}, "followup.digest_to"),
    ({"followup": {"remind": True}}, "followup.remind"),
])
def test_a_bad_sla_or_followup_key_is_named(patch, key):
    with pytest.raises(ConfigError) as raised:
        parse_config(config_with(**patch), "config.toml")
    assert str(raised.value).startswith(f"config.toml: {key}:"), str(raised.value)
