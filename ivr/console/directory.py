"""The Directory page, for managers: clients, their contacts and phones, whether each has a PIN; and
the CSV import with its report, line by line."""
from __future__ import annotations

import io
import logging

from flask import g, request

from dispatch import directory
from dispatch.directory.listing import contacts_page
from dispatch.staff import roles
from ivr.console.base import LARGER_REQUESTS, allowed_when, bp, page, say
from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)

PAGE_SIZE = 100


def _directory(report=None, import_error: str | None = None, status: int = 200):
    runtime = _runtime()
    search = (request.args.get("q") or "").strip()[:100]
    try:
        offset = max(0, int(request.args.get("start") or 0))
    except ValueError:
        offset = 0
    with runtime.store.reading() as session:
        contacts, total = contacts_page(session, search or None, PAGE_SIZE, offset)
    return page("console/directory.html", status, title="Directory", nav="directory", contacts=contacts,
                total=total, search=search, report=report,
                previous=max(0, offset - PAGE_SIZE) if offset else None,
                following=offset + PAGE_SIZE if offset + PAGE_SIZE < total else None,
                import_error=import_error, max_mb=LARGER_REQUESTS["console.import_directory"] // (1024 * 1024))


@bp.get("/directory")
@allowed_when(roles.may_use_directory)
def directory_page():
    return _directory()


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
