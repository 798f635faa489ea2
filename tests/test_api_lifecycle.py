"""The lifecycle's JSON API and commands: PATCH a ticket, the call-back list and its morning digest, the
call log, and clients' contracts (the after-hours voicemail of a client that pays for it pages)."""
from datetime import datetime

import pytest

from tests.dispatch_support import ALICE, BOB, DAVE, events, on_call, settle
from tests.lifecycle_support import LIFECYCLE_CONFIG, housekeeping, text, texts_to, tick, voicemail, worked_stack
from tests.support import CLIENT_PHONE, NY, config_with
from tests.verification_helpers import ANN, GIL


@pytest.fixture
def worked(tmp_path, redis_url, database_url):
    yield from worked_stack(tmp_path, redis_url, database_url)


def patch(stack, number: str, **body):
    return stack.api(f"/api/tickets/{number}", method="PATCH", json=body)


def digests(stack, number: str) -> list[str]:
    """The morning digests ``number`` got (service-level notices aside)."""
    return [t for t in texts_to(stack, number) if t.startswith("Good morning")]


@pytest.mark.postgres  # what several workers or web processes rely on, on PostgreSQL too
def test_patch_sets_priority_owner_and_note_then_status(worked):
    voicemail(worked)  # Tuesday 10:00, P3
    changed = patch(worked, "CS-000001", priority="P2", owner="bob", note="Rang once, voicemail.")
    assert changed.status_code == 200, changed.get_data(as_text=True)
    ticket = changed.get_json()
    assert (ticket["priority"], ticket["owner"], ticket["status"]) == ("P2", "bob", "new")
    assert datetime.fromisoformat(ticket["response_due"]) == datetime(2026, 11, 24, 14, 0, tzinfo=NY)
    assert events(ticket, "note")[0]["text"] == "Rang once, voicemail."
    assert (events(ticket, "owner")[0]["after"], events(ticket, "priority")[0]["via"]) == ("bob", "api")

    waiting = patch(worked, "CS-000001", status="waiting").get_json()
    assert waiting["status"] == "waiting" and waiting["resolution_due"] is None
    assert waiting["responded_at"] is not None and waiting["response_due"] is None  # a status change responds
    settle(worked)
    assert texts_to(worked, CLIENT_PHONE)[-1].startswith("SmartPath Technologies: we are waiting for your reply")
    assert patch(worked, "CS-000001", status="waiting").status_code == 200  # as it is: nothing changes
    assert patch(worked, "CS-000001", status="acknowledged").get_json()["status"] == "acknowledged"
    assert patch(worked, "CS-000001", status="resolved").get_json()["status"] == "resolved"
    refused = patch(worked, "CS-000001", status="waiting")
    assert refused.status_code == 409 and refused.get_json()["error"].startswith("status:")
    assert patch(worked, "CS-000001", owner=None).get_json()["owner"] is None
    tick(worked, days=5)
    assert patch(worked, "CS-000001", owner="alice").status_code == 409  # closed
    assert patch(worked, "CS-000001", note="Closed by the book.").status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"priority": "P9"}, "priority"), ({"status": "closed"}, "status"), ({"status": "new"}, "status"),
    ({"owner": "zed"}, "owner"), ({"note": ""}, "note"), ({"note": 5}, "note"), ({"note": "x" * 4001}, "note"),
    ({"colour": "red"}, "colour"),
])
def test_patch_names_the_bad_field(worked, body, field):
    voicemail(worked)
    response = patch(worked, "CS-000001", **body)
    assert response.status_code == 400 and response.get_json()["error"].startswith(f"{field}:")
    assert worked.ticket("CS-000001")["priority"] == "P3"


