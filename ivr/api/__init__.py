"""The JSON API for the client portal and scripts (bearer ``API_TOKEN``), and ``/health``."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from ivr.api import calls, clients, contacts, handoff, health, oncall, tickets

    for module in (tickets, handoff, calls, clients, contacts, oncall, health):
        app.register_blueprint(module.bp)
