"""A small directory and a few steps shared by the caller-verification tests."""
from __future__ import annotations

import io

from dispatch import directory

ANN = "+12705550150"       # Acme, has a PIN
ANN_DESK = "+12705550155"  # Ann's second number on file
BEN = "+12705550151"       # Acme, no PIN
GIL = "+12705550160"       # Globex
STRANGER = "+12705550177"  # on no contact's file
ANN_PIN = "492107"

DIRECTORY_CSV = f"""client,name,phone,email
Acme Dental,Ann Archer,{ANN};{ANN_DESK},ann@acme.example
Acme Dental,Ben Baker,{BEN},ben@acme.example
Globex,Gil Gray,{GIL},gil@globex.example
"""


def seed(stack) -> dict[str, int]:
    """Import the directory through the real CSV import and give Ann her PIN through the API."""
    with stack.runtime.store.transaction() as session:
        report = directory.import_csv(session, io.StringIO(DIRECTORY_CSV), stack.config.region)
    assert report.added == 3 and not report.rejected
    ids = {name: contact_id(stack, phone) for name, phone in (("ann", ANN), ("ben", BEN), ("gil", GIL))}
    response = stack.api(f"/api/contacts/{ids['ann']}/pin", method="PUT", json={"pin": ANN_PIN})
    assert response.status_code == 204, response.get_data(as_text=True)
    return ids


def contact(stack, phone: str) -> dict:
    response = stack.api(f"/api/contacts?phone={phone.replace('+', '%2B')}")
    assert response.status_code == 200, response.get_data(as_text=True)
    (found,) = response.get_json()["contacts"]
    return found


def contact_id(stack, phone: str) -> int:
    return contact(stack, phone)["id"]


def verification_tickets(stack) -> list[dict]:
    """Verification tickets, oldest first."""
    return [t for t in reversed(stack.tickets()) if t["kind"] == "verification"]


def events(ticket: dict, name: str | None = None) -> list:
    return [e for e in ticket["timeline"] if e["event"] == name] if name else [e["event"] for e in ticket["timeline"]]


def reach_pin_prompt(stack, from_: str, keyed: str | None = None):
    """Call, press the verification digit, key a number on file if asked; the call waits at the PIN question."""
    call = stack.call(from_=from_).press(stack.config.verification_digit)
    if keyed is not None:
        assert "phone number we have on file" in call.said
        call.press(keyed + "#")
    assert "the PIN you set on our client portal" in call.said, call.said
    return call


def run_callbacks(stack) -> list[dict]:
    """Let the worker place queued callbacks; the calls that reached the Twilio stand-in."""
    stack.run_worker()
    return list(stack.fake.calls)
