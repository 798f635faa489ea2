"""HTTP in and out: Twilio's webhooks in, TwiML out; the JSON API; the operators' commands.

``create_app`` is the Flask application factory, around a runtime the composition root
(``wiring``) built; nothing here decides anything the domain (``dispatch``) owns.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core import logs
from dispatch import runtime as runtime_module
from dispatch.runtime import Runtime

if TYPE_CHECKING:
    from flask import Flask


def create_app(runtime: Runtime) -> Flask:
    """Build the Flask app around ``runtime``, and make it the runtime of this process.

    Flask is imported here, not with the package: the worker uses ``ivr.links`` and has no
    use for a web framework in its memory."""
    from flask import Flask

    runtime_module.install(runtime)
    app = Flask(__name__)

    from ivr import api, cli, console, page_calls, phone_tree, recordings, sms, verification_calls

    app.cli = cli.Commands(app)
    app.extensions["runtime"] = runtime
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio's webhooks are a few KB

    app.register_blueprint(phone_tree.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(verification_calls.bp)
    app.register_blueprint(page_calls.bp)
    app.register_blueprint(recordings.bp)
    api.register(app)
    console.register(app)
    cli.register(app)
    logs.configure()
    return app


