"""Who is on call: weekly handoff in company time (across DST), overrides, `until`, API and CLI."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.config import parse_config
from dispatch.oncall import rotation
from dispatch.oncall.models import OncallOverride
from ivr.views import oncall_dict
from tests.support import BASE_CONFIG, config_with

NY = ZoneInfo("America/New_York")
CONFIG = parse_config(BASE_CONFIG)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def override(staff, start, end, id_=1):
    return OncallOverride(id=id_, staff_id=staff, starts_at=start.astimezone(timezone.utc),
                          ends_at=end.astimezone(timezone.utc))


def test_the_rotation_hands_off_weekly_at_the_handoff_time():
    before = rotation.on_call(CONFIG, [], ny(2026, 11, 23, 8, 59))
    after = rotation.on_call(CONFIG, [], ny(2026, 11, 23, 9, 0))
    week_later = rotation.on_call(CONFIG, [], ny(2026, 11, 30, 9, 0))
    assert before.primary.id != after.primary.id
    order = CONFIG.rotation
    assert order.index(after.primary.id) == (order.index(before.primary.id) + 1) % 3
    assert order.index(week_later.primary.id) == (order.index(after.primary.id) + 1) % 3
    assert before.until == ny(2026, 11, 23, 9, 0)
    assert after.until == ny(2026, 11, 30, 9, 0)


def test_secondary_is_the_next_in_rotation_and_managers_come_last():
    who = rotation.on_call(CONFIG, [], ny(2026, 11, 24, 3, 0))
    order = CONFIG.rotation
    assert who.secondary.id == order[(order.index(who.primary.id) + 1) % 3]
    assert [m.id for m in who.managers] == ["dave"]
    assert oncall_dict(who)["managers"] == [{"id": "dave", "name": "Dave Diaz", "mobile": "+12705550114",
                                          "role": "manager"}]


@pytest.mark.parametrize("monday", [
    (2026, 3, 9),    # the day after clocks go forward (EST -> EDT)
    (2026, 11, 2),   # the day after clocks go back (EDT -> EST)
])
def test_handoff_stays_at_nine_local_across_dst(monday):
    handoff = ny(*monday, 9, 0)
    assert rotation.last_handoff(CONFIG, handoff) == handoff
    assert rotation.last_handoff(CONFIG, handoff - timedelta(minutes=1)) == handoff - timedelta(days=7)
    # The week before the change is 167 or 169 real hours long, not 168.
    previous = rotation.last_handoff(CONFIG, handoff - timedelta(minutes=1))
    hours = (handoff - previous).total_seconds() / 3600
    assert hours == (167 if monday[1] == 3 else 169)
    assert rotation.on_call(CONFIG, [], handoff - timedelta(minutes=1)).until == handoff
    assert rotation.on_call(CONFIG, [], handoff - timedelta(minutes=1)).primary != \
        rotation.on_call(CONFIG, [], handoff).primary


def test_handoff_on_the_night_of_the_change_itself():
    config = parse_config(config_with(oncall={"handoff": "sun 01:30"}))
    # 2026-11-01 01:30 happens twice in New York; the handoff is the first one (EDT).
    handoff = rotation.next_handoff(config, ny(2026, 10, 31, 12, 0))
    assert handoff == datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)


def test_an_override_replaces_the_primary_only_while_it_lasts():
    base = rotation.on_call(CONFIG, [], ny(2026, 11, 24, 3, 0))
    stand_in = next(s for s in CONFIG.rotation if s not in (base.primary.id, base.secondary.id))
    cover = override(stand_in, ny(2026, 11, 24, 1, 0), ny(2026, 11, 24, 7, 0))
    during = rotation.on_call(CONFIG, [cover], ny(2026, 11, 24, 3, 0))
    assert during.primary.id == stand_in and during.override
    assert during.secondary.id == base.secondary.id
    assert during.until == ny(2026, 11, 24, 7, 0)
    before = rotation.on_call(CONFIG, [cover], ny(2026, 11, 24, 0, 0))
    assert before.primary.id == base.primary.id and before.until == ny(2026, 11, 24, 1, 0)
    after = rotation.on_call(CONFIG, [cover], ny(2026, 11, 24, 7, 0))
    assert after.primary.id == base.primary.id and not after.override


def test_overriding_with_the_secondary_makes_the_scheduled_primary_secondary():
    base = rotation.on_call(CONFIG, [], ny(2026, 11, 24, 3, 0))
    cover = override(base.secondary.id, ny(2026, 11, 24, 1, 0), ny(2026, 11, 24, 7, 0))
    during = rotation.on_call(CONFIG, [cover], ny(2026, 11, 24, 3, 0))
    assert (during.primary.id, during.secondary.id) == (base.secondary.id, base.primary.id)


def test_the_newest_overlapping_override_wins():
    first = override("carol", ny(2026, 11, 24, 0, 0), ny(2026, 11, 25, 0, 0), id_=1)
    second = override("dave", ny(2026, 11, 24, 2, 0), ny(2026, 11, 24, 4, 0), id_=2)
    assert rotation.on_call(CONFIG, [first, second], ny(2026, 11, 24, 3, 0)).primary.id == "dave"
    assert rotation.on_call(CONFIG, [first, second], ny(2026, 11, 24, 5, 0)).primary.id == "carol"

    # "until" is when the answer changes: not when the hidden override begins or ends.
    newer = override("dave", ny(2026, 11, 24, 17, 0), ny(2026, 11, 25, 9, 0), id_=3)
    older = override("carol", ny(2026, 11, 24, 18, 0), ny(2026, 11, 25, 8, 0), id_=2)
    assert rotation.on_call(CONFIG, [older, newer], ny(2026, 11, 24, 17, 30)).until == ny(2026, 11, 25, 9, 0)


def test_an_override_for_years_leaves_until_at_the_next_handoff():
    """``until`` looks a year ahead at most: an override to 9999 (the CLI takes any date) made every
    lookup, every step's among them, walk every week to its end (this test then outran its timeout)."""
    config = parse_config(config_with(oncall={"rotation": ["alice"]}))  # nothing changes at handoffs
    forever = override("dave", ny(2026, 11, 1, 0, 0), datetime(9999, 1, 1, tzinfo=timezone.utc))
    who = rotation.on_call(config, [forever], ny(2026, 12, 2, 12, 0))
    assert who.primary.id == "dave" and who.until == ny(2026, 12, 7, 9, 0)


