"""The JSON API, /health and the operator commands."""
import os
import time

import pytest

from dispatch.calls import spool
from dispatch.calls.intake import CallReport
from dispatch.jobs import recovery
from dispatch.worker import HOUSEKEEPING_SECONDS
from tests.dispatch_support import start_worker, stop_workers, wait_alive, wait_until
from tests.support import CLIENT_PHONE

pytestmark = pytest.mark.postgres


def _voicemail(stack, box_digits="1"):
    call = stack.call()
    call.press(box_digits)
    if call.state == "dial":
        call.dial_result("no-answer")
    call.leave_message(seconds=9, transcript="hello")
    call.deliver_callbacks()


def test_api_refuses_without_the_bearer_token(stack):
    assert stack.client.get("/api/tickets").status_code == 401
    assert stack.client.get("/api/tickets", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_api_lists_newest_first_filters_by_status_and_404s(stack):
    _voicemail(stack)
    _voicemail(stack)
    listed = stack.api("/api/tickets").get_json()["tickets"]
    assert [t["number"] for t in listed] == ["CS-000002", "CS-000001"]
    assert {t["caller"] for t in listed} == {CLIENT_PHONE}
    assert len(stack.api("/api/tickets?status=new").get_json()["tickets"]) == 2
    assert stack.api("/api/tickets?status=resolved").get_json()["tickets"] == []
    assert stack.api("/api/tickets?status=bogus").status_code == 400
    assert stack.api("/api/tickets/CS-000099").status_code == 404
    assert stack.api("/api/tickets/garbage").status_code == 404
    ticket = stack.ticket("CS-000002")
    for key in ("number", "status", "priority", "kind", "caller", "client", "contact", "recording_url",
                "recording_seconds", "transcript", "created_at", "verified", "timeline"):
        assert key in ticket


def test_api_is_closed_when_no_token_is_configured(tmp_path, redis_url, database_url):
    from tests.support import make_stack

    stack = make_stack(tmp_path, redis_url, database_url, env={"API_TOKEN": ""})
    try:
        assert stack.client.get("/api/tickets", headers={"Authorization": "Bearer "}).status_code == 401
    finally:
        stack.fake.stop()


def test_health_reports_redis_database_and_workers(stack):
    body = stack.api("/health").get_json()
    assert body["redis"] == "ok" and body["database"] == "ok"
    assert body["workers"] == 0 and body["status"] == "degraded"
    worker = start_worker(stack, "health-probe")
    try:
        wait_until(lambda: stack.api("/health").get_json()["workers"] == 1, 30, "the worker to show")
        time.sleep(recovery.ALIVE_TTL_SECONDS + 1)  # idle all along: still alive
        body = stack.api("/health").get_json()
        assert body["workers"] == 1 and body["status"] == "ok"
    finally:
        stop_workers(worker)
    assert stack.api("/health").get_json()["workers"] == 0  # a stopped worker says so at once


def test_health_is_degraded_by_a_spool_no_worker_of_this_host_replays_and_by_a_file_set_aside(stack, tmp_path):
    data_dir = stack.runtime.settings.data_dir
    assert stack.api("/health").get_json()["spool"] == {"waiting": 0, "oldest_seconds": 0.0, "set_aside": 0}
    kept = spool.keep(data_dir, CallReport(call_sid="CAspooled", box="emergency", caller_raw=CLIENT_PHONE,
                                           recording_sid="REspooled", recording_seconds=20,
                                           recording_status="completed"))
    os.utime(kept, (time.time() - 300, time.time() - 300))  # kept five minutes ago
    # A worker runs, but with another IVR_DATA_DIR: it never sees this host's spool.
    worker = start_worker(stack, "elsewhere", data_dir=tmp_path / "another-host")
    try:
        wait_until(lambda: stack.api("/health").get_json()["workers"] == 1, 30, "the worker to show")
        time.sleep(HOUSEKEEPING_SECONDS + 1)  # a round of its housekeeping went by
        body = stack.api("/health").get_json()
        assert (body["redis"], body["database"], body["workers"]) == ("ok", "ok", 1)
        assert body["spool"]["waiting"] == 1 and body["spool"]["oldest_seconds"] >= 300
        assert body["status"] == "degraded"
        assert spool.replay(stack.runtime) == 1  # what this host's own worker would do
        assert stack.ticket("1")["recording_seconds"] == 20
        assert stack.api("/health").get_json()["status"] == "ok"
        (spool.spool_dir(data_dir) / "CAbroken-0.bad").write_text("{")
        body = stack.api("/health").get_json()
        assert body["spool"]["set_aside"] == 1 and body["workers"] == 1 and body["status"] == "degraded"
    finally:
        stop_workers(worker)


def test_tickets_list_command_shows_a_table(stack):
    _voicemail(stack)
    result = stack.app.test_cli_runner().invoke(args=["tickets", "list"])
    assert result.exit_code == 0, result.output
    assert "CS-000001" in result.output and "voicemail" in result.output and CLIENT_PHONE in result.output
    empty = stack.app.test_cli_runner().invoke(args=["tickets", "list", "--status", "resolved"])
    assert "no tickets with status resolved" in empty.output


def test_directory_import_reports_added_updated_and_rejected_rows(stack, tmp_path):
    csv_file = tmp_path / "directory.csv"
    csv_file.write_text("client,name,phone,email\n"
                        "Acme,Ann Lee,(270) 555-0188,ann@acme.test\n"
                        "Acme,,+12705550187,\n"
                        "Acme,Bo Diaz,12345,\n"
                        "Beta LLC,Cy Ng,+12705550186;270-555-0185,cy@beta.test\n")
    runner = stack.app.test_cli_runner()
    first = runner.invoke(args=["directory", "import", str(csv_file)])
    assert first.exit_code == 0, first.output
    assert "2 added, 0 updated, 0 unchanged, 2 rejected" in first.output
    assert "line 3: rejected: missing name" in first.output
    assert "line 4: rejected: bad phone number '12345'" in first.output
    csv_file.write_text("client,name,phone,email\nAcme,Ann Lee,+12705550188,ann@new.test\n")
    second = runner.invoke(args=["directory", "import", str(csv_file)])
    assert "0 added, 1 updated" in second.output
    contacts = stack.api("/api/contacts?phone=%2B12705550188")
    assert contacts.status_code == 200, contacts.get_data(as_text=True)  # the API shows the same directory
    [ann] = contacts.get_json()["contacts"]
    assert (ann["name"], ann["email"], ann["phones"]) == ("Ann Lee", "ann@new.test", ["+12705550188"])


def test_directory_import_names_missing_columns(stack, tmp_path):
    csv_file = tmp_path / "bad.csv"
    csv_file.write_text("company,person\nAcme,Ann\n")
    result = stack.app.test_cli_runner().invoke(args=["directory", "import", str(csv_file)])
    assert result.exit_code != 0 and "no column(s) client, name, phone, email" in result.output


def test_simulate_walks_the_phone_tree_in_the_terminal(stack):
    stack.at(2026, 11, 25, 3, 0)
    result = stack.app.test_cli_runner().invoke(
        args=["simulate", "--no-speak", "--at", "2026-11-25T03:00:00-05:00"],
        input="501\nThe network is down at the dental office\n")
    assert result.exit_code == 0, result.output
    assert "For support, press 1" in result.output
    assert "emergency line" in result.output
    assert "Your ticket number is 1." in result.output
    assert "Ticket CS-000001: emergency_voicemail, P1" in result.output
    assert "The network is down at the dental office" in result.output
    # No worker runs in this test: the page is still waiting, and the simulator says so.
    assert "The on-call technician's page is queued; no worker is running: `python -m dispatch.worker` sends it." \
        in result.output
    assert "Paged" not in result.output and stack.fake.messages == []


def test_simulate_shows_the_page_a_running_worker_sent(stack):
    worker = start_worker(stack, "simulate-worker")
    try:
        wait_alive(stack, "simulate-worker")
        result = stack.app.test_cli_runner().invoke(
            args=["simulate", "--no-speak", "--at", "2026-11-25T03:00:00-05:00"],
            input="501\nThe network is down at the dental office\n")
    finally:
        stop_workers(worker)
    assert result.exit_code == 0, result.output
    [sms] = [m for m in stack.fake.messages if m["body"].startswith("EMERGENCY")]  # the transcript may follow
    primary = next(s for s in stack.config.staff.values() if s.mobile == sms["to"])
    assert f"Paged {primary.name} ({primary.mobile}) by SMS: {sms['body']}\n" in result.output
    assert sms["body"].startswith("EMERGENCY ") and "CS-000001. Reply ACK 1" in sms["body"]
    assert "queued" not in result.output