def test_patch_refuses_what_is_not_a_change_of_a_ticket(worked):
    voicemail(worked)
    assert worked.api("/api/tickets/CS-000001", method="PATCH", data="priority=P1").status_code == 400
    assert worked.api("/api/tickets/CS-000001", method="PATCH", json=["P1"]).status_code == 400
    assert patch(worked, "CS-000099", priority="P1").status_code == 404
    assert worked.client.patch("/api/tickets/CS-000001", json={"priority": "P1"}).status_code == 401
    assert worked.ticket("CS-000001")["priority"] == "P3"


@pytest.mark.postgres  # what several workers or web processes rely on, on PostgreSQL too
def test_the_call_back_list_soonest_due_first_and_its_morning_digest(worked):
    voicemail(worked)  # CS-000001, P3: due Thursday 10:00
    voicemail(worked, from_="+12705550166")  # CS-000002, made a P2 below: due 14:00 today
    voicemail(worked, from_="+12705550167")  # CS-000003, taken: no longer waiting for a call back
    patch(worked, "CS-000002", priority="P2")
    text(worked, DAVE, "ACK 3")  # a manager takes it
    worked.clock.advance(hours=1)
    listed = worked.api("/api/callbacks").get_json()["callbacks"]
    assert [(t["number"], t["left_seconds"]) for t in listed] == [("CS-000002", 3 * 3600), ("CS-000001", 47 * 3600)]
    output = worked.app.test_cli_runner().invoke(args=["tickets", "callbacks"]).output.splitlines()
    assert output[1].split()[:5] == ["CS-000002", "2026-11-24", "14:00", "3h", "00m"]
    assert output[2].split()[:5] == ["CS-000001", "2026-11-26", "10:00", "1d", "23h"]

    worked.at(2026, 11, 25, 8, 59)
    housekeeping(worked)
    assert digests(worked, DAVE) == []  # not before the desk opens
    tick(worked, minutes=1)
    digest = ("Good morning: 2 call-backs wait. Most urgent: CS-000002 unknown caller OVERDUE; "
              "CS-000001 unknown caller due Thu 10:00")
    assert {n: digests(worked, n) for n in (ALICE, BOB, DAVE)} == {ALICE: [digest], BOB: [digest], DAVE: [digest]}
    tick(worked, hours=4)
    assert digests(worked, DAVE) == [digest]  # once a day
    worked.at(2026, 11, 28, 10, 0)  # a Saturday
    housekeeping(worked)
    assert digests(worked, DAVE) == [digest]
    patch(worked, "CS-000002", owner="bob")  # the desk lead hands it out; Bob takes it
    text(worked, BOB, "ACK 2")
    worked.at(2026, 11, 30, 9, 0)  # Monday: one left
    housekeeping(worked)
    assert digests(worked, DAVE)[-1] == "Good morning: 1 call-back waits: CS-000001 unknown caller OVERDUE"


def test_the_call_log_has_every_inbound_call_and_its_outcome(worked):
    desk = worked.call()
    desk.press("1")
    desk.desk_picks_up("1")
    desk.dial_result("completed", duration=120)
    worked.call().press("3").press("99#").hang_up()  # a status check
    worked.call().hang_up()  # hung up at the greeting
    voicemail(worked)  # the desk did not answer: CS-000001
    worked.call(from_=ANN).press("2").hang_up()  # verification: CS-000002
    worked.at(2026, 11, 24, 20, 0)
    missed = worked.call(from_=GIL)
    missed.press("1").wait()  # closed: to the after-hours voicemail
    missed.hang_up()  # before the tone: a missed call, CS-000003
    calls = worked.api("/api/calls").get_json()["calls"]
    assert [(c["outcome"], c["ticket"]) for c in calls] == [
        ("missed", "CS-000003"), ("verification", "CS-000002"), ("voicemail", "CS-000001"), ("abandoned", None),
        ("status", None), ("desk", None)]
    assert {c["caller"] for c in calls[2:]} == {CLIENT_PHONE} and calls[0]["caller"] == GIL
    assert all(c["sid"].startswith("CA") and c["seconds"] == 30 and c["language"] == "en" for c in calls)
    since = worked.api("/api/calls", query_string={"since": "2026-11-24T19:00:00-05:00"}).get_json()["calls"]
    assert [c["ticket"] for c in since] == ["CS-000003"]
    assert worked.api("/api/calls?since=yesterday").status_code == 400
    assert worked.client.get("/api/calls").status_code == 401


