"""Spanish: offered with [menu.languages], or from the greeting on for a client whose contract says
so; the rest of the call, the ticket and the callback in Spanish with a Spanish voice, while the
technicians' pages stay in English and say "(Spanish speaker)"."""
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import update

import voice_prompts
from core.config import LANGUAGES, ConfigError, parse_config
from dispatch.directory.models import Client
from tests.dispatch_support import events, paging_stack, settle
from tests.support import config_with
from tests.verification_helpers import ANN, ANN_PIN, contact_id, run_callbacks, seed

SPANISH = "es-US"


@pytest.fixture
def bilingual(tmp_path, redis_url, database_url):
    config = config_with(menu={"languages": {"es": "9"}})
    stack = paging_stack(tmp_path, redis_url, database_url, config=config)
    yield stack
    stack.fake.stop()
    stack.runtime.store.dispose()


def voices(call) -> list[tuple[str, str]]:
    """(language, words) of each line heard."""
    return list(zip(call.voices, call.heard))


def test_every_sentence_a_caller_hears_or_reads_has_its_spanish(stack):
    assert voice_prompts.missing("es") == set()
    assert set(voice_prompts.LANGUAGES) == set(LANGUAGES)  # the configuration knows every catalogue
    assert voice_prompts.say("menu_repeat", "es") == "Para escuchar las opciones de nuevo, oprima asterisco."
    assert voice_prompts.say("sms_reply_help", "es") == voice_prompts.say("sms_reply_help")  # technicians: English


def test_the_greeting_offers_spanish_in_a_spanish_voice_and_9_switches_the_call(bilingual):
    call = bilingual.call()
    assert voices(call)[:3] == [("en-US", "Thank you for calling SmartPath Technologies."),
                                ("en-US", "If this is an emergency, dial 5 0 1 now, at any time."),
                                (SPANISH, "Para español, oprima 9.")]
    say = ET.fromstring(call.documents[-1]).find("Gather")[2]
    assert (say.get("voice"), say.get("language")) == ("Polly.Lupe", SPANISH)
    call.press("9")
    assert set(call.voices[-len(call.heard[call._mark:]):]) == {SPANISH}
    assert call.said == ("Gracias por llamar a SmartPath Technologies. Si es una emergencia, marque 5 0 1 ahora, "
                         "a cualquier hora. Para soporte técnico, oprima 1. Para acceso a su cuenta o ayuda con "
                         "contraseñas, oprima 2. Para saber el estado de un ticket, oprima 3. Para escuchar las "
                         "opciones de nuevo, oprima asterisco.")
    call.press("8")
    assert call.said.startswith("Disculpe, 8 no es una de las opciones.")


def test_a_spanish_voicemail_is_a_spanish_ticket_paged_in_english(bilingual):
    bilingual.at(2026, 11, 24, 3, 0)
    call = bilingual.call()
    call.press("9").press("501")
    assert call.said.startswith("Ha llamado a la línea de emergencias.") and call.state == "record"
    record = ET.fromstring(call.documents[-1]).find("Record")
    assert record.get("transcribe") == "false"  # Twilio transcribes English only
    call.leave_message(seconds=40)
    assert call.said.startswith("Su número de ticket es 1. Repetimos: ticket 1. Estamos avisando ahora al técnico "
                                "de guardia, que le devolverá la llamada en menos de 15 minutos.")
    assert set(call.voices) - {"en-US"} == {SPANISH} and call.voices[-1] == SPANISH
    call.deliver_callbacks()
    assert bilingual.ticket("CS-000001")["language"] == "es"
    settle(bilingual)
    [page] = bilingual.fake.messages
    assert page["body"].startswith("EMERGENCY unknown caller (Spanish speaker): 40-second voicemail, words to follow.")


def test_a_client_whose_contract_is_spanish_hears_spanish_from_the_greeting(stack):
    seed(stack)
    with stack.runtime.store.transaction() as session:
        session.execute(update(Client).where(Client.name == "Acme Dental").values(language="es"))
    call = stack.call(from_=ANN)
    assert call.heard[0] == "Gracias por llamar a SmartPath Technologies." and set(call.voices) == {SPANISH}
    assert "Para español" not in call.transcript
    call.press("1")  # business hours: the desk hears who, and that they speak Spanish
    assert call.said == "Le comunicamos con el servicio de soporte. Por favor, espere."
    assert call.desk_picks_up(press=None) == ("Support call from Acme Dental, Ann Archer, a Spanish speaker. "
                                              "Press 1 to accept.")


