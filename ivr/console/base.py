"""What every console page shares: the blueprint, who is signed in, CSRF, security headers, errors,
and the filters that show times, numbers and people."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlsplit

import phonenumbers
from flask import Blueprint, abort, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import SQLAlchemyError

import voice_prompts
from core import phones
from dispatch.staff import accounts, roles
from dispatch.tickets.numbers import format_number
from dispatch.verification import secret_box
from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")
csrf = CSRFProtect()

SESSION_HOURS = 12  # a session unused this long ends (the cookie's own signed age says so)
PUBLIC = {"console.login", "console.sign_in"}
# Pages are the app's own: no script, style, media or form may come from or go anywhere else.
CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
                           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")


def install(app) -> None:
    """Session cookies signed with a key derived from the secret key, CSRF on every console form."""
    settings = app.extensions["runtime"].settings
    app.secret_key = secret_box.derived_key(settings, "console-session")
    app.config.update(
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.public_base_url and settings.public_base_url.startswith("https://")),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # Checked in this blueprint only: Twilio's webhooks are signed, the API has its bearer token.
        WTF_CSRF_CHECK_DEFAULT=False,
        # A page left open on a desk all shift must still act when a P1 comes: the token lives as
        # long as the session does.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True


def say(key: str, **values) -> str:
    return voice_prompts.say(key, **values)


# Requests that may be larger than the app's limit (Twilio's webhooks are small): the form is read
# first by the CSRF check, so the limit is set before it.
LARGER_REQUESTS = {"console.import_directory": 1024 * 1024}  # some 15,000 contacts


@bp.before_request
def _who_is_there():
    if request.endpoint in ("console.static", "console.calendar_feed"):  # no session, no form
        g.staff = None
        return None
    g.staff = _signed_in()
    if request.endpoint in LARGER_REQUESTS:
        request.max_content_length = LARGER_REQUESTS[request.endpoint]
    if request.method == "POST":
        csrf.protect()
    if request.endpoint in PUBLIC or g.staff is not None:
        return None
    if request.method == "GET":
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    return redirect(url_for("console.login"), code=303)


def _signed_in():
    staff_id, version = session.get("staff"), session.get("version")
    if not isinstance(staff_id, str) or not isinstance(version, int):
        return None
    runtime = _runtime()
    if not accounts.session_is_current(runtime, staff_id, version):
        session.clear()
        return None
    return runtime.config.staff[staff_id]


def start_session(staff_id: str, version: int) -> None:
    session.clear()  # nothing from before signing in carries over (a fixed session, an old CSRF token)
    session.permanent = True
    session["staff"], session["version"] = staff_id, version


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console page of this site, never another site."""
    if target and target.startswith("/console") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("console.now")


def allowed_when(rule):
    """A view only for staff that ``rule(staff)`` (``dispatch.staff.roles``) allows; 403 for the others."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not rule(g.staff):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def page(template: str, status: int = 200, /, **context):
    runtime = _runtime()
    me = g.get("staff")
    return render_template(template, company=runtime.config.company_name, me=me,
                           may_use_directory=bool(me) and roles.may_use_directory(me), **context), status


@bp.after_request
def _headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(CSRFError)
def _csrf_refused(exc):
    log.info("console form refused (%s) on %s", exc.description, request.path)
    return page("console/error.html", 400, title="Form expired", message=say("console_form_expired"))


@bp.errorhandler(SQLAlchemyError)
def _store_unavailable(exc):
    log.error("database error on %s: %s", request.path, type(exc).__name__)
    return page("console/error.html", 503, title="Ticket store unavailable", message=say("console_store_unavailable"))


@bp.errorhandler(413)
def _too_large(_exc):
    limit = LARGER_REQUESTS.get(request.endpoint)
    return page("console/error.html", 413, title="File too large",
                message=say("console_import_too_big", mb=limit // (1024 * 1024)) if limit else say("console_too_large"))


@bp.errorhandler(403)
def _forbidden(_exc):
    return page("console/error.html", 403, title="Not for your role", message=say("console_managers_only"))


@bp.errorhandler(404)
def _not_found(_exc):
    return page("console/error.html", 404, title="Not found", message=say("console_not_found"))


# -- how things are shown -------------------------------------------------------------------------
@bp.app_template_filter("local")
def local_time(moment: datetime | None, style: str = "short") -> str:
    """A time in the company's zone: ``short`` "Tue 24 Nov 10:05", ``time`` "10:05", ``day`` "Tue 24 Nov",
    ``long`` with the year and zone."""
    if moment is None:
        return "-"
    at = moment.astimezone(_runtime().config.timezone)
    if style == "time":
        return at.strftime("%H:%M")
    if style == "day":
        return f"{at:%a} {at.day} {at:%b}"
    if style == "long":
        return f"{at:%a} {at.day} {at:%b %Y %H:%M %Z}"
    return f"{at:%a} {at.day} {at:%b %H:%M}"


@bp.app_template_filter("left")
def left(remaining: timedelta | None) -> str:
    """How long until something is due: "2h 05m left", "3d 4h left", "overdue by 15m", "no target"."""
    if remaining is None:
        return say("console_no_target")
    minutes = int(abs(remaining.total_seconds())) // 60
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    span = f"{days}d {hours}h" if days else f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
    return say("console_left", span=span) if remaining > timedelta(0) else say("console_overdue", span=span)


@bp.app_template_filter("seconds")
def seconds(value: int | None) -> str:
    """A call's length: "0:42", "12:05"; "-" when unknown."""
    return "-" if value is None else f"{value // 60}:{value % 60:02d}"


@bp.app_template_filter("iso")
def iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


@bp.app_template_filter("phone")
def phone(number: str | None) -> str:
    """A number as people write it: national in the company's country, international elsewhere."""
    if not number or number == phones.ANONYMOUS:
        return "withheld"
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    region = _runtime().config.region
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if phonenumbers.region_code_for_number(parsed) == region
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(parsed, style)


@bp.app_template_filter("staff_name")
def staff_name(staff_id: str | None) -> str:
    person = _runtime().config.staff.get(staff_id or "")
    return person.name if person else (staff_id or "-")


def number_of(ticket_id: int) -> str:
    return format_number(_runtime().config.ticket_prefix, ticket_id)


@bp.app_template_filter("ticket_number")
def ticket_number(ticket_id: int) -> str:
    return number_of(ticket_id)
