"""What every ``/api/*`` blueprint shares: the bearer token, and a clear answer when the store is away."""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from ivr.context import runtime as _runtime

log = logging.getLogger(__name__)


def require_api_token():
    """``before_request`` of every ``/api/*`` blueprint: 401 without the bearer ``API_TOKEN``."""
    expected = _runtime().settings.api_token
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return jsonify(error="a valid bearer token is required"), 401, {"WWW-Authenticate": "Bearer"}
    return None


def answer_database_errors(bp: Blueprint, what: str) -> None:
    """A database error on ``bp`` is answered 503, naming ``what`` is unavailable, never a traceback."""

    def database_unavailable(exc):
        log.error("database error on %s: %s", request.path, type(exc).__name__)
        return jsonify(error=f"{what} is unavailable; try again shortly"), 503

    bp.register_error_handler(SQLAlchemyError, database_unavailable)