def test_verification_and_the_one_time_secret_in_spanish(bilingual):
    stack = bilingual
    ids = seed(stack)
    response = stack.api("/api/disclosures", method="POST",
                         json={"contact_id": ids["ann"], "secret": "Ab#1", "requested_by": "alice"})
    assert response.status_code == 201
    call = stack.call(from_=ANN).press("9").press("2")
    assert call.said.startswith("Marque el PIN que configuró en nuestro portal de clientes")
    call.press(ANN_PIN + "#")
    assert call.said.startswith("Tiene un mensaje de un solo uso esperándole.") and call.state == "ended"
    (placed,) = run_callbacks(stack)
    answered = stack.fake.answer_call(placed["sid"])
    assert answered.said.startswith("Hola, le llama SmartPath Technologies")
    answered.press("1").press(ANN_PIN + "#")
    assert answered.said == ("Tiene un mensaje de un solo uso esperándole. Tenga a mano papel y lápiz. "
                             "Oprima 1 cuando esté listo.")
    answered.press("1")
    assert answered.heard[answered._mark:answered._mark + 5] == [
        "Este es su mensaje de un solo uso. Tiene 4 caracteres, y se lee despacio, de uno en uno.",
        "A mayúscula, como en Alfa", "B minúscula, como en Bravo", "símbolo numeral", "número 1"]
    assert set(answered.voices) == {SPANISH}
    assert stack.api(f"/api/contacts?phone=%2B{ANN[1:]}").get_json()["contacts"][0]["id"] == contact_id(stack, ANN)


def test_voices_are_configuration(tmp_path, redis_url, database_url):
    config = config_with(menu={"languages": {"es": "9"}},
                         voices={"en": {"voice": "Polly.Matthew"}, "es": {"voice": "Polly.Miguel"}})
    stack = paging_stack(tmp_path, redis_url, database_url, config=config)
    try:
        says = ET.fromstring(stack.call().documents[-1]).iter("Say")
        assert {(s.get("voice"), s.get("language")) for s in says} == {("Polly.Matthew", "en-US"),
                                                                       ("Polly.Miguel", SPANISH)}
    finally:
        stack.fake.stop()


@pytest.mark.parametrize("patch, key", [
    ({"menu": {"languages": {"fr": "9"}}}, "menu.languages.fr"),
    ({"menu": {"languages": {"es": "1"}}}, "menu.languages.es"),   # support's digit
    ({"menu": {"languages": {"es": "0"}}}, "menu.languages.es"),   # the desk's
    ({"menu": {"languages": {"es": 9}}}, "menu.languages.es"),
    ({"voices": {"es": {"language": "spanish"}}}, "voices.es.language"),
    ({"voices": {"fr": {"voice": "Polly.Lea"}}}, "voices.fr"),
    ({"emergency": {"mode": "page"}}, "emergency.mode"),
    ({"emergency": {"ring_seconds": 2}}, "emergency.ring_seconds"),
])
def test_language_voice_and_emergency_keys_are_checked(patch, key):
    with pytest.raises(ConfigError) as raised:
        parse_config(config_with(**patch), "config.toml")
    assert str(raised.value).startswith(f"config.toml: {key}:"), str(raised.value)


def test_taken_live_in_spanish_says_so_to_the_technician(tmp_path, redis_url, database_url):
    stack = paging_stack(tmp_path, redis_url, database_url,
                         config=config_with(menu={"languages": {"es": "9"}}, emergency={"mode": "ring_oncall"}))
    stack.at(2026, 11, 24, 3, 0)
    try:
        call = stack.call()
        call.press("9").press("501")
        assert call.said == "Le comunicamos con el técnico de guardia. Por favor, espere."
        heard = call.desk_picks_up(press="1")
        assert heard.startswith("Emergency call from 2 7 0, 5 5 5, 0 1 9 9, a Spanish speaker. Press 1 to take it.")
        call.dial_result("completed", duration=60)
        ticket = stack.ticket("CS-000001")
        assert ticket["language"] == "es" and events(ticket, "taken_live")
    finally:
        stack.fake.stop()