def test_a_person_twice_in_the_rotation_is_followed_by_whoever_comes_next_that_week():
    config = parse_config(config_with(oncall={"rotation": ["alice", "bob", "alice", "carol"]}))
    weeks = [rotation.on_call(config, [], ny(2026, 11, 24, 3, 0) + timedelta(weeks=n)) for n in range(4)]
    pairs = [(w.primary.id, w.secondary.id) for w in weeks]
    start = pairs.index(("carol", "alice"))
    assert (pairs * 2)[start:start + 4] == [("carol", "alice"), ("alice", "bob"), ("bob", "alice"),
                                            ("alice", "carol")]


def test_one_person_rotation_has_no_secondary():
    config = parse_config(config_with(oncall={"rotation": ["alice"]}))
    who = rotation.on_call(config, [], ny(2026, 11, 24, 3, 0))
    assert who.primary.id == "alice" and who.secondary is None


@pytest.mark.postgres  # overrides stored in the database
def test_api_oncall_now_and_at(stack):
    response = stack.api("/api/oncall")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"primary", "secondary", "managers", "until"}
    assert body["until"] == ny(2026, 11, 30, 9, 0).isoformat()
    later = stack.api("/api/oncall?at=2026-12-01T03:00:00-05:00").get_json()
    assert later["primary"]["id"] != body["primary"]["id"]
    assert later["until"] == ny(2026, 12, 7, 9, 0).isoformat()
    assert stack.api("/api/oncall?at=yesterday").status_code == 400
    assert stack.client.get("/api/oncall").status_code == 401


@pytest.mark.postgres  # overrides stored in the database
def test_cli_override_is_stored_and_shown_by_who_and_the_api(stack):
    runner = stack.app.test_cli_runner()
    before = stack.api("/api/oncall").get_json()
    stand_in = next(s for s in ("alice", "bob", "carol")
                    if s not in (before["primary"]["id"], before["secondary"]["id"]))
    result = runner.invoke(args=["oncall", "override", stand_in, "--from", "2026-11-24T09:00",
                                 "--to", "2026-11-24T18:00"])
    assert result.exit_code == 0, result.output
    assert "primary on-call from Tue 2026-11-24 09:00 EST to Tue 2026-11-24 18:00 EST" in result.output
    now = stack.api("/api/oncall").get_json()
    assert now["primary"]["id"] == stand_in
    assert now["until"] == ny(2026, 11, 24, 18, 0).isoformat()
    who = runner.invoke(args=["oncall", "who"])
    assert who.exit_code == 0 and "[override]" in who.output
    assert stack.config.staff[stand_in].name in who.output.splitlines()[1]
    later = runner.invoke(args=["oncall", "who", "--at", "2026-11-24T19:00"])
    assert stack.config.staff[before["primary"]["id"]].name in later.output.splitlines()[1]


@pytest.mark.postgres
@pytest.mark.parametrize("args, complaint", [
    (["zed", "--from", "2026-11-24T09:00", "--to", "2026-11-24T18:00"], "not a staff id"),
    (["bob", "--from", "2026-11-24T18:00", "--to", "2026-11-24T09:00"], "must be after --from"),
    (["bob", "--from", "soon", "--to", "2026-11-24T09:00"], "ISO 8601"),
    (["bob", "--from", "2026-11-20T09:00", "--to", "2026-11-21T09:00"], "in the past"),
])
def test_cli_override_refuses_bad_input(stack, args, complaint):
    result = stack.app.test_cli_runner().invoke(args=["oncall", "override", *args])
    assert result.exit_code != 0 and complaint in result.output
    assert stack.api("/api/oncall").get_json()["until"] == ny(2026, 11, 30, 9, 0).isoformat()
