"""Only Twilio may drive the phone tree: every webhook checks X-Twilio-Signature."""
from twilio.request_validator import RequestValidator

from core.settings import Settings
from tests.support import AUTH_TOKEN, CLIENT_PHONE, make_stack

PARAMS = {"CallSid": "CA" + "a" * 32, "From": CLIENT_PHONE, "To": "+12702054709", "CallStatus": "ringing"}
# The webhooks named in the interface, and some linked from TwiML: they must be among those checked.
KNOWN = {"/voice/incoming", "/voice/menu", "/voice/fallback", "/voice/status", "/voice/recorded",
         "/voice/recording-status", "/voice/transcription", "/sms/incoming", "/sms/status", "/verification/start",
         "/verification/callback", "/voice/desk-screen", "/voice/ticket-status", "/voice/voicemail",
         "/voice/page", "/voice/bridge"}


def twilio_routes(app) -> list[str]:
    """Every POST route of the app outside the bearer-token API and the operator console (whose forms
    carry CSRF tokens: tests/test_console.py): each is a Twilio webhook."""
    return sorted({rule.rule for rule in app.url_map.iter_rules()
                   if "POST" in rule.methods and not rule.rule.startswith(("/api/", "/console/"))})


def test_every_webhook_is_found_from_the_url_map(stack):
    routes = twilio_routes(stack.app)
    assert set(routes) >= KNOWN, KNOWN - set(routes)
    assert not [r for r in routes if "<" in r], "a webhook with a path variable: give the test a value for it"


def test_unsigned_requests_are_refused_on_every_webhook(stack):
    answers = {path: stack.client.post(path, data=PARAMS).status_code for path in twilio_routes(stack.app)}
    assert {path: status for path, status in answers.items() if status != 403} == {}


def test_requests_signed_with_another_token_are_refused_on_every_webhook(stack):
    answers = {}
    for path in twilio_routes(stack.app):
        signature = RequestValidator("not-the-token").compute_signature(f"http://localhost{path}", PARAMS)
        answers[path] = stack.client.post(path, data=PARAMS, headers={"X-Twilio-Signature": signature}).status_code
    assert {path: status for path, status in answers.items() if status != 403} == {}


def test_a_tampered_parameter_is_refused(stack):
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/voice/menu", {**PARAMS, "Digits": "1"})
    response = stack.client.post("/voice/menu", data={**PARAMS, "Digits": "501"},
                                 headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_a_tampered_query_string_is_refused(stack):
    signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/voice/voicemail?box=support", PARAMS)
    response = stack.client.post("/voice/voicemail?box=emergency", data=PARAMS,
                                 headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert stack.tickets() == []


def test_behind_a_proxy_the_public_url_is_what_is_validated(tmp_path, redis_url, database_url):
    stack = make_stack(tmp_path, redis_url, database_url, public_base_url="https://support.example.com")
    try:
        call = stack.call()  # signed for https://support.example.com/..., posted to the app locally
        assert "For support, press 1" in call.said
        local = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/voice/incoming", PARAMS)
        refused = stack.client.post("/voice/incoming", data=PARAMS, headers={"X-Twilio-Signature": local})
        assert refused.status_code == 403
    finally:
        stack.fake.stop()


def test_without_an_auth_token_every_webhook_is_refused(tmp_path, redis_url, database_url):
    stack = make_stack(tmp_path, redis_url, database_url, env={"TWILIO_AUTH_TOKEN": ""})
    try:
        signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost/voice/incoming", PARAMS)
        response = stack.client.post("/voice/incoming", data=PARAMS, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 403
    finally:
        stack.fake.stop()


def test_extra_parameters_twilio_adds_later_are_covered_by_the_signature(stack):
    status, body = stack.hooks.post("/voice/incoming", {**PARAMS, "StirVerstat": "TN-Validation-Passed-A",
                                                        "CallToken": "x" * 300})
    assert status == 200 and "For support" in body


def test_settings_never_show_their_secrets():
    """Settings end up in tracebacks and test reports (a Runtime's repr holds them)."""
    settings = Settings.from_env({"TWILIO_AUTH_TOKEN": "auth-secret", "API_TOKEN": "api-secret",
                                  "IVR_SECRET_KEY": "key-secret", "REDIS_URL": "redis://:redis-secret@h:6379/0",
                                  "DATABASE_URL": "postgresql+psycopg://ivr:db-secret@h/ivr"})
    shown = repr(settings)
    assert "secret" not in shown.replace("secret_key", "")
    assert "postgresql+psycopg://ivr:***@h/ivr" in shown and "redis://:***@h:6379/0" in shown
