"""The CSV import that fills the directory: clients, contacts and their phones."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field

from sqlalchemy import select

from core import phones
from dispatch.directory.models import AFTER_HOURS, LANGUAGES, Client, Contact, ContactPhone


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


REQUIRED_COLUMNS = ("client", "name", "phone", "email")
CONTRACT_COLUMNS = ("after_hours", "require_pin", "language")  # optional: the client's contract
TRUE, FALSE = ("true", "yes", "1"), ("false", "no", "0")


def import_csv(session, stream, region: str) -> ImportReport:
    """Upsert clients and contacts from CSV columns ``client,name,phone,email``, and optionally the
    client's contract: ``after_hours`` (next_day | page), ``require_pin`` (true | false), ``language``.

    A contact is identified by client and name; its phones (``;``-separated) and email
    are replaced by the row's. A contract cell left empty leaves the client's term as it is.
    A row with a missing name or client, any number that is not a valid phone number, or
    a contract term that is not one of its values, is rejected whole with its reason.
    """
    report = ImportReport()
    reader = _reader(stream)
    _import_rows(session, ((reader.line_num, row) for row in reader), region, report)
    return report


def import_csv_in_batches(store, stream, region: str, rows_per_transaction: int = 100) -> ImportReport:
    """:func:`import_csv`, a transaction for each ``rows_per_transaction`` rows.

    A long import in one transaction would hold SQLite's one write lock for all of it (seconds
    for some thousands of rows), and every webhook's write would wait behind it, past its time
    limit. In batches, others write in between. A failure part way keeps the batches before it;
    importing the same file again finishes the work (rows already in are unchanged).
    """
    report = ImportReport()
    reader = _reader(stream)
    batch: list[tuple[int, dict]] = []
    for row in reader:
        batch.append((reader.line_num, row))
        if len(batch) >= rows_per_transaction:
            with store.transaction() as session:
                _import_rows(session, batch, region, report)
            batch = []
    if batch:
        with store.transaction() as session:
            _import_rows(session, batch, region, report)
    return report


def _reader(stream) -> csv.DictReader:
    reader = csv.DictReader(stream)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"the CSV has no column(s) {', '.join(missing)}; expected header: client,name,phone,email")
    return reader


def _import_rows(session, rows, region: str, report: ImportReport) -> None:
    for line, row in rows:
        client_name = (row.get("client") or "").strip()
        name = (row.get("name") or "").strip()
        email = (row.get("email") or "").strip() or None
        raw_phones = [p.strip() for p in (row.get("phone") or "").split(";") if p.strip()]
        if not client_name:
            report.rejected.append((line, "missing client"))
            continue
        if not name:
            report.rejected.append((line, "missing name"))
            continue
        if not raw_phones:
            report.rejected.append((line, "missing phone"))
            continue
        numbers, bad = [], None
        for raw in raw_phones:
            e164 = phones.normalise(raw, region)
            if e164 is None:
                bad = raw
                break
            if e164 not in numbers:
                numbers.append(e164)
        if bad is not None:
            report.rejected.append((line, f"bad phone number {bad!r}"))
            continue
        contract, problem = _contract(row)
        if problem is not None:
            report.rejected.append((line, problem))
            continue
        client = session.scalar(select(Client).where(Client.name == client_name))
        if client is None:
            client = Client(name=client_name)
            session.add(client)
            session.flush()
        terms_changed = any(getattr(client, term) != value for term, value in contract.items())
        for term, value in contract.items():
            setattr(client, term, value)
        contact = session.scalar(select(Contact).where(Contact.client_id == client.id, Contact.name == name))
        if contact is None:
            contact = Contact(client=client, client_id=client.id, name=name, email=email,
                              phones=[ContactPhone(e164=n) for n in numbers])
            session.add(contact)
            report.added += 1
        elif contact.email == email and [p.e164 for p in contact.phones] == numbers and not terms_changed:
            report.unchanged += 1
        else:
            contact.email = email
            kept = {p.e164: p for p in contact.phones}
            contact.phones = [kept.get(n) or ContactPhone(e164=n) for n in numbers]
            report.updated += 1
        session.flush()


def _contract(row: dict) -> tuple[dict, str | None]:
    """The contract terms a row gives (its non-empty contract cells), or the reason it is rejected."""
    terms = {}
    for name in CONTRACT_COLUMNS:
        value = (row.get(name) or "").strip()
        if value:
            terms[name] = value.lower() if name != "language" else value
    if "after_hours" in terms and terms["after_hours"] not in AFTER_HOURS:
        return {}, f"after_hours must be {' or '.join(AFTER_HOURS)}, not {terms['after_hours']!r}"
    if "require_pin" in terms:
        if terms["require_pin"] not in TRUE + FALSE:
            return {}, f"require_pin must be true or false, not {terms['require_pin']!r}"
        terms["require_pin"] = terms["require_pin"] in TRUE
    if "language" in terms and terms["language"] not in LANGUAGES:
        return {}, f"language must be one of {', '.join(LANGUAGES)}, not {terms['language']!r}"
    return terms, None
