"""Going live: ``twilio configure`` points the support number's webhooks at this app through the
real ``twilio`` client (against the stand-in, which keeps the account's numbers as Twilio
does), and ``doctor`` checks an installation, one line per check with its fix."""
from __future__ import annotations

import threading

from werkzeug.serving import make_server

from tests.support import SUPPORT_NUMBER, free_port, make_stack

BASE = "https://support.example.test"
WEBHOOKS = {"voice_url": f"{BASE}/voice/incoming", "voice_fallback_url": f"{BASE}/voice/fallback",
            "status_callback": f"{BASE}/voice/status", "sms_url": f"{BASE}/sms/incoming"}
METHODS = ("voice_method", "voice_fallback_method", "status_callback_method", "sms_method")


def _cli(stack, *args):
    return stack.app.test_cli_runner().invoke(args=list(args))


def _lines(output: str) -> dict[str, str]:
    """The doctor's lines by what they check: {"webhooks": "FAIL  webhooks  …", …}."""
    return {line.split()[1]: line for line in output.splitlines() if line[:4] in ("ok  ", "warn", "FAIL")}


def test_twilio_configure_points_the_numbers_webhooks_here(tmp_path, redis_url, database_url):
    stack = make_stack(tmp_path, redis_url, database_url, public_base_url=BASE)
    try:
        sid = stack.fake.add_number(SUPPORT_NUMBER, voice_url="https://old.example/voice", voice_method="GET",
                                    voice_application_sid="AP" + "1" * 32, sms_fallback_url="https://keep.example")
        stack.fake.add_number("+12705550100", voice_url="https://another.example/voice")
        dry = _cli(stack, "twilio", "configure", "--dry-run")
        assert dry.exit_code == 0, dry.output
        assert "was GET https://old.example/voice" in dry.output
        assert stack.fake.numbers[sid]["voice_url"] == "https://old.example/voice"  # changed nothing

        result = _cli(stack, "twilio", "configure")
        assert result.exit_code == 0, result.output
        number = stack.fake.numbers[sid]
        assert {field: number[field] for field in WEBHOOKS} == WEBHOOKS
        assert all(number[method] == "POST" for method in METHODS)
        assert number["voice_application_sid"] is None  # its own URLs answer now, not an application
        assert number["sms_fallback_url"] == "https://keep.example"  # what it does not own is left alone
        assert [n["voice_url"] for n in stack.fake.numbers.values() if n["sid"] != sid] == \
            ["https://another.example/voice"]
        assert ("POST", f"/2010-04-01/Accounts/{stack.fake.account_sid}/IncomingPhoneNumbers/{sid}.json") \
            in stack.fake.requests
        assert _cli(stack, "twilio", "configure").output.count("(unchanged)") == 4
        assert _cli(stack, "twilio", "show").output.count(" ok") == 4
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_twilio_configure_refuses_what_cannot_work(tmp_path, redis_url, database_url):
    for name in "abc":
        (tmp_path / name).mkdir()
    plain = make_stack(tmp_path / "a", redis_url, database_url, public_base_url="http://127.0.0.1:8000")
    unknown = make_stack(tmp_path / "b", redis_url, database_url, public_base_url=BASE)
    bare = make_stack(tmp_path / "c", redis_url, database_url, public_base_url=BASE,
                      env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
    try:
        refused = _cli(plain, "twilio", "configure")
        assert refused.exit_code == 1 and "give an https:// address" in refused.output
        missing = _cli(unknown, "twilio", "configure")  # the account has no such number
        assert missing.exit_code == 1 and f"{SUPPORT_NUMBER} (company.support_number) is not a number of this " \
            "Twilio account" in missing.output
        no_credentials = _cli(bare, "twilio", "configure")
        assert no_credentials.exit_code == 1 and "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are unset" \
            in no_credentials.output
        assert plain.fake.requests == [] and bare.fake.requests == []
    finally:
        for stack in (plain, unknown, bare):
            stack.fake.stop()
            stack.runtime.store.dispose()


def test_doctor_names_each_problem_with_its_fix_and_sends_a_test_sms(tmp_path, redis_url, database_url):
    # A public address that is https but where nothing answers; the number's webhooks not set yet.
    stack = make_stack(tmp_path, redis_url, database_url, public_base_url=f"https://127.0.0.1:{free_port()}")
    try:
        stack.fake.add_number(SUPPORT_NUMBER)
        first = _cli(stack, "doctor", "--test-sms", "alice")
        assert first.exit_code == 1, first.output
        lines = _lines(first.output)
        assert lines["config"].startswith("ok") and lines["public"].startswith("ok")
        assert lines["reachable"].startswith("FAIL") and "/health did not answer" in lines["reachable"]
        assert lines["Twilio"].startswith("ok") and "credentials accepted" in lines["Twilio"]
        assert lines["webhooks"].startswith("FAIL") and "fix: flask --app wsgi twilio configure" in lines["webhooks"]
        assert lines["database"].startswith("ok") and lines["schema"].startswith("ok")
        assert lines["Redis"].startswith("ok")
        assert lines["workers"].startswith("FAIL") and "fix: start python -m dispatch.worker" in lines["workers"]
        assert lines["spool"].startswith("ok") and lines["test"].startswith("ok")
        assert all("; fix: " in line for line in lines.values() if line.startswith("FAIL"))
        [sms] = stack.fake.messages
        assert sms["to"] == stack.config.staff["alice"].mobile and sms["body"].startswith("Test from the SmartPath")


        assert _cli(stack, "twilio", "configure").exit_code == 0  # the fix it named
        again = _lines(_cli(stack, "doctor").output)
        assert again["webhooks"].startswith("ok") and "points at https://127.0.0.1:" in again["webhooks"]
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_doctor_reaches_the_app_at_its_public_address(tmp_path, redis_url, database_url):
    port = free_port()
    stack = make_stack(tmp_path, redis_url, database_url, public_base_url=f"http://127.0.0.1:{port}",
                       env={"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""})
    server = make_server("127.0.0.1", port, stack.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = _cli(stack, "doctor")
        lines = _lines(result.output)
        assert result.exit_code == 1
        assert lines["reachable"].startswith("ok") and f"http://127.0.0.1:{port}/health answers" in lines["reachable"]
        assert lines["public"].startswith("FAIL") and "is not https" in lines["public"]
        assert lines["Twilio"].startswith("FAIL") and "no credentials" in lines["Twilio"]
    finally:
        server.shutdown()
        stack.fake.stop()
        stack.runtime.store.dispose()
