"""Work a webhook owes but its caller need not wait for, run once the response has gone out.

The ``<Record>`` action commits the ticket (and its page, in the outbox) before it answers,
since the caller hears the ticket's number; handing the page to RQ is a Redis round trip the
caller need not wait for. The WSGI server closes the response after writing its last
byte (gunicorn, werkzeug's test client with ``buffered=True``), and Flask runs the
functions given to ``call_on_close`` then, in the same thread.

Nothing is lost if the process dies in between: the page is in the outbox, and the
workers' sweep (``dispatch.recovery.sweep_overdue``) queues any P1 whose page never began.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import after_this_request

log = logging.getLogger(__name__)


def after_response(work: Callable[[], object]) -> None:
    """Run ``work`` after this request's response is sent. It runs outside the request's
    context (Flask has popped it by then), so it must carry what it needs."""

    @after_this_request
    def attach(response):
        response.call_on_close(lambda: _run(work))
        return response


def _run(work: Callable[[], object]) -> None:
    try:
        work()
    except Exception:  # the response is gone: nobody else would hear of it
        log.exception("work after the response failed: %s", getattr(work, "__name__", work))
