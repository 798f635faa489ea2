"""The work floor: the least work any correct support line must do, for the load benchmark to
measure beside the app, on the same machine, with the same load and the same Twilio stand-in.

The web side, under the same gunicorn settings as the app, checks Twilio's signature on every
request (twilio's ``RequestValidator``), answers the greeting and the 501 menu with the app's
own TwiML (static here), commits one ticket row per ``<Record>`` action (SQLite WAL, one
``INSERT … ON CONFLICT`` on the CallSid, ``synchronous=NORMAL`` as the app) and pushes its id
to a Redis list before answering with the ticket number, and answers the recording status
callback with one indexed read. The paging side, as many processes as the app's workers:
a blocking pop, one read of the row, one ``Messages.json`` POST to the stand-in. Nothing else.

    FLOOR_DB=… FLOOR_REDIS=… FLOOR_AUTH_TOKEN=… FLOOR_GREETING=g.xml FLOOR_MENU=m.xml \\
        gunicorn --chdir bench work_floor:app
    python bench/work_floor.py worker     # with FLOOR_DB, FLOOR_REDIS, FLOOR_TWILIO, FLOOR_AUTH_TOKEN
"""
from __future__ import annotations

import os
import sqlite3
import sys
import threading
from pathlib import Path

import redis
from flask import Flask, Response, abort, request
from twilio.request_validator import RequestValidator

PAGES = "floor:pages"
PREFIX = "WF"  # its pages' numbers, told apart from the app's in the stand-in's messages
SCHEMA = "CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, call_sid TEXT UNIQUE NOT NULL, caller TEXT)"
INSERT = ("INSERT INTO tickets (call_sid, caller) VALUES (?, ?) ON CONFLICT (call_sid) DO UPDATE "
          "SET caller = excluded.caller RETURNING id")

_local = threading.local()


def database() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(os.environ["FLOOR_DB"], timeout=5, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute(SCHEMA)
        _local.connection = connection
    return connection


def _twiml(text: str) -> Response:
    return Response(text, mimetype="text/xml")


if "FLOOR_GREETING" in os.environ:
    app = Flask(__name__)
    GREETING = Path(os.environ["FLOOR_GREETING"]).read_text()
    MENU = Path(os.environ["FLOOR_MENU"]).read_text()
    VALIDATOR = RequestValidator(os.environ["FLOOR_AUTH_TOKEN"])
    QUEUE = redis.Redis.from_url(os.environ["FLOOR_REDIS"])

    @app.before_request
    def signed():
        if not VALIDATOR.validate(request.url, request.form, request.headers.get("X-Twilio-Signature", "")):
            abort(403)

    @app.post("/voice/incoming")
    def incoming():
        return _twiml(GREETING)

    @app.post("/voice/menu")
    def menu():
        return _twiml(MENU)

    @app.post("/voice/recorded")
    def recorded():
        ticket_id = database().execute(INSERT, (request.form["CallSid"], request.form.get("From"))).fetchone()[0]
        QUEUE.lpush(PAGES, ticket_id)
        spelled = ", ".join(f"{PREFIX}{ticket_id}")
        return _twiml(f"<Response><Say>Your ticket number is {spelled}.</Say><Hangup/></Response>")

    @app.post("/voice/recording-status")
    def recording_status():
        database().execute("SELECT id FROM tickets WHERE call_sid = ?", (request.form.get("CallSid"),)).fetchone()
        return _twiml("<Response/>")

    @app.post("/<path:_rest>")
    def anything_else(_rest):
        return _twiml("<Response/>")


def worker() -> None:
    """Page each ticket pushed: one read, one Messages.json POST."""
    import requests

    from fake_twilio.phone import ACCOUNT_SID

    queue = redis.Redis.from_url(os.environ["FLOOR_REDIS"])
    session = requests.Session()
    session.auth = (ACCOUNT_SID, os.environ["FLOOR_AUTH_TOKEN"])
    url = f"{os.environ['FLOOR_TWILIO']}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    while True:
        popped = queue.brpop([PAGES], timeout=1)
        if popped is None:
            continue
        ticket_id = popped[1]
        caller = database().execute("SELECT caller FROM tickets WHERE id = ?", (int(ticket_id),)).fetchone()[0]
        session.post(url, data={"To": os.environ["FLOOR_PAGE_TO"], "From": os.environ["FLOOR_PAGE_FROM"],
                                "Body": f"{PREFIX}-{int(ticket_id):06d} EMERGENCY call {caller}"}, timeout=10)


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    worker()
