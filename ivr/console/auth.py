"""Signing in and out of the console."""
from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for

from dispatch.staff import accounts
from ivr.console.base import bp, page, safe_next, say, start_session
from ivr.context import runtime as _runtime


@bp.get("/login")
def login():
    if g.staff is not None:
        return redirect(safe_next(request.args.get("next")))
    return _form()


@bp.post("/login")
def sign_in():
    staff_id = (request.form.get("username") or "").strip().lower()
    password = request.form.get("password") or ""
    version = accounts.sign_in(_runtime(), staff_id, password)
    if version is None:
        return _form(say("console_sign_in_refused", minutes=accounts.LOCK_MINUTES, attempts=accounts.LOCK_AFTER),
                     username=staff_id[:40], status=401)
    start_session(staff_id, version)
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout():
    session.clear()
    flash(say("console_signed_out"))
    return redirect(url_for("console.login"), code=303)


def _form(error: str | None = None, username: str = "", status: int = 200):
    return page("console/login.html", status, title="Sign in", error=error, username=username,
                next=request.values.get("next", ""), lock_after=accounts.LOCK_AFTER,
                lock_minutes=accounts.LOCK_MINUTES)
