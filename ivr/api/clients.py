"""``/api/clients``: the MSP's clients and their contracts (after-hours handling, PIN, language)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from dispatch.directory.models import AFTER_HOURS, LANGUAGES, Client
from ivr.api.auth import answer_database_errors, require_api_token
from ivr.context import runtime as _runtime
from ivr.views import client_dict

bp = Blueprint("clients_api", __name__)
bp.before_request(require_api_token)
answer_database_errors(bp, "the directory")

CONTRACT_FIELDS = ("after_hours", "require_pin", "language")


@bp.get("/api/clients")
def list_clients():
    runtime = _runtime()
    with runtime.store.reading() as session:
        return jsonify(clients=[client_dict(c) for c in session.scalars(select(Client).order_by(Client.name))])


@bp.patch("/api/clients/<int:client_id>")
def change_client(client_id: int):
    """Any of ``after_hours`` (``next_day`` | ``page``), ``require_pin`` (bool), ``language``."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not body:
        return jsonify(error=f"the body must be a JSON object with any of {', '.join(CONTRACT_FIELDS)}"), 400
    unknown = sorted(set(body) - set(CONTRACT_FIELDS))
    if unknown:
        return jsonify(error=f"{unknown[0]}: not a field that can be changed ({', '.join(CONTRACT_FIELDS)})"), 400
    if "after_hours" in body and body["after_hours"] not in AFTER_HOURS:
        return jsonify(error=f"after_hours: must be one of {', '.join(AFTER_HOURS)}"), 400
    if "require_pin" in body and not isinstance(body["require_pin"], bool):
        return jsonify(error="require_pin: must be true or false"), 400
    if "language" in body and body["language"] not in LANGUAGES:
        return jsonify(error=f"language: must be one of {', '.join(LANGUAGES)}"), 400
    runtime = _runtime()
    with runtime.store.transaction() as session:
        client = session.get(Client, client_id)
        if client is None:
            return jsonify(error=f"no client {client_id}"), 404
        for name in CONTRACT_FIELDS:
            if name in body:
                setattr(client, name, body[name])
        return jsonify(client_dict(client))
