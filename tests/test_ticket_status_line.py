"""Option 3: a caller hears the status of their own ticket, and nobody else's."""
import io

from dispatch import directory
from tests.support import CLIENT_PHONE


def _leave_ticket(stack, from_=CLIENT_PHONE):
    call = stack.call(from_=from_)
    call.press("1")
    call.dial_result("no-answer")
    call.leave_message(seconds=10)


def test_a_caller_known_only_by_caller_id_hears_whether_a_technician_is_assigned(stack):
    """Caller ID proves nothing: the status and priority are for a caller verified on the call."""
    _leave_ticket(stack)
    call = stack.call()
    call.press("3")
    assert "enter your ticket number" in call.said
    call.press("1#")
    assert "Ticket 1 has not been assigned to a technician yet." in call.said
    assert "priority" not in call.said
    call.press("000001#")  # the digits as written on the ticket work too
    assert "Ticket 1 has not been assigned" in call.said
    stack.fake.sms_from("+12705550114", "ACK 1", stack.config.support_number)  # Dave, a manager, takes it
    assert "Ticket 1 has been assigned to a technician." in stack.call().press("3").press("1#").said


def test_another_callers_ticket_is_not_found(stack):
    _leave_ticket(stack, from_="+12705550188")
    call = stack.call()
    call.press("3")
    call.press("1#")
    assert "We could not find that ticket." in call.said
    call.press("77#")
    assert "We could not find that ticket." in call.said


def test_a_colleague_at_the_same_client_may_hear_the_status(stack):
    csv_text = "client,name,phone,email\nAcme,Ann,+12705550188,\nAcme,Ben,+12705550199,\n"
    with stack.runtime.store.transaction() as session:
        directory.import_csv(session, io.StringIO(csv_text), "US")
    _leave_ticket(stack, from_="+12705550188")
    call = stack.call(from_="+12705550199")
    call.press("3")
    call.press("1#")
    assert "Ticket 1 has not been assigned" in call.said


def test_anonymous_callers_hear_the_neutral_answer(stack):
    _leave_ticket(stack, from_="Anonymous")
    call = stack.call(from_="Anonymous")
    call.press("3")
    call.press("1#")
    assert "We could not find that ticket." in call.said


def test_silence_at_the_status_prompt_returns_to_the_menu(stack):
    call = stack.call()
    call.press("3")
    call.wait()
    assert "For support, press 1" in call.said and call.state == "gather"


def test_staying_on_the_line_after_a_status_returns_to_the_menu_without_an_apology(stack):
    _leave_ticket(stack)
    call = stack.call()
    call.press("3").press("1#")
    assert "Or stay on the line to return to the menu." in call.said
    call.wait()
    assert call.said.startswith("If this is an emergency, dial 5 0 1 now, at any time. For support, press 1."), \
        call.said
    assert "Sorry" not in call.said and call.state == "gather"
    call.press("3")  # the real menu: every option works from here
    assert "enter your ticket number" in call.said


def test_a_caller_verified_by_pin_on_the_call_hears_the_status_and_priority(stack):
    from tests.verification_helpers import ANN, ANN_PIN, reach_pin_prompt, seed

    seed(stack)
    _leave_ticket(stack, from_="+12705550151")  # Ben, Ann's colleague at Acme Dental: CS-000001
    call = reach_pin_prompt(stack, ANN).press(ANN_PIN + "#")  # verified on this call: CS-000002
    call.press("3").press("1#")
    assert "Ticket 1 is open and waiting for a technician, at normal priority." in call.said
    # The same question on a later call from Ann's number, not verified, hears less.
    later = stack.call(from_=ANN).press("3").press("1#")
    assert "has not been assigned to a technician yet" in later.said and "priority" not in later.said
