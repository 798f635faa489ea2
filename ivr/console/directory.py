"""The Directory page, for managers: clients with their contract settings, their contacts and phones,
each contact's PIN (set, short, locked) and the manager's reset of a PIN lock; and the CSV import
with its report, line by line."""
from __future__ import annotations

import io
import logging

from flask import abort, flash, g, redirect, request, url_for

from core.db import parse_id
from dispatch import directory
from dispatch.directory.listing import clients_page, contacts_page
from dispatch.staff import roles
from dispatch.verification import pin_lock
from ivr.console.base import LARGER_REQUESTS, allowed_when, bp, page, say
from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)

PAGE_SIZE = 100
CLIENTS_PAGE = 50


def _directory(report=None, import_error: str | None = None, status: int = 200):
    runtime = _runtime()
    search = (request.args.get("q") or "").strip()[:100]
    offset = parse_id(request.args.get("start")) or 0
    clients_from = parse_id(request.args.get("clients_from")) or 0
    with runtime.store.reading() as session:
        contacts, total = contacts_page(session, search or None, PAGE_SIZE, offset)
        clients, client_total = clients_page(session, search or None, CLIENTS_PAGE, clients_from)
        pins = pin_lock.states(session, contacts, runtime.now())
    return page("console/directory.html", status, title="Directory", nav="directory", contacts=contacts,
                total=total, search=search, report=report, pins=pins, offset=offset,
                previous=max(0, offset - PAGE_SIZE) if offset else None,
                following=offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
                clients=clients, client_total=client_total,
                clients_previous=max(0, clients_from - CLIENTS_PAGE) if clients_from else None,
                clients_following=clients_from + CLIENTS_PAGE if clients_from + CLIENTS_PAGE < client_total else None,
                may_reset=pin_lock.may_reset(runtime.config, g.staff.id),
                import_error=import_error, max_mb=LARGER_REQUESTS["console.import_directory"] // (1024 * 1024))


@bp.get("/directory")
@allowed_when(roles.may_use_directory)
def directory_page():
    return _directory()


@bp.post("/directory/contacts/<int:contact_id>/reset-pin-lock")
@allowed_when(roles.may_use_directory)
def reset_pin_lock(contact_id: int):
    """A manager lifts a contact's PIN lock, as ``flask directory reset-pin-lock`` does (a third lock
    ends only this way, or with a new PIN)."""
    runtime = _runtime()
    if not pin_lock.may_reset(runtime.config, g.staff.id):
        abort(403)
    done = pin_lock.reset(runtime, contact_id, g.staff.id)
    if done is None:
        abort(404)
    name, was_locked = done
    flash(say("console_pin_unlocked" if was_locked else "console_pin_not_locked", name=name))
    back = url_for("console.directory_page", q=(request.form.get("q") or "")[:100] or None,
                   start=parse_id(request.form.get("start")))
    return redirect(back + "#contacts", code=303)


@bp.post("/directory/import")
@allowed_when(roles.may_use_directory)
def import_directory():
    runtime = _runtime()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _directory(import_error=say("console_import_no_file"), status=400)
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        return _directory(import_error=say("console_import_not_utf8"), status=400)
    try:
        report = directory.import_csv_in_batches(runtime.store, io.StringIO(text, newline=""), runtime.config.region)
    except ValueError as exc:
        return _directory(import_error=str(exc)[0].upper() + str(exc)[1:] + ".", status=400)
    log.info("directory import by %s: %d added, %d updated, %d unchanged, %d rejected", g.staff.id, report.added,
             report.updated, report.unchanged, len(report.rejected))
    return _directory(report=report)
