"""The directory behind verification: CSV import, contact look-up, and portal PINs."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from dispatch.directory.models import Contact
from tests.support import config_with, make_stack
from tests.verification_helpers import ANN, BEN, contact, seed

pytestmark = pytest.mark.postgres


def _import(stack, tmp_path, text: str):
    path = tmp_path / "directory.csv"
    path.write_text(text, encoding="utf-8")
    return stack.app.test_cli_runner().invoke(args=["directory", "import", str(path)])


def test_import_reports_added_updated_unchanged_and_rejected_rows_with_reasons(stack, tmp_path):
    first = _import(stack, tmp_path, "client,name,phone,email\n"
                                     "Acme Dental,Ann Archer,(270) 555-0150;270.555.0155,ann@acme.example\n"
                                     "Acme Dental,Ben Baker,+1 270 555 0151,\n")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == "2 added, 0 updated, 0 unchanged, 0 rejected"
    assert contact(stack, ANN)["phones"] == [ANN, "+12705550155"]  # national numbers read in the US

    second = _import(stack, tmp_path, "client,name,phone,email\n"
                                      "Acme Dental,Ann Archer,2705550150,ann@new.example\n"
                                      "Acme Dental,Ben Baker,+12705550151,\n"
                                      "Acme Dental,,2705550152,nobody@acme.example\n"
                                      "Acme Dental,Cy Cole,555-0199,cy@acme.example\n"
                                      ",Di Dunn,2705550153,\n"
                                      "Acme Dental,Ed Eng,,ed@acme.example\n")
    assert second.exit_code == 0, second.output
    lines = second.output.splitlines()
    assert lines[0] == "0 added, 1 updated, 1 unchanged, 4 rejected"
    assert lines[1:] == ["  line 4: rejected: missing name", "  line 5: rejected: bad phone number '555-0199'",
                         "  line 6: rejected: missing client", "  line 7: rejected: missing phone"]
    ann = contact(stack, ANN)
    assert ann["email"] == "ann@new.example" and ann["phones"] == [ANN]
    assert contact(stack, BEN)["client"] == "Acme Dental"


def test_import_reads_national_numbers_in_the_company_country(tmp_path, redis_url, database_url):
    london = config_with(company={"name": "SmartPath UK", "timezone": "Europe/London",
                                  "support_number": "+442079460000", "ticket_prefix": "CS"})
    stack = make_stack(tmp_path, redis_url, database_url, config=london)
    try:
        result = _import(stack, tmp_path, "client,name,phone,email\nBrit Ltd,Bea Bell,020 7946 0018,\n")
        assert result.exit_code == 0 and result.output.startswith("1 added"), result.output
        assert contact(stack, "+442079460018")["name"] == "Bea Bell"
    finally:
        stack.fake.stop()
        stack.runtime.store.dispose()


def test_import_without_the_expected_columns_says_which_are_missing(stack, tmp_path):
    result = _import(stack, tmp_path, "client,fullname,phone\nAcme,Ann,2705550150\n")
    assert result.exit_code != 0 and "no column(s) name, email" in result.output


def test_contacts_are_found_by_phone_and_never_show_a_pin_hash(stack):
    ids = seed(stack)
    response = stack.api("/api/contacts?phone=%2B12705550150")
    assert response.status_code == 200
    (ann,) = response.get_json()["contacts"]
    assert ann == {"id": ids["ann"], "client": "Acme Dental", "name": "Ann Archer", "phones": [ANN, "+12705550155"],
                   "email": "ann@acme.example", "has_pin": True, "pin_short": False, "pin_lock": None}
    assert "argon2" not in response.get_data(as_text=True)
    assert stack.api("/api/contacts?phone=2705550151").get_json()["contacts"][0]["has_pin"] is False
    assert stack.api("/api/contacts?phone=%2B12705550177").get_json() == {"contacts": []}
    assert stack.api("/api/contacts?phone=hello").status_code == 400
    assert stack.api("/api/contacts").status_code == 400
    assert stack.client.get("/api/contacts?phone=%2B12705550150").status_code == 401


def test_trivial_pins_are_refused_with_a_reason_and_good_ones_are_stored_hashed(stack):
    ids = seed(stack)
    refused = {
        "000000": "one repeated digit", "111111": "one repeated digit", "123456": "consecutive digits",
        "987654": "consecutive digits", "121212": "repeats a short pattern", "550151": "own phone number",
        "705550": "own phone number", "123": "6 to 8 digits", "123456789": "6 to 8 digits",
        "12a456": "6 to 8 digits", "4921": "6 to 8 digits", "49217": "6 to 8 digits",
    }
    for pin, reason in refused.items():
        response = stack.api(f"/api/contacts/{ids['ben']}/pin", method="PUT", json={"pin": pin})
        assert response.status_code == 400 and reason in response.get_json()["error"], pin
        assert pin not in response.get_data(as_text=True)
    assert stack.api(f"/api/contacts/{ids['ben']}/pin", method="PUT", json={"pin": 492107}).status_code == 400
    assert stack.api(f"/api/contacts/{ids['ben']}/pin", method="PUT", data="nope").status_code == 400
    assert stack.api("/api/contacts/999/pin", method="PUT", json={"pin": "826419"}).status_code == 404

    response = stack.api(f"/api/contacts/{ids['ben']}/pin", method="PUT", json={"pin": "826419"})
    assert response.status_code == 204 and response.get_data() == b""
    assert contact(stack, BEN)["has_pin"] is True
    with stack.runtime.store.transaction() as session:
        stored = session.scalar(select(Contact.pin_hash).where(Contact.id == ids["ben"]))
    assert stored.startswith("pepper1:$argon2id$") and "826419" not in stored
