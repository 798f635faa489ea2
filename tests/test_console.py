"""The operator console through Flask's test client: signing in and its lock-out, CSRF, who may do
what, each page, the ticket actions on the timeline, the recording played through its signed link, the
schedule and the calendar feed, the directory import. The browser itself: test_console_browser."""
from __future__ import annotations

import ast
import html
import io
import logging
import re
from datetime import datetime, timedelta
from pathlib import Path

import argon2
import pytest

from core.config import parse_config
from dispatch import oncall
from dispatch.calls import log
from dispatch.directory.models import Contact
from dispatch.notification.delivery import EVENTS
from dispatch.oncall.calendar import duties
from dispatch.oncall.rotation import shifts
from dispatch.sla.targets import BREACH, WARNING
from dispatch.staff import accounts
from dispatch.staff.models import StaffAccount
from dispatch.tickets.models import Ticket, TimelineEvent
from dispatch.verification import identity
from fake_twilio.server import recording_audio
from ivr.console import timeline
from tests.dispatch_support import BOB, advance, deliver_all, emergency_voicemail, events
from tests.lifecycle_support import housekeeping, text, texts_to, tick, voicemail, worked_stack
from tests.support import CLIENT_PHONE, NY, SUPPORT_NUMBER, config_with, make_stack
from tests.test_security_pins import _wrong_pins
from tests.verification_helpers import ANN, ANN_PIN, reach_pin_prompt, seed

ALICE_MOBILE = "+12705550111"
PASSWORD = "correct horse battery staple"
REFUSED = "Sign-in refused: the staff id and password do not match, or sign-in is locked"
PAGES = ["/console/", "/console/tickets/CS-000001", "/console/schedule", "/console/calls", "/console/directory"]


@pytest.fixture
def worked(tmp_path, redis_url, database_url):
    """A stack with service targets and the follow-up on, on a Tuesday at 10:00 (the desk is open)."""
    yield from worked_stack(tmp_path, redis_url, database_url)


