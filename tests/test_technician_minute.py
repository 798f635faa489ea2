"""The woken technician's minute: pages that say what is wrong, replies that say what they do, the
voice page's keys first, and every SMS in GSM-7."""
import io
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch import directory
from dispatch.escalation.sms_commands import Command, parse
from dispatch.notification.gsm7 import GSM7_BASIC, GSM7_EXTENDED, each_character, gsm7
from dispatch.tickets.numbers import keyed_candidates
from tests.dispatch_support import advance, deliver_all, emergency_voicemail, events, on_call, settle
from tests.support import CLIENT_PHONE, SUPPORT_NUMBER
from voice_prompts import speech


def text(stack, from_, body) -> list[str]:
    status, answer = stack.fake.sms_from(from_, body, SUPPORT_NUMBER)
    assert status == 200, answer
    return [m.text for m in ET.fromstring(answer).iter("Message")]


def test_a_transcript_that_comes_after_the_page_follows_it_with_its_first_words(paging):
    with paging.runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO(f"client,name,phone,email\nCafé Núñez,José Ruíz,{CLIENT_PHONE},\n"),
                             "US")
    people = on_call(paging)
    call = paging.call()
    call.press("501")
    call.leave_message(seconds=95, transcript="The payroll server is down and the backup too.")
    transcription = call.pending[1]
    call.deliver_callbacks(order=[0])  # the recording status; the transcription takes its time
    settle(paging)
    [page] = paging.fake.messages
    assert page["body"] == ("EMERGENCY Cafe Nunez (Jose Ruiz): 95-second voicemail, words to follow. "
                            "Call +12705550199. CS-000001. Reply ACK 1")
    assert (page["num_segments"], page["encoding"]) == (1, "GSM-7")  # accents dropped
    call.deliver_callbacks()  # the transcription, now
    settle(paging)
    assert [(m["to"], m["body"]) for m in paging.fake.messages[1:]] == [
        (people["primary"], 'CS-000001 Cafe Nunez (Jose Ruiz) said: "The payroll server is down and the backup '
                            'too." Reply ACK 1')]
    assert len(events(paging.ticket("CS-000001"), "transcript_sent")) == 1
    call.deliver_callbacks(order=[], repeat=True)
    paging.hooks.post(transcription[0], transcription[1])  # Twilio's retry of the same callback
    settle(paging)
    assert len(paging.fake.messages) == 2


@pytest.mark.parametrize("body, expected", [
    ("4", Command("ACK", None)), ("6", Command("RES", None)), ("4 12", Command("ACK", 12)),
    ("'6.'", Command("RES", None)), ("5", None), ("46", None), ("44", None),
])
def test_the_voice_pages_keys_work_as_replies(body, expected):
    assert parse(body, "CS") == expected


def test_4_and_6_by_sms_acknowledge_and_resolve_the_newest(paging):
    people = on_call(paging)
    emergency_voicemail(paging)
    settle(paging)
    assert text(paging, people["primary"], "4")[0].startswith("CS-000001 is yours.")
    assert text(paging, people["primary"], "6") == ["CS-000001 is resolved. Thank you."]
    assert paging.ticket("CS-000001")["status"] == "resolved"


def test_esc_says_who_is_paged_next_and_that_it_is_no_longer_yours(paging):
    people = on_call(paging)
    who = paging.api("/api/oncall").get_json()
    emergency_voicemail(paging)
    settle(paging)
    deliver_all(paging)
    advance(paging, minutes=5)  # the voice page to the primary
    assert text(paging, people["primary"], "ACK")[0].startswith("CS-000001 is yours.")
    assert text(paging, people["primary"], "ESC") == [
        f"CS-000001 is no longer yours: paging {who['secondary']['name']} now."]
    settle(paging)
    assert paging.fake.messages[-1]["to"] == people["secondary"]
    assert paging.fake.messages[-1]["body"].startswith("EMERGENCY unknown caller: ")


@pytest.fixture
def voice_paged(paging):
    emergency_voicemail(paging, transcript="Mail is down.")
    settle(paging)
    deliver_all(paging)
    advance(paging, minutes=5)
    return paging


def test_5_on_the_voice_page_escalates_and_says_to_whom(voice_paged):
    people = on_call(voice_paged)
    secondary = voice_paged.api("/api/oncall").get_json()["secondary"]["name"]
    phone = voice_paged.fake.answer_call(voice_paged.fake.calls[0]["sid"])
    phone.press("5")
    assert phone.said == f"Escalated. Paging {secondary} now. Ticket 1 is no longer yours. Goodbye."
    settle(voice_paged)
    assert [m["to"] for m in voice_paged.fake.messages] == [people["primary"], people["secondary"]]
    assert voice_paged.ticket("CS-000001")["status"] == "new"


def test_7_on_the_voice_page_takes_the_ticket_and_connects_to_the_caller(voice_paged):
    phone = voice_paged.fake.answer_call(voice_paged.fake.calls[0]["sid"])
    phone.press("7")
    assert phone.said == ("Ticket 1 is yours. Connecting you to the caller. They will see our support number.")
    assert phone.state == "dial" and phone.dial_numbers() == [CLIENT_PHONE]
    assert ET.fromstring(phone.documents[-1]).find("Dial").get("callerId") == SUPPORT_NUMBER
    phone.dial_result("completed", duration=300)
    ticket = voice_paged.ticket("CS-000001")
    assert ticket["status"] == "acknowledged" and events(ticket, "callback")[0]["seconds"] == 300


def test_a_withheld_caller_is_not_offered_7(paging):
    emergency_voicemail(paging, from_="Anonymous")
    settle(paging)
    deliver_all(paging)
    advance(paging, minutes=5)
    phone = paging.fake.answer_call(paging.fake.calls[0]["sid"])
    assert "Press 4 to acknowledge, 6 to resolve, 5 to escalate, 1 to hear the message, or star" in phone.said
    assert "They withheld their number." in phone.said


def test_numbers_and_words_as_they_are_said_and_keyed():
    assert speech.phone_number("+12705550199") == "2 7 0, 5 5 5, 0 1 9 9"
    assert speech.phone_number("+442079460958") == "0 2 0, 7 9 4 6, 0 9 5 8"
    assert speech.spoken_ticket(123) == "1 2 3"
    assert speech.keys("9*#", "en") == "9 star pound" and speech.keys("*", "es") == "asterisco"
    assert [speech.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
    assert keyed_candidates("27000123", "CS") == [27000123, 123]
    assert keyed_candidates("123#", "CS") == [123] and keyed_candidates("27", "CS") == [27]
    assert keyed_candidates("", "CS") == [] and keyed_candidates("0", "CS") == []
    assert gsm7("José Núñez – “ok” ¿Qué? £5") == 'Jose Nunez - "ok" ¿Que? £5'



@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text())
def test_an_sms_text_is_gsm7_on_one_line_and_plain_ascii_is_kept_as_it_is(text):
    out = gsm7(text)
    assert all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in out) and "\n" not in out
    assert out == " ".join(each_character(text).split())  # the ASCII shortcut changes nothing
    in_gsm7 = all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)
    if text.isascii() and in_gsm7 and " ".join(text.split()) == text:
        assert out == text
