"""What a caller hears: Twilio webhooks in, TwiML out, and nothing slow in between.

``create_app`` is the application factory; ``wsgi.py`` calls it once per process.
"""
from __future__ import annotations

from flask import Flask

from core import logs
from core import runtime as runtime_module


def create_app(runtime=None) -> Flask:
    """Build the Flask app around ``runtime`` (or one built from the environment).

    Configuration errors surface here, before any request is served.
    """
    runtime = runtime or runtime_module.build()
    runtime_module.install(runtime)
    app = Flask(__name__)
    app.extensions["runtime"] = runtime
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024  # Twilio's webhooks are a few KB

    from ivr import api, cli, contacts_api, oncall_api, page_calls, sms, verification, voice

    app.register_blueprint(voice.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(verification.bp)
    app.register_blueprint(contacts_api.bp)
    app.register_blueprint(oncall_api.bp)
    app.register_blueprint(page_calls.bp)
    cli.register(app)
    logs.configure()
    return app