def _token(client, path: str = "/console/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _sign_in(stack, staff_id: str, password: str = PASSWORD, client=None):
    client = client or stack.app.test_client()
    answer = client.post("/console/login", data={"username": staff_id, "password": password,
                                                 "csrf_token": _token(client)})
    return client, answer


def _signed_in(stack, staff_id: str):
    accounts.set_password(stack.runtime, staff_id, PASSWORD)
    client, answer = _sign_in(stack, staff_id)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def _post(client, path: str, data: dict | None = None, token_from: str = "/console/", **kwargs):
    return client.post(path, data={"csrf_token": _token(client, token_from), **(data or {})}, **kwargs)


def _text(answer) -> str:
    return re.sub(r"\s+", " ", answer.get_data(as_text=True))


# -- signing in ------------------------------------------------------------------------------------
def test_every_page_and_action_asks_for_sign_in_first(paging):
    emergency_voicemail(paging)
    client = paging.app.test_client()
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/console/login?next="), path
    token = _token(client)
    answer = client.post("/console/tickets/CS-000001/acknowledge", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/login"
    assert paging.ticket("CS-000001")["status"] == "new"


def test_the_password_set_by_the_command_signs_in_and_is_kept_only_as_a_hash(paging, caplog):
    caplog.set_level(logging.DEBUG)
    runner = paging.app.test_cli_runner()
    result = runner.invoke(args=["staff", "set-password", "alice"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "console password set for Alice Adams (alice)" in result.output
    too_short = runner.invoke(args=["staff", "set-password", "bob"], input="short\n")
    assert too_short.exit_code == 1 and "at least 12 characters" in too_short.output
    unknown = runner.invoke(args=["staff", "set-password", "mallory"], input=PASSWORD + "\n")
    assert unknown.exit_code == 2 and "not a staff id" in unknown.output

    client, answer = _sign_in(paging, "alice", PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/"
    assert "Alice Adams" in client.get("/console/").get_data(as_text=True)
    with paging.runtime.store.reading() as session:
        stored = session.get(StaffAccount, "alice").password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PASSWORD not in caplog.text and PASSWORD not in result.output


def test_sign_in_refusals_read_alike_whatever_went_wrong(paging):
    accounts.set_password(paging.runtime, "alice", PASSWORD)
    answers = [_sign_in(paging, "alice", "not the password")[1],   # wrong password
               _sign_in(paging, "bob", PASSWORD)[1],               # a staff id with no password
               _sign_in(paging, "mallory", PASSWORD)[1],           # no such staff id
               _sign_in(paging, "alice", "")[1]]                   # nothing typed
    for answer in answers:
        assert answer.status_code == 401
        assert REFUSED in _text(answer)
        assert "console_session" not in (answer.headers.get("Set-Cookie") or "") or "staff" not in answer.headers
    page = _text(paging.app.test_client().get("/console/login"))
    assert "After 5 failed attempts in a row, sign-in is locked for 15 minutes." in page


@pytest.mark.postgres
def test_five_wrong_passwords_lock_sign_in_for_fifteen_minutes_even_with_the_right_one(paging):
    accounts.set_password(paging.runtime, "alice", PASSWORD)
    for _ in range(5):
        assert _sign_in(paging, "alice", "guess " * 3)[1].status_code == 401
    locked = _sign_in(paging, "alice", PASSWORD)[1]
    assert locked.status_code == 401 and REFUSED in _text(locked)
    paging.clock.advance(minutes=14)
    assert _sign_in(paging, "alice", PASSWORD)[1].status_code == 401
    paging.clock.advance(minutes=1, seconds=1)
    assert _sign_in(paging, "alice", PASSWORD)[1].status_code == 303
    # Four mistakes then the right password: the count starts again, nothing locks.
    for _ in range(4):
        _sign_in(paging, "alice", "guess " * 3)
    assert _sign_in(paging, "alice", PASSWORD)[1].status_code == 303
    assert _sign_in(paging, "alice", "guess " * 3)[1].status_code == 401
    assert _sign_in(paging, "alice", PASSWORD)[1].status_code == 303


def test_a_new_password_ends_the_sessions_of_the_old_one_and_sign_out_ends_this_one(paging):
    client = _signed_in(paging, "alice")
    other = _signed_in(paging, "alice")  # a second browser; its password set again ends the first's session
    assert client.get("/console/").status_code == 302
    assert other.get("/console/").status_code == 200
    answer = _post(other, "/console/logout")
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/login"
    assert other.get("/console/").status_code == 302


def test_the_session_cookie_is_http_only_lax_for_the_console_and_secure_behind_https(paging, tmp_path, redis_url,
                                                                                     database_url):
    accounts.set_password(paging.runtime, "alice", PASSWORD)
    cookie = _sign_in(paging, "alice")[1].headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # http://localhost: a Secure cookie would never come back
    (tmp_path / "https").mkdir()
    secure = make_stack(tmp_path / "https", redis_url, database_url, public_base_url="https://support.example.com")
    try:
        accounts.set_password(secure.runtime, "alice", PASSWORD)
        client = secure.app.test_client()
        page = client.get("/console/login", base_url="https://support.example.com").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        answer = client.post("/console/login", base_url="https://support.example.com",
                             headers={"Referer": "https://support.example.com/console/login"},
                             data={"username": "alice", "password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 303 and "Secure" in answer.headers["Set-Cookie"]
    finally:
        secure.fake.stop()
        secure.runtime.store.dispose()


def test_after_sign_in_the_next_page_is_always_one_of_the_console(paging):
    accounts.set_password(paging.runtime, "alice", PASSWORD)
    for target, expected in (("/console/schedule", "/console/schedule"), ("https://evil.example/", "/console/"),
                             ("/api/tickets", "/console/"),
                             ("//evil.example/console", "/console/"), ("/console\\@evil.example", "/console/")):
        client = paging.app.test_client()
        answer = client.post("/console/login", data={"username": "alice", "password": PASSWORD, "next": target,
                                                     "csrf_token": _token(client)})
        assert answer.headers["Location"] == expected, target


# -- CSRF ---------------------------------------------------------------------------------------
def test_a_form_sent_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing(paging):
    emergency_voicemail(paging)
    client = _signed_in(paging, "alice")
    without = client.post("/console/tickets/CS-000001/acknowledge")
    wrong = client.post("/console/tickets/CS-000001/acknowledge", data={"csrf_token": "forged"})
    for answer in (without, wrong):
        assert answer.status_code == 400
        assert "The form had expired, so nothing was done" in _text(answer)
    assert paging.ticket("CS-000001")["status"] == "new"
    # A token from another session is no better than none.
    someone_else = _signed_in(paging, "bob")
    stolen = client.post("/console/tickets/CS-000001/acknowledge",
                         data={"csrf_token": _token(someone_else, "/console/")})
    assert stolen.status_code == 400 and paging.ticket("CS-000001")["status"] == "new"
    assert _post(client, "/console/tickets/CS-000001/acknowledge").status_code == 303
    assert paging.ticket("CS-000001")["status"] == "acknowledged"
    # Signing in itself needs the token (no one can sign a browser into their account from elsewhere).
    fresh = paging.app.test_client()
    assert fresh.post("/console/login", data={"username": "alice", "password": PASSWORD}).status_code == 400


def test_every_console_form_refuses_a_post_without_its_csrf_token(paging):
    """Each POST route of the console, with or without a session: the forgery is refused first."""
    routes = sorted({rule.rule for rule in paging.app.url_map.iter_rules()
                     if "POST" in rule.methods and rule.rule.startswith("/console/")})
    assert len(routes) >= 10
    signed_in = _signed_in(paging, "dave")
    for client in (paging.app.test_client(), signed_in):
        for route in routes:
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: {"number": "CS-000001", "staff_id": "alice"}.get(
                m.group(1), "1"), route)
            answer = client.post(path, data={"csrf_token": "forged", "username": "dave", "password": PASSWORD})
            assert answer.status_code == 400, (route, answer.status_code)


# -- who may do what ---------------------------------------------------------------------------
def test_technicians_may_not_use_the_directory_nor_change_others_overrides(paging):
    alice = _signed_in(paging, "alice")
    assert alice.get("/console/directory").status_code == 403
    assert "Directory" not in alice.get("/console/").get_data(as_text=True)
    upload = {"file": (io.BytesIO(b"client,name,phone,email\nAcme,Jane,+12705550150,\n"), "d.csv")}
    assert _post(alice, "/console/directory/import", upload, content_type="multipart/form-data").status_code == 403
    with paging.runtime.store.reading() as session:
        assert session.query(Contact).count() == 0

    when = {"starts": "2026-11-25T18:00", "ends": "2026-11-26T08:00"}
    assert _post(alice, "/console/schedule/overrides", {"staff": "bob", **when}).status_code == 403
    assert oncall.upcoming_overrides(paging.runtime, paging.runtime.now()) == []
    assert _post(alice, "/console/schedule/overrides", {"staff": "alice", **when}).status_code == 303
    bobs = oncall.add_override(paging.runtime, "bob", datetime(2026, 11, 27, 18, tzinfo=NY),
                               datetime(2026, 11, 28, 8, tzinfo=NY))
    assert _post(alice, f"/console/schedule/overrides/{bobs.id}/remove").status_code == 403
    assert _post(alice, "/console/schedule/calendar/bob/renew").status_code == 403
    schedule = alice.get("/console/schedule").get_data(as_text=True)
    assert "/console/calendar/alice/" in schedule and "/console/calendar/bob/" not in schedule

    dave = _signed_in(paging, "dave")
    assert dave.get("/console/directory").status_code == 200
    assert _post(dave, f"/console/schedule/overrides/{bobs.id}/remove").status_code == 303
    assert [o.staff_id for o in oncall.upcoming_overrides(paging.runtime, paging.runtime.now())] == ["alice"]
    assert "/console/calendar/bob/" in dave.get("/console/schedule").get_data(as_text=True)


# -- the pages -----------------------------------------------------------------------------------
def test_now_shows_who_is_on_call_the_open_p1s_with_their_step_the_open_tickets_and_the_line(paging):
    emergency_voicemail(paging)
    advance(paging, minutes=1)
    advance(paging, minutes=5)  # the voice step to the primary
    call = paging.call(from_="+12705550180")
    call.press("1").wait()
    call.leave_message(seconds=12, transcript="Mailbox password, please.")
    call.deliver_callbacks()
    client = _signed_in(paging, "alice")
    page = _text(client.get("/console/"))
    assert "Primary</dt> <dd><strong>Bob Brown</strong>" in page
    assert "Secondary</dt> <dd>Carol Chen" in page and "Dave Diaz" in page
    assert "Until</dt> <dd><time datetime=\"2026-11-30T09:00:00-05:00\">Mon 30 Nov 09:00</time>" in page
    p1s = page.split('id="p1s"')[1].split('id="callbacks"')[0]
    assert "CS-000001" in p1s and "CS-000002" not in p1s
    assert "round 1, step 2 of 4: the primary by a phone call" in p1s
    assert "Open tickets <span class=\"muted\">(2)</span>" in page
    assert "Redis</dt><dd><span class=\"badge ok\">ok</span>" in page
    assert "Workers</dt><dd><span class=\"badge down\">none running</span>" in page  # none in this test


@pytest.mark.postgres
def test_now_lists_the_call_backs_soonest_due_first_with_the_time_left_red_once_warned(worked):
    voicemail(worked)  # CS-000001, P3 on the business clock: due Thursday 10:00
    voicemail(worked, from_="+12705550166")  # CS-000002, made a P2 below: due 14:00 today
    voicemail(worked, from_="+12705550167")  # CS-000003, taken: nobody waits for a call back on it
    client = _signed_in(worked, "alice")
    _post(client, "/console/tickets/CS-000002/priority", {"priority": "P2"})
    _post(client, "/console/tickets/CS-000003/acknowledge")
    worked.clock.advance(hours=1)

    def listed():
        page = _text(client.get("/console/"))
        section = page.split('id="callbacks"')[1].split('id="open"')[0]
        rows = re.findall(r'<tr( class="late")?>\s*<td data-label="Ticket"><a [^>]*>(CS-\d+)</a>.*?'
                          r'<td data-label="Left" class="countdown">(.*?)</td>', section)
        return section, [(number, bool(late), re.sub(r"<[^>]+>", "", left).strip()) for late, number, left in rows]

    section, rows = listed()
    assert "Call-backs <span class=\"muted\">(2 waiting)</span>" in section
    assert rows == [("CS-000002", False, "3h 00m left"), ("CS-000001", False, "1d 23h left")]
    api = [t["number"] for t in worked.api("/api/callbacks").get_json()["callbacks"]]
    assert api == [number for number, _, _ in rows]  # the same list as the API's
    assert '<td data-label="Response due"><time datetime="2026-11-24T19:00:00+00:00">Tue 24 Nov 14:00</time>' in section
    beyond = _text(client.get("/console/?waiting_from=50"))  # a stale "Later due" link, the list since shorter
    assert "Nobody is waiting" not in beyond and "No call-backs this far down the list." in beyond

    tick(worked, hours=2)  # 13:00: three quarters of CS-000002's four hours: its warning goes out
    section, rows = listed()
    assert rows[0] == ("CS-000002", True, "warned 1h 00m left")
    assert '<span class="badge warned">warned</span>' in section
    tick(worked, hours=1, minutes=15)  # 14:15: breached
    section, rows = listed()
    assert rows[0] == ("CS-000002", True, "breached overdue by 15m")
    assert rows[1] == ("CS-000001", False, "1d 19h left")
    _post(client, "/console/tickets/CS-000002/call", {"request": "r1"})  # a call back meets the response
    assert [number for number, _, _ in listed()[1]] == ["CS-000001"]


def test_the_ticket_page_shows_the_call_and_its_timeline_in_words(paging):
    emergency_voicemail(paging, transcript="The mail server is down.")
    advance(paging, minutes=1)
    deliver_all(paging)
    paging.fake.sms_from(BOB, "ACK", SUPPORT_NUMBER)
    client = _signed_in(paging, "alice")
    page = _text(client.get("/console/tickets/CS-000001"))
    assert "<h1>CS-000001 <span class=\"badge P1\">P1</span> <span class=\"badge acknowledged\">" in page
    assert "(270) 555-0199" in page and "The mail server is down." in page
    assert '<audio controls preload="metadata" src="/recordings/CS-000001?' in page
    for words in ("Ticket opened from a call to the emergency voicemail, from +12705550199.",
                  "Escalation round 1, step 1: paging Bob Brown by SMS.", "Page sent to Bob Brown by SMS.",
                  "Page to Bob Brown by SMS: delivered.", "Bob Brown replied ACK by SMS.",
                  "Acknowledged by Bob Brown by SMS."):
        assert words in page
    assert client.get("/console/tickets/1").headers["Location"] == "/console/tickets/CS-000001"
    assert client.get("/console/tickets/CS-000009").status_code == 404
    assert client.get("/console/tickets/nonsense").status_code == 404


def test_calls_shows_the_call_log_a_day_at_a_time_by_outcome_with_paging(worked):
    desk = worked.call()
    desk.press("1")
    desk.desk_picks_up("1")
    desk.dial_result("completed", duration=120)
    worked.call().hang_up()  # hung up at the greeting
    voicemail(worked)  # the desk did not answer: CS-000001
    worked.at(2026, 11, 25, 20, 0)
    missed = worked.call(from_="+12705550166")
    missed.press("1").wait()  # closed: to the after-hours voicemail
    missed.hang_up()  # before the tone: a missed call, CS-000002
    client = _signed_in(worked, "alice")
    today = _text(client.get("/console/calls"))
    assert "1 call that day: 1 missed (no message)" in today
    assert '<td data-label="Caller">(270) 555-0166</td>' in today and ">CS-000002</a>" in today
    assert "CS-000001" not in today
    before = _text(client.get("/console/calls?day=2026-11-24"))
    assert "3 calls that day: 1 taken at the desk, 1 voicemail, 1 hung up" in before
    rows = re.findall(r'<td data-label="Outcome">([^<]+)</td>', before)
    assert rows == ["voicemail", "hung up", "taken at the desk"]  # newest first
    assert '<a href="/console/tickets/CS-000001">CS-000001</a>' in before
    voicemails = _text(client.get("/console/calls?day=2026-11-24&outcome=voicemail"))
    assert re.findall(r'<td data-label="Outcome">([^<]+)</td>', voicemails) == ["voicemail"]
    assert "No call with this outcome that day." in _text(client.get("/console/calls?day=2026-11-24&outcome=oncall"))
    for junk, says in (("day=junk", "“junk” is not a day"), ("day=0001-01-01", "from 2000-01-01 to 2026-11-25"),
                        ("day=2026-11-26", "is not a day"), ("outcome=junk", "“junk” is not an outcome"),
                        ("after=999999", "That page of the call log is gone")):
        refused = client.get(f"/console/calls?{junk}")
        assert refused.status_code == 400 and says in _text(refused)
    # A long day pages on, a hundred calls at a time.
    for n in range(105):
        worked.clock.advance(seconds=20)
        log.record(worked.runtime, log.CallEnd(sid=f"CA{n:032x}", caller_raw="+12705550170", seconds=10))
    first = _text(client.get("/console/calls"))
    assert first.count('<td data-label="Outcome">') == 100 and "106 calls that day" in first
    older = re.search(r'<a href="(/console/calls\?[^"]*after=\d+[^"]*)">Older</a>', first).group(1)
    # A call ending meanwhile is logged at its start, among the first page's rows: the next page is unchanged.
    log.record(worked.runtime, log.CallEnd(sid="CA" + "f" * 32, caller_raw="+12705550171", seconds=90))
    rest = _text(client.get(html.unescape(older)))
    assert rest.count('<td data-label="Outcome">') == 6 and ">CS-000002</a>" in rest and ">Newest</a>" in rest
    assert "(270) 555-0171" not in rest and "(270) 555-0171" in _text(client.get("/console/calls"))


def test_every_page_renders_with_landmarks_labels_and_no_inline_script(paging):
    emergency_voicemail(paging)
    client = _signed_in(paging, "dave")
    for path in PAGES + ["/console/login"]:
        answer = client.get(path, follow_redirects=True)
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, path
        assert '<main id="main"' in html and '<html lang="en">' in html and "<h1" in html
        assert "<script" not in html and "style=" not in html
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        for field in re.findall(r'<(?:input|select|textarea)\b[^>]*\bid="([^"]+)"', html):
            assert f'for="{field}"' in html, f"{path}: #{field} has no label"


# -- acting on a ticket -----------------------------------------------------------------------------
@pytest.mark.postgres
def test_acknowledge_note_and_resolve_go_on_the_timeline_with_who_did_them(paging):
    emergency_voicemail(paging)
    advance(paging, minutes=1)
    client = _signed_in(paging, "alice")
    answer = _post(client, "/console/tickets/CS-000001/acknowledge", follow_redirects=True)
    assert "CS-000001 is yours: acknowledged." in _text(answer)
    dave = _signed_in(paging, "dave")
    assert "CS-000001 was already acknowledged by Alice Adams." in _text(
        _post(dave, "/console/tickets/CS-000001/acknowledge", follow_redirects=True))
    _post(client, "/console/tickets/CS-000001/notes", {"text": "Rebooted the mail server; watching it."})
    assert "A note needs some text." in _text(_post(client, "/console/tickets/CS-000001/notes", {"text": "  "},
                                                    follow_redirects=True))
    _post(client, "/console/tickets/CS-000001/resolve")
    ticket = paging.ticket("CS-000001")
    assert ticket["status"] == "resolved"
    assert events(ticket, "acknowledged")[0] | {"at": None} == {"at": None, "event": "acknowledged", "by": "alice",
                                                                "via": "console", "owner": "alice"}
    assert [(e["by"], e["text"]) for e in events(ticket, "note")] == [
        ("alice", "Rebooted the mail server; watching it.")]
    assert events(ticket, "resolved")[0]["by"] == "alice" and events(ticket, "resolved")[0]["via"] == "console"
    page = _text(client.get("/console/tickets/CS-000001"))
    assert "Acknowledged by Alice Adams in the console." in page
    assert "Note by Alice Adams in the console: <blockquote>Rebooted the mail server; watching it.</blockquote>" in page
    assert ">Acknowledge</button>" not in page and ">Resolve</button>" not in page
    # The others who were paged hear who took it, as after an SMS ACK.
    paging.run_worker()
    assert any("taken by Alice Adams" in m["body"] for m in paging.fake.sms_to(BOB))


def test_call_back_rings_the_technician_first_then_bridges_from_the_support_number(paging):
    emergency_voicemail(paging)
    client = _signed_in(paging, "alice")
    form = client.get("/console/tickets/CS-000001").get_data(as_text=True)
    request_id = re.search(r'name="request" value="([^"]+)"', form).group(1)
    token = _token(client, "/console/tickets/CS-000001")
    for _ in range(2):  # the same form sent twice rings once
        answer = client.post("/console/tickets/CS-000001/call", data={"csrf_token": token, "request": request_id},
                             follow_redirects=True)
        assert "Calling you now on (270) 555-0111" in _text(answer)
    paging.run_worker()
    rung = paging.fake.calls_to(ALICE_MOBILE)
    assert len(rung) == 1 and rung[0]["from"] == SUPPORT_NUMBER
    leg = paging.fake.answer_call(rung[0]["sid"])
    assert leg.dial_numbers() == ["+12705550199"]
    ticket = paging.ticket("CS-000001")
    assert events(ticket, "callback_requested") == [
        {"at": events(ticket, "callback_requested")[0]["at"], "event": "callback_requested", "by": "alice",
         "via": "console"}]


def test_call_back_to_a_withheld_number_says_so_and_rings_nobody(paging):
    emergency_voicemail(paging, from_="anonymous")
    client = _signed_in(paging, "alice")
    assert "Call the caller back" not in client.get("/console/tickets/CS-000001").get_data(as_text=True)
    answer = _post(client, "/console/tickets/CS-000001/call", {"request": "x"}, follow_redirects=True)
    assert "withheld their number, so they cannot be called back" in _text(answer)
    paging.run_worker()
    assert paging.fake.calls_to(ALICE_MOBILE) == []


def test_priority_waiting_and_give_to_change_the_ticket_as_sms_does_and_go_on_its_timeline(worked):
    voicemail(worked)
    alice, dave = _signed_in(worked, "alice"), _signed_in(worked, "dave")
    page = _text(alice.get("/console/tickets/CS-000001"))
    assert "<dt>Owner</dt><dd>nobody</dd>" in page and "<dt>Language</dt><dd>English</dd>" in page
    assert ("<dt>Response</dt> <dd>due <time datetime=\"2026-11-26T15:00:00+00:00\">Thu 26 Nov 10:00</time> "
            "(2d 0h left)</dd>") in page
    assert '<label for="priority">Priority</label>' in page and '<option value="P2">P2 · High</option>' in page
    assert '<label for="owner">' not in page and ">Take it</button>" in page  # a technician only takes it

    answer = _post(alice, "/console/tickets/CS-000001/priority", {"priority": "P2"}, follow_redirects=True)
    assert "CS-000001 is now P2: its due times follow from when it came in." in _text(answer)
    ticket = worked.ticket("CS-000001")
    assert ticket["priority"] == "P2" and ticket["response_due"] == "2026-11-24T19:00:00+00:00"
    assert "Choose a priority from P1 to P4." in _text(
        _post(alice, "/console/tickets/CS-000001/priority", {"priority": "P9"}, follow_redirects=True))
    assert worked.ticket("CS-000001")["priority"] == "P2"

    assert _post(alice, "/console/tickets/CS-000001/owner", {"owner": "bob"}).status_code == 403
    assert _post(alice, "/console/tickets/CS-000001/owner", {"owner": "mallory"}).status_code == 403  # same answer
    assert worked.ticket("CS-000001")["owner"] is None
    assert "CS-000001 is yours now." in _text(
        _post(alice, "/console/tickets/CS-000001/owner", {"owner": "alice"}, follow_redirects=True))
    assert worked.ticket("CS-000001")["owner"] == "alice"
    assert _post(alice, "/console/tickets/CS-000001/owner", {"owner": ""}).status_code == 403  # nor gives it away
    page = _text(dave.get("/console/tickets/CS-000001"))
    assert '<label for="owner">Give to</label>' in page
    assert '<option value="alice" selected>Alice Adams</option>' in page
    assert "CS-000001 is Bob Brown&#39;s now." in _text(
        _post(dave, "/console/tickets/CS-000001/owner", {"owner": "bob"}, follow_redirects=True))
    assert "Choose someone from the staff list." in _text(
        _post(dave, "/console/tickets/CS-000001/owner", {"owner": "mallory"}, follow_redirects=True))
    assert worked.ticket("CS-000001")["owner"] == "bob"

    answer = _post(alice, "/console/tickets/CS-000001/waiting", follow_redirects=True)
    assert "CS-000001 waits on the caller: 3 reminders by text, 1 day apart" in _text(answer)
    ticket = worked.ticket("CS-000001")
    assert ticket["status"] == "waiting" and ticket["responded_at"] is not None
    housekeeping(worked)
    assert texts_to(worked, CLIENT_PHONE)[1:] == [  # the first reminder, after the confirmation of the ticket
        "SmartPath Technologies: we are waiting for your reply on ticket CS-000001 to go on. "
        f"Reply to this message or call us on {SUPPORT_NUMBER}."]
    assert "CS-000001 is already waiting on the caller." in _text(
        _post(alice, "/console/tickets/CS-000001/waiting", follow_redirects=True))
    page = _text(alice.get("/console/tickets/CS-000001"))
    assert "the clock stands still while the ticket waits on the caller" in page
    assert ">Waiting on the caller</button>" not in page

    timeline_events = [(e["event"], e.get("by"), e.get("via")) for e in worked.ticket("CS-000001")["timeline"]
                       if e["event"] in ("priority", "owner", "waiting")]
    assert timeline_events == [("priority", "alice", "console"), ("owner", "alice", "console"),
                               ("owner", "dave", "console"), ("waiting", "alice", "console")]
    for words in ("Priority changed from P3 to P2 by Alice Adams in the console.",
                  "Taken by Alice Adams in the console.", "Given to Bob Brown by Dave Diaz in the console.",
                  "Waiting on the caller, set by Alice Adams in the console: the resolution clock stands still."):
        assert words in page

    _post(alice, "/console/tickets/CS-000001/resolve")
    text(worked, CLIENT_PHONE, "4")  # the caller rates it
    page = _text(alice.get("/console/tickets/CS-000001"))
    assert "<dt>Rating</dt><dd>4 of 4: Excellent</dd>" in page
    assert "The caller rated the service 4 of 4: Excellent." in page
    tick(worked, days=6)  # past the time to reopen it: closed
    assert "CS-000001 is closed, so it stays as it is." in _text(
        _post(dave, "/console/tickets/CS-000001/priority", {"priority": "P1"}, follow_redirects=True))
    assert worked.ticket("CS-000001")["priority"] == "P2"
    assert _post(dave, "/console/tickets/CS-000099/priority", {"priority": "P1"}).status_code == 404
    assert "Closed: the time to reopen it is over." in _text(dave.get("/console/tickets/CS-000001"))


def test_the_recording_plays_in_the_page_through_its_signed_link_with_byte_ranges(paging):
    emergency_voicemail(paging, seconds=7)
    client = _signed_in(paging, "alice")
    page = client.get("/console/tickets/CS-000001").get_data(as_text=True)
    [src] = re.findall(r'<audio[^>]* src="([^"]+)"', page)
    assert src.startswith("/recordings/CS-000001?") and "sig=" in src  # the app's own link, never Twilio's
    with paging.runtime.store.reading() as session:
        sid = session.get(Ticket, 1).recording_sid
    paging.fake.add_recording(sid, 7)
    answer = client.get(html.unescape(src))
    assert answer.status_code == 200 and answer.mimetype == "audio/mpeg"
    assert answer.data == recording_audio(sid, 7)
    part = client.get(html.unescape(src), headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == recording_audio(sid, 7)[100:200]
    assert client.get(html.unescape(src).replace("sig=", "sig=0")).status_code == 403


# -- schedule and calendar --------------------------------------------------------------------------
def test_an_override_added_in_the_console_shows_in_the_rotation_and_can_be_removed(paging):
    client = _signed_in(paging, "dave")
    bad = _post(client, "/console/schedule/overrides", {"staff": "carol", "starts": "2026-11-25T18:00",
                                                        "ends": "2026-11-25T08:00"}, token_from="/console/schedule")
    assert bad.status_code == 400 and "The end must be after the start." in _text(bad)
    assert _post(client, "/console/schedule/overrides", {"staff": "carol", "starts": "tomorrow", "ends": "x"},
                 token_from="/console/schedule").status_code == 400
    answer = _post(client, "/console/schedule/overrides", {"staff": "carol", "starts": "2026-11-25T18:00",
                                                           "ends": "2026-11-26T08:00"}, follow_redirects=True)
    page = _text(answer)
    assert "Carol Chen is primary on call from Wed 25 Nov 18:00 to Thu 26 Nov 08:00." in page
    assert "Carol Chen <span class=\"badge\">override</span>" in page
    assert oncall.who(paging.runtime, datetime(2026, 11, 25, 20, tzinfo=NY)).primary.id == "carol"
    override_id = oncall.upcoming_overrides(paging.runtime, paging.runtime.now())[0].id
    _post(client, f"/console/schedule/overrides/{override_id}/remove")
    assert oncall.who(paging.runtime, datetime(2026, 11, 25, 20, tzinfo=NY)).primary.id == "bob"
    assert "That override was already removed." in _text(
        _post(client, f"/console/schedule/overrides/{override_id}/remove", follow_redirects=True))


@pytest.mark.postgres
def test_each_person_has_a_private_calendar_feed_of_their_on_call_weeks(paging):
    oncall.add_override(paging.runtime, "alice", datetime(2026, 11, 25, 18, tzinfo=NY),
                        datetime(2026, 11, 26, 8, tzinfo=NY))
    client = _signed_in(paging, "alice")
    link = re.search(r'value="(http://localhost/console/calendar/alice/[^"]+)"',
                     client.get("/console/schedule").get_data(as_text=True)).group(1)
    path = link.removeprefix("http://localhost")
    anyone = paging.app.test_client()  # a calendar app: no session
    feed = anyone.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    text = feed.get_data(as_text=True)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "\r\nEND:VCALENDAR\r\n" in text
    assert "DTSTART:20261125T230000Z\r\nDTEND:20261126T130000Z" in text  # the override, in UTC
    assert "SUMMARY:On call (primary) for SmartPath Technologies" in text
    assert "SUMMARY:On call (secondary) for SmartPath Technologies" in text  # the week before hers (Carol's)
    assert "DTSTART:20261207T140000Z\r\nDTEND:20261214T140000Z" in text  # her rotation week
    assert anyone.get(path[:-5] + "x.ics").status_code == 404
    assert anyone.get(path.replace("/alice/", "/bob/")).status_code == 404
    _post(client, "/console/schedule/calendar/alice/renew", token_from="/console/schedule")
    assert anyone.get(path).status_code == 404


def test_shifts_split_at_handoffs_and_where_an_override_changes_who_is_on_call():
    config = parse_config(config_with())

    class Override:
        def __init__(self, staff_id, starts, ends):
            self.staff_id, self.starts_at, self.ends_at = staff_id, starts, ends

    monday = datetime(2026, 11, 23, 9, tzinfo=NY)
    carol = Override("carol", datetime(2026, 11, 27, 18, tzinfo=NY), datetime(2026, 11, 28, 9, tzinfo=NY))
    found = shifts(config, [carol], monday, monday + timedelta(weeks=2))
    assert [(s.starts.astimezone(NY).strftime("%a %d %H:%M"), s.primary.id, s.secondary.id, s.override)
            for s in found] == [("Mon 23 09:00", "bob", "carol", False), ("Fri 27 18:00", "carol", "bob", True),
                                ("Sat 28 09:00", "bob", "carol", False), ("Mon 30 09:00", "carol", "alice", False)]
    assert found[-1].ends == monday + timedelta(weeks=2)
    alone = parse_config(config_with(oncall={"rotation": ["alice"]}))
    weeks = shifts(alone, [], monday, monday + timedelta(weeks=2))
    assert [(s.starts.astimezone(NY).day, s.primary.id, s.secondary) for s in weeks] == [(23, "alice", None),
                                                                                         (30, "alice", None)]
    carols = duties("carol", found)
    assert [(d.role, d.starts.astimezone(NY).day, d.ends.astimezone(NY).day) for d in carols] == [
        ("secondary", 23, 27), ("primary", 27, 28), ("secondary", 28, 30), ("primary", 30, 7)]


# -- directory ------------------------------------------------------------------------------------
def test_the_directory_import_reports_each_rejected_row_and_lists_contacts_with_their_pin(paging):
    client = _signed_in(paging, "dave")
    csv_text = ("client,name,phone,email\nAcme Dental,Jane Doe,+12705550150;(270) 555-0151,jane@acme.example\n"
                "Acme Dental,,+12705550152,\nCedar Law,Tom Becker,555-01,tom@cedar.example\n")
    upload = {"file": (io.BytesIO(csv_text.encode("utf-8-sig")), "contacts.csv")}
    answer = _post(client, "/console/directory/import", upload, token_from="/console/directory",
                   content_type="multipart/form-data")
    page = _text(answer)
    assert answer.status_code == 200
    assert "1 added, 0 updated, 0 unchanged, 2 rejected." in page
    assert "<td class=\"num\">3</td><td>missing name</td>" in page
    assert "<td class=\"num\">4</td><td>bad phone number &#39;555-01&#39;</td>" in page
    with paging.runtime.store.reading() as session:
        jane = session.query(Contact).one().id
    assert identity.set_pin(paging.runtime, jane, "492107") is None
    listing = _text(client.get("/console/directory?q=acme"))
    assert "Jane Doe" in listing and "(270) 555-0150" in listing and "(270) 555-0151" in listing
    assert '<td data-label="PIN">set</td>' in listing
    assert "No contact matches." in _text(client.get("/console/directory?q=zebra"))
    # A long file goes in a transaction per hundred rows; a rejected line keeps its number.
    rows = [f"Big Client,Person {n},+1270556{n:04d}," if n != 180 else "Big Client,Person 180,12," for n in range(250)]
    big = {"file": (io.BytesIO(("client,name,phone,email\n" + "\n".join(rows)).encode()), "big.csv")}
    page = _text(_post(client, "/console/directory/import", big, token_from="/console/directory",
                       content_type="multipart/form-data"))
    assert "249 added, 0 updated, 0 unchanged, 1 rejected." in page
    assert "<td class=\"num\">182</td><td>bad phone number &#39;12&#39;</td>" in page
    wrong = {"file": (io.BytesIO(b"name,phone\nJane,+12705550150\n"), "contacts.csv")}
    refused = _post(client, "/console/directory/import", wrong, token_from="/console/directory",
                    content_type="multipart/form-data")
    assert refused.status_code == 400 and "The CSV has no column(s) client, email" in _text(refused)



def test_the_directory_shows_contracts_short_pins_and_locks_and_a_manager_resets_a_lock(paging, caplog):
    ids = seed(paging)  # Ann has a PIN, Ben none yet, Gil none
    globex = next(c["id"] for c in paging.api("/api/clients").get_json()["clients"] if c["name"] == "Globex")
    assert paging.api(f"/api/clients/{globex}", method="PATCH",
                      json={"after_hours": "page", "require_pin": True, "language": "es"}).status_code == 200
    with paging.runtime.store.transaction() as session:  # as the release before stored it: no length kept
        session.get(Contact, ids["ben"]).pin_hash = argon2.PasswordHasher().hash("4827")
    _wrong_pins(paging, 5, from_=ANN)  # Ann's PIN entry locks for 30 minutes
    client = _signed_in(paging, "dave")
    page = _text(client.get("/console/directory"))
    clients = page.split('id="clients"')[1].split('id="contacts"')[0]
    assert ('<td data-label="Client">Globex</td> <td data-label="After hours">page the on-call technician</td> '
            '<td data-label="PIN required">yes</td> <td data-label="Language">Spanish</td>') in clients
    assert ('<td data-label="Client">Acme Dental</td> <td data-label="After hours">voicemail for the next business '
            'day</td> <td data-label="PIN required">no</td> <td data-label="Language">English</td>') in clients
    rows = dict(re.findall(r'<td data-label="Contact">([^<]+)</td>.*?<td data-label="PIN">(.*?)</tr>', page))
    assert rows["Ann Archer"].startswith("set</td>") and "locked</span> until <time" in rows["Ann Archer"]
    assert ">Reset PIN lock<span class=\"visually-hidden\"> of Ann Archer</span>" in rows["Ann Archer"]
    assert "short</span> set before today's minimum: ask for a new one" in rows["Ben Baker"]
    assert rows["Gil Gray"] == 'none</td> <td data-label="PIN entry">open</td> '
    assert "Acme Dental" in _text(client.get("/console/directory?q=acme")).split('id="clients"')[1]

    assert _post(_signed_in(paging, "alice"), f"/console/directory/contacts/{ids['ann']}/reset-pin-lock",
                 token_from="/console/").status_code == 403
    assert "You are verified" not in _right_pin(paging)
    caplog.set_level(logging.INFO)
    answer = _post(client, f"/console/directory/contacts/{ids['ann']}/reset-pin-lock", {"q": "acme"},
                   token_from="/console/directory")
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/directory?q=acme#contacts"
    page = _text(client.get(answer.headers["Location"]))
    assert "PIN entry for Ann Archer is unlocked: they can key their PIN again." in page
    assert ">Reset PIN lock<" not in page
    assert f"PIN lock of contact {ids['ann']} reset by manager dave" in caplog.text
    assert "You are verified" in _right_pin(paging)
    assert "PIN entry for Ann Archer was not locked." in _text(_post(
        client, f"/console/directory/contacts/{ids['ann']}/reset-pin-lock", token_from="/console/directory",
        follow_redirects=True))
    assert _post(client, "/console/directory/contacts/999/reset-pin-lock",
                 token_from="/console/directory").status_code == 404


def _right_pin(stack) -> str:
    return reach_pin_prompt(stack, ANN).press(ANN_PIN + "#").said


# -- the timeline in words ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent
# Event names the code computes: where, the expression, and what it can be. A new computed name fails
# the test below until it is listed here, and so gets words.
COMPUTED_EVENTS = {
    ("dispatch/tickets/changes.py", "change"): lambda kinds: set(),  # record(): its callers name the change
    ("dispatch/calls/intake.py", "event"): lambda kinds: _events_of_a_call(),
    ("dispatch/notification/delivery.py", "EVENTS.get(page.kind, f'{page.kind}_sent')"):
        lambda kinds: {EVENTS.get(kind, f"{kind}_sent") for kind in kinds},
    ("dispatch/sla/alerts.py", "f'sla_{alert.stage}'"): lambda kinds: {f"sla_{WARNING}", f"sla_{BREACH}"},
}
# Kinds of pages (texts and calls about a ticket) the code computes.
COMPUTED_KINDS = {("dispatch/followup/outgoing.py", "kind"): set(),  # _queue(): its callers name the kind
                  ("dispatch/sla/alerts.py", "f'sla_{alert.stage}'"): {f"sla_{WARNING}", f"sla_{BREACH}"}}


def _events_of_a_call() -> set[str]:
    """The events a call's callbacks make (``intake._complete``): the names it appends."""
    tree = ast.parse((ROOT / "dispatch/calls/intake.py").read_text())
    complete = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_complete")
    found = set()
    for node in ast.walk(complete):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "events.append":
            name = node.args[0].elts[0]
            if isinstance(name, ast.Constant):
                found.add(name.value)
            else:  # "recording_" + the recording's status, when it is absent or failed
                assert ast.unparse(name) == "'recording_' + report.recording_status", ast.unparse(name)
                found |= {"recording_absent", "recording_failed"}
    return found


def _written_events() -> set[str]:
    """Every timeline event name the code writes (``add_event``, ``changes.record``), read from the code."""
    calls, kinds, unknown = [], set(), []
    for path in sorted([*(ROOT / "dispatch").rglob("*.py"), *(ROOT / "ivr").rglob("*.py")]):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            function = ast.unparse(node.func)
            name = kind = None
            if function.split(".")[-1] == "add_event" and len(node.args) >= 2:
                name = node.args[1]
            elif function in ("changes.record", "record") and where != "dispatch/calls/log.py" and len(node.args) >= 3:
                name = node.args[2]
            elif function == "Page":
                kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
            elif function in ("outgoing.to_staff", "outgoing.to_caller") and len(node.args) >= 3:
                kind = node.args[2]
            if name is not None:
                calls.append((where, name))
            if kind is not None:
                if isinstance(kind, ast.Constant):
                    kinds.add(kind.value)
                elif (where, ast.unparse(kind)) in COMPUTED_KINDS:
                    kinds |= COMPUTED_KINDS[(where, ast.unparse(kind))]
                else:
                    unknown.append(f"kind {ast.unparse(kind)} in {where}")
    names = set()
    for where, name in calls:
        if isinstance(name, ast.Constant):
            names.add(name.value)
        elif (where, ast.unparse(name)) in COMPUTED_EVENTS:
            names |= COMPUTED_EVENTS[(where, ast.unparse(name))](kinds)
        else:
            unknown.append(f"event {ast.unparse(name)} in {where}")
    assert unknown == [], "computed names the test cannot tell: list what they can be in COMPUTED_EVENTS/_KINDS"
    return names


def test_every_event_the_code_writes_has_words_on_the_console_timeline():
    written = _written_events()
    assert {"created", "owner", "waiting", "wait_ended", "sla_warning", "caller_resolved_sent", "page_bundled",
            "pin_locked", "handoff_retrying", "recording_absent", "callback"} <= written  # the reading works
    assert sorted(written - timeline.WORDED) == []
    assert sorted(timeline.WORDED - written) == []  # no words for an event nobody writes (a misspelling)


def test_each_event_reads_as_a_sentence_with_its_details_and_an_unknown_one_shows_them():
    config = parse_config(config_with())

    def line(name, **detail):
        return timeline.words(config, TimelineEvent(event=name, at=datetime(2026, 11, 24, 15, tzinfo=NY),
                                                    detail=detail))

    assert line("owner", before=None, after="bob", by="dave", via="console").text == \
        "Given to Bob Brown by Dave Diaz in the console."
    assert line("reopened", by="caller", via="sms").text == "Reopened by the caller by SMS."
    assert line("resolved", by=None, via="followup", reason="no contact").text == \
        "Resolved for no contact: the caller answered none of the reminders."
    assert line("sla_breach", target="response", due="2026-11-24T19:00:00+00:00", staff=["dave"]).text == \
        "The response target was missed (due Tue 24 Nov 14:00): Dave Diaz told."
    assert line("caller_reminder_sent", staff="caller", channel="sms", sid="SM1").text == \
        "The caller was reminded by text that the ticket waits on them."
    assert line("callback_refused", by="alice", via="console", reason="country", detail="GB").text == \
        "Alice Adams asked in the console to call the caller back, refused: not a country we call."
    assert line("wait_ended", reason="the caller replied", text="Still broken", via="sms").quote == "Still broken"
    assert line("pin_locked", contact="Ann Archer", failures=5, lock=3, until=None, reset_needed=True).text == \
        "PIN entry locked for Ann Archer after 5 wrong PINs, until a manager resets it."
    odd = line("owner", something="else")  # not the details its words expect: shown as they are
    assert odd.text == "Owner" and odd.extra == (("something", "else"),)
    unknown = line("brand_new_event", by="alice", count=2)
    assert unknown.text == "Brand new event" and unknown.extra == (("by", "Alice Adams"), ("count", "2"))
