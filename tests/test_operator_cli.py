"""An operator's first hour from the terminal: the simulator playing every path as Twilio would,
a technician's text played with ``sms``, and the commands for what operators do (tickets,
overrides, the directory, the console outbox); the embedded Redis a command started stops
with it."""
from __future__ import annotations

import io
import logging
import os

import redis

from core import embedded_redis
from dispatch import directory
from dispatch.escalation.models import Escalation
from tests.dispatch_support import advance, emergency_voicemail, on_call, start_worker, stop_workers, wait_alive
from tests.support import make_stack
from tests.verification_helpers import ANN, ANN_PIN, seed

AT_NIGHT = "2026-11-25T03:00:00-05:00"


def _cli(stack, *args, input=None):
    return stack.app.test_cli_runner().invoke(args=list(args), input=input)


def _ticket_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Ticket ")]


# -- simulate ----------------------------------------------------------------------------------
def test_hanging_up_at_the_emergency_beep_leaves_a_missed_call_ticket_and_its_page(stack):
    """The end of the input (as Ctrl-C) at the tone is a hang-up: Twilio's status callback makes the
    missed-call ticket, a P1 from 501, and its page is queued."""
    result = _cli(stack, "simulate", "--no-speak", "--at", AT_NIGHT, input="501\n")
    assert result.exit_code == 0, result.output
    assert "(you hung up)" in result.output and "Aborted" not in result.output
    assert _ticket_lines(result.output)[0].startswith("Ticket CS-000001: missed_call, P1")
    assert "The on-call technician's page is queued; no worker is running" in result.output
    ticket = stack.ticket("1")
    assert (ticket["kind"], ticket["priority"]) == ("missed_call", "P1")
    assert [e["event"] for e in ticket["timeline"]].count("page_requested") == 1


def test_answering_at_the_desk_asks_the_screening_and_only_a_1_takes_the_call(stack):
    taken = _cli(stack, "simulate", "--no-speak", input="1\na\n1\n")  # Tuesday 10:00: the desk rings
    assert taken.exit_code == 0, taken.output
    assert "+12705550101 hears: Support call from" in taken.output and "Press 1" in taken.output
    assert "type your message" not in taken.output and _ticket_lines(taken.output) == []
    assert stack.tickets() == []

    nobody = _cli(stack, "simulate", "--no-speak", input="1\na\n\nThe printer is jammed\n")
    assert nobody.exit_code == 0, nobody.output
    assert "Support call from" in nobody.output and "Our technicians are all busy" in nobody.output
    assert _ticket_lines(nobody.output)[0].startswith("Ticket CS-000001: voicemail, P3")
    assert stack.ticket("1")["transcript"] == "The printer is jammed"


def test_after_verification_gives_way_to_a_voicemail_the_summary_names_the_ticket_heard(stack):
    # An unknown caller keys no number three times, is sent back to the menu, and leaves a message.
    result = _cli(stack, "simulate", "--no-speak", input="2\n\n\n\n1\nn\nLocked out of my mail\n")
    assert result.exit_code == 0, result.output
    assert "Your ticket number is 2." in result.output
    first, second = _ticket_lines(result.output)
    assert first.startswith("Ticket CS-000002: voicemail") and second.startswith("Ticket CS-000001: verification")


