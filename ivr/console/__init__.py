"""The operator console: server-rendered pages for staff at ``/console`` (Now, a ticket, Schedule,
Calls, Directory), signed in with the password ``staff set-password`` gives them.

Views only: HTTP in, calls to the domain, HTML out. Sessions are Flask's signed cookies, every
form carries a CSRF token, and each page is one small stylesheet with no script.
"""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from ivr.console import auth, calls, directory, now, schedule, tickets  # noqa: F401  (their routes)
    from ivr.console.base import bp, install

    install(app)
    app.register_blueprint(bp)