CONTRACT_CSV = """client,name,phone,email,after_hours,require_pin,language
Acme Dental,Ann Archer,{ann},ann@acme.example,page,yes,es
Globex,Gil Gray,{gil},gil@globex.example,,,
"""


def test_a_client_that_pays_for_it_gets_its_after_hours_voicemail_paged(tmp_path, redis_url, database_url):
    stack = next(worked_stack(tmp_path, redis_url, database_url, config=config_with(
        sla=LIFECYCLE_CONFIG["sla"])))
    try:
        path = tmp_path / "directory.csv"
        path.write_text(CONTRACT_CSV.format(ann=ANN, gil=GIL))
        result = stack.app.test_cli_runner().invoke(args=["directory", "import", str(path)])
        assert result.output.startswith("2 added"), result.output
        clients = stack.api("/api/clients").get_json()["clients"]
        assert [{k: v for k, v in c.items() if k != "id"} for c in clients] == [
            {"name": "Acme Dental", "after_hours": "page", "require_pin": True, "language": "es"},
            {"name": "Globex", "after_hours": "next_day", "require_pin": False, "language": "en"}]
        contacts = stack.api("/api/contacts", query_string={"phone": ANN}).get_json()["contacts"]
        # the contract's columns name no one
        assert [(c["name"], c["client"]) for c in contacts] == [("Ann Archer", "Acme Dental")]
        stack.at(2026, 11, 24, 22, 0)  # Tuesday night
        primary = on_call(stack)["primary"]
        call = stack.call(from_=ANN)
        call.press("1").wait()
        call.leave_message(seconds=20, transcript="Our X-ray server is down.")
        assert "Estamos avisando ahora al técnico de guardia" in call.said
        call.deliver_callbacks()
        settle(stack)
        paged = stack.ticket("CS-000001")
        assert (paged["priority"], paged["kind"], paged["client"]) == ("P2", "voicemail", "Acme Dental")
        assert texts_to(stack, primary)[0].startswith("EMERGENCY Acme Dental (Ann Archer) (Spanish speaker)")
        voicemail(stack, from_=GIL)  # Globex waits for the morning
        assert stack.ticket("CS-000002")["priority"] == "P3" and stack.ticket("CS-000002")["status"] == "new"
        assert len(texts_to(stack, primary)) == 1

        globex = clients[1]["id"]
        changed = stack.api(f"/api/clients/{globex}", method="PATCH", json={"after_hours": "page", "language": "es"})
        assert changed.status_code == 200 and changed.get_json()["after_hours"] == "page"
        for body, field in (({"after_hours": "always"}, "after_hours"), ({"require_pin": "yes"}, "require_pin"),
                            ({"language": "fr"}, "language"), ({"name": "Globex Corp"}, "name")):
            response = stack.api(f"/api/clients/{globex}", method="PATCH", json=body)
            assert response.status_code == 400 and response.get_json()["error"].startswith(field)
        assert stack.api("/api/clients/999", method="PATCH", json={"require_pin": True}).status_code == 404
        voicemail(stack, from_=GIL)
        assert stack.ticket("CS-000003")["priority"] == "P2"
        rejected = tmp_path / "bad.csv"
        rejected.write_text(f"client,name,phone,email,after_hours\nGlobex,Gil Gray,{GIL},,sometimes\n")
        output = stack.app.test_cli_runner().invoke(args=["directory", "import", str(rejected)]).output
        assert "line 2: rejected: after_hours must be next_day or page, not 'sometimes'" in output
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()