def test_the_dual_callback_rings_your_phone_in_the_terminal_and_verifies(tmp_path, redis_url, database_url):
    """Without Twilio credentials the worker places the callback through the console outbox; the
    simulator rings "your phone" and plays it: the person keys 1, then the PIN, and is verified."""
    stack = make_stack(tmp_path, redis_url, database_url, env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
    try:
        seed(stack)
        worker = start_worker(stack, "sim-callback", env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
        try:
            wait_alive(stack, "sim-callback")
            result = _cli(stack, "simulate", "--no-speak", "--caller", ANN, input=f"2\n*\na\n1\n{ANN_PIN}#\n")
        finally:
            stop_workers(worker)
        assert result.exit_code == 0, result.output
        worker_log = (stack.runtime.settings.data_dir / "worker-sim-callback.log").read_text()
        assert "console outbox (no Twilio credentials): call to " + ANN in worker_log
        assert "started with PID" not in worker_log  # RQ's own lines are at WARNING unless asked for
        assert f"your phone ({ANN}) is ringing: the support line calling back" in result.output
        assert "calling you back because you asked us to verify your identity" in result.output
        assert "you are verified" in result.output and f"Call back to {ANN}: verified." in result.output
        [ticket] = stack.tickets()
        [proof] = [e for e in ticket["timeline"] if e["event"] == "verified"]
        assert ticket["kind"] == "verification" and proof["method"] == "callback" and proof["to"] == ANN
        assert ticket["verified"] is None  # the callback verified whoever answered it, not the call that asked
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


# -- sms ---------------------------------------------------------------------------------------
def test_sms_plays_a_technicians_reply_and_prints_the_answer(paging, caplog):
    caplog.set_level(logging.INFO, logger="dispatch")
    emergency_voicemail(paging)
    paging.run_worker()  # the page goes out
    primary = next(s.id for s in paging.config.staff.values() if s.mobile == on_call(paging)["primary"])
    result = _cli(paging, "sms", "--from", primary, "ack")
    assert result.exit_code == 0, result.output
    assert "→ +12702054709: ack" in result.output and "CS-000001 is yours" in result.output
    assert paging.ticket("1")["status"] == "acknowledged"
    # One line per page sent and per reply, at INFO, with the ticket and the step.
    [sent] = [r for r in caplog.records if "sent to" in r.getMessage()]
    assert sent.levelname == "INFO"
    assert sent.getMessage().startswith(f"CS-000001: page (step 1) sent to {primary} by sms")
    [reply] = [r for r in caplog.records if r.getMessage().startswith(f"SMS from {primary}")]
    assert reply.levelname == "INFO" and reply.getMessage() == f"SMS from {primary}: ACK CS-000001 (new, escalation " \
        "paged through step 1)"
    stranger = _cli(paging, "sms", "--from", "zed", "ACK")
    assert stranger.exit_code == 2 and "'zed' is not a staff id" in stranger.output


# -- tickets -----------------------------------------------------------------------------------
def test_tickets_ack_stops_the_escalation_and_resolve_closes_it_as_the_sms_replies_do(paging):
    emergency_voicemail(paging)
    paging.run_worker()
    assert len(paging.fake.messages) == 1  # the first step's page
    acked = _cli(paging, "tickets", "ack", "1", "--as", "bob")
    assert acked.exit_code == 0, acked.output
    assert "CS-000001 acknowledged by Bob Brown" in acked.output
    advance(paging, minutes=30)  # every later step was due by now
    assert len(paging.fake.messages) == 1
    with paging.runtime.store.reading() as session:
        assert session.get(Escalation, 1).outcome == "acknowledged"
    ticket = paging.ticket("1")
    assert ticket["status"] == "acknowledged"
    assert any(e["event"] == "acknowledged" and e["by"] == "bob" and e["via"] == "cli" for e in ticket["timeline"])

    assert _cli(paging, "tickets", "resolve", "CS-000001", "--as", "bob").exit_code == 0
    assert paging.ticket("1")["status"] == "resolved"
    again = _cli(paging, "tickets", "resolve", "1", "--as", "bob")
    assert again.exit_code == 1 and "CS-000001 is already resolved" in again.output
    shown = _cli(paging, "tickets", "show", "1")
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("CS-000001  emergency_voicemail  P1  resolved")
    assert "My server is down, please call me." in shown.output and "acknowledged  by=bob" in shown.output

    missing = _cli(paging, "tickets", "ack", "99", "--as", "bob")
    assert missing.exit_code == 1 and "no ticket 99" in missing.output
    assert _cli(paging, "tickets", "show", "CS-000099").exit_code == 1
    nobody = _cli(paging, "tickets", "ack", "1", "--as", "zed")
    assert nobody.exit_code == 2 and "'zed' is not a staff id" in nobody.output


# -- oncall ------------------------------------------------------------------------------------
def test_overrides_are_listed_and_cancelled_by_id(stack):
    added = _cli(stack, "oncall", "override", "carol", "--from", "2026-11-24T08:00", "--to", "2026-11-26T08:00")
    assert added.exit_code == 0, added.output
    assert "(override 1)" in added.output
    listed = _cli(stack, "oncall", "overrides")
    assert "1     Carol Chen (carol)" in listed.output and "in force" in listed.output
    assert stack.api("/api/oncall").get_json()["primary"]["id"] == "carol"

    cancelled = _cli(stack, "oncall", "override", "--cancel", "1")
    assert cancelled.exit_code == 0 and "override 1 cancelled (Carol Chen" in cancelled.output
    assert stack.api("/api/oncall").get_json()["primary"]["id"] != "carol"
    assert "no overrides in force or to come" in _cli(stack, "oncall", "overrides").output
    gone = _cli(stack, "oncall", "override", "--cancel", "1")
    assert gone.exit_code == 1 and "no override 1" in gone.output


# -- directory ---------------------------------------------------------------------------------
def test_directory_list_shows_ids_and_pin_sets_one_under_the_apis_rules(stack):
    with stack.runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO(f"client,name,phone,email\nAcme Dental,Ann Archer,{ANN},\n"),
                             stack.config.region)
    listed = _cli(stack, "directory", "list")
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if "Ann Archer" in line)
    contact_id = row.split()[0]
    assert "Acme Dental" in row and ANN in row and " no " in row

    weak = _cli(stack, "directory", "pin", contact_id, input="111111\n")
    assert weak.exit_code == 1 and "one repeated digit" in weak.output and "111111" not in weak.output
    done = _cli(stack, "directory", "pin", contact_id, input=f"{ANN_PIN}\n")
    assert done.exit_code == 0 and "PIN set for Ann Archer (Acme Dental)" in done.output
    assert ANN_PIN not in done.output
    [contact] = stack.api(f"/api/contacts?phone={ANN.replace('+', '%2B')}").get_json()["contacts"]
    assert contact["has_pin"] is True
    missing = _cli(stack, "directory", "pin", "999", input=f"{ANN_PIN}\n")
    assert missing.exit_code == 1 and "no contact 999" in missing.output


