"""The floor of the load benchmark: a bare Flask app answering every POST with the same
greeting TwiML the real ``/voice/incoming`` returns, read once from ``FLOOR_TWIML``.

No signature check, no Redis, no database: whatever latency it shows under the same
gunicorn settings and the same call pattern is the server's and the framework's own,
the least the real app could cost.

    FLOOR_TWIML=greeting.xml gunicorn --chdir bench floor_app:app
"""
import os
from pathlib import Path

from flask import Flask, Response

TWIML = Path(os.environ["FLOOR_TWIML"]).read_text()

app = Flask(__name__)


@app.post("/<path:path>")
def answer(path: str) -> Response:
    return Response(TWIML, mimetype="text/xml")
