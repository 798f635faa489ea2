"""Pure rules of time, without a stack or a process: business hours and the escalation policy's timing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core import hours
from core.config import parse_config
from dispatch.escalation import policy
from dispatch.escalation.models import Escalation
from tests.support import NY, config_with

CONFIG = parse_config(config_with())


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize("at, open_", [
    (ny(2026, 11, 24, 8, 59), False), (ny(2026, 11, 24, 9, 0), True), (ny(2026, 11, 24, 16, 59), True),
    (ny(2026, 11, 24, 17, 0), False), (ny(2026, 11, 28, 12, 0), False),  # a Saturday
    (ny(2026, 12, 25, 12, 0), False),  # a holiday on a Friday
])
def test_the_desk_is_open_inside_its_hours_on_working_days(at, open_):
    assert hours.is_open(CONFIG, at) is open_


def test_the_next_opening_skips_the_weekend_and_holidays():
    assert hours.next_opening(CONFIG, ny(2026, 11, 27, 18, 0)) == ny(2026, 11, 30, 9, 0)  # Friday evening
    assert hours.next_opening(CONFIG, ny(2026, 12, 24, 18, 0)) == ny(2026, 12, 28, 9, 0)  # Christmas Eve


def test_opening_time_stays_at_nine_local_across_both_daylight_saving_changes():
    after_fall_back = hours.next_opening(CONFIG, ny(2026, 10, 31, 12, 0))
    after_spring_forward = hours.next_opening(CONFIG, ny(2027, 3, 13, 12, 0))
    assert after_fall_back.astimezone(timezone.utc).hour == 14  # 09:00 EST
    assert after_spring_forward.astimezone(timezone.utc).hour == 13  # 09:00 EDT
    assert after_fall_back.astimezone(NY).hour == after_spring_forward.astimezone(NY).hour == 9


def test_each_step_is_due_its_minutes_after_the_round_began_and_rounds_repeat():
    start = ny(2026, 11, 24, 3, 0)
    # steps at 0, 5, 10, 20 minutes; a round lasts 20 + 10 (the last gap) = 30 minutes
    assert policy.round_minutes(CONFIG) == 30
    assert [policy.due_at(CONFIG, start, p) for p in range(4)] == [start + timedelta(minutes=m) for m in (0, 5, 10, 20)]
    assert policy.due_at(CONFIG, start, 4) == start + timedelta(minutes=30)  # round 2, step 1
    last = policy.final_position(CONFIG)
    assert last == 8 and policy.due_at(CONFIG, start, last) == start + timedelta(minutes=60)


def test_steps_all_at_once_leave_five_minutes_between_rounds():
    config = parse_config(config_with(oncall={"escalation": [{"notify": "primary", "channel": "sms"},
                                                             {"notify": "managers", "channel": "sms"}]}))
    assert policy.round_minutes(config) == policy.ALL_AT_ONCE_GAP_MINUTES


def test_a_reopened_policy_goes_on_from_now_not_from_its_old_schedule():
    start = ny(2026, 11, 24, 3, 0)
    stopped = Escalation(ticket_id=1, started_at=start, next_position=2, next_due_at=None,
                         finished_at=start + timedelta(minutes=6), outcome="acknowledged")
    later = start + timedelta(hours=2)
    policy.reopen(CONFIG, stopped, later)
    # the step before (5 min) "just ran": the next (10 min) comes 5 minutes from now
    assert stopped.next_due_at == later + timedelta(minutes=5)
    assert stopped.finished_at is None and stopped.outcome is None