# -- the console outbox, and the embedded Redis of a command ------------------------------------------
def test_outbox_lists_what_would_have_been_sent_newest_first(tmp_path, redis_url, database_url):
    stack = make_stack(tmp_path, redis_url, database_url, env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
    try:
        assert "the console outbox is empty" in _cli(stack, "outbox").output
        for staff in ("alice", "bob"):
            stack.runtime.carrier.send_sms(stack.config.staff[staff].mobile, f"hello {staff}", None)
        lines = _cli(stack, "outbox").output.splitlines()
        assert lines[0].endswith("sms  to +12705550112: hello bob") and lines[1].endswith(": hello alice")
        assert _cli(stack, "outbox", "--to", "+12705550111").output.count("hello") == 1
        assert stack.fake.messages == []
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_a_command_stops_the_redis_it_started(tmp_path, database_url):
    stack = make_stack(tmp_path, "", database_url)  # no REDIS_URL: the embedded Redis of the data folder
    data_dir = stack.runtime.settings.data_dir
    socket = data_dir / "redis.sock"
    try:
        result = _cli(stack, "sms", "--from", "alice", "WHO")
        assert result.exit_code == 0 and "On call:" in result.output
        assert not socket.exists() and not (data_dir / "redis.pid").exists()

        # Started by this process, but another one (a worker, say) uses it when the command ends:
        # it is left running for that one.
        url, started = embedded_redis.ensure_running(data_dir)
        assert started
        other = redis.Redis.from_url(url)
        other.ping()
        assert _cli(stack, "sms", "--from", "alice", "WHO").exit_code == 0
        assert other.ping()
        other.close()
    finally:
        embedded_redis.stop(data_dir)
        stack.fake.stop()
        stack.runtime.store.dispose()
    assert not os.path.exists(socket)
