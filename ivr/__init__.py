"""HTTP in and out: Twilio's webhooks in, TwiML out; the JSON API; the operators' commands.

``create_app`` is the Flask application factory, around a runtime the composition root
(``wiring``) built; nothing here decides anything the domain (``dispatch``) owns.
"""
from __future__ import annotations

from flask import Flask

from core import logs
from dispatch import runtime as runtime_module
from dispatch.runtime import Runtime


def create_app(runtime: Runtime) -> Flask:
    """Build the Flask app around ``runtime``, and make it the runtime of this process."""
    runtime_module.install(runtime)
    app = Flask(__name__)
    app.extensions["runtime"] = runtime
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio's webhooks are a few KB

    from ivr import api, cli, console, page_calls, phone_tree, sms, verification_calls

    app.register_blueprint(phone_tree.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(verification_calls.bp)
    app.register_blueprint(page_calls.bp)
    api.register(app)
    console.register(app)
    cli.register(app)
    logs.configure()
    return app


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["runtime"]
