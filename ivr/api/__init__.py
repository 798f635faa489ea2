"""The JSON API for the client portal and scripts (bearer ``API_TOKEN``), and ``/health``."""
from __future__ import annotations

from flask import Flask, jsonify, request

MAX_JSON_DEPTH = 32


def register(app: Flask) -> None:
    from ivr.api import calls, clients, contacts, handoff, health, oncall, tickets

    for module in (tickets, handoff, calls, clients, contacts, oncall, health):
        app.register_blueprint(module.bp)
    app.before_request(_refuse_unreadable_json)


def _refuse_unreadable_json():
    """Every ``/api/*`` JSON body is parsed here first: one nested deeper than any request needs (or
    deep enough to exhaust the parser's recursion) is answered 400, not with a server error."""
    if not request.path.startswith("/api/") or not request.is_json:
        return None
    try:
        body = request.get_json(silent=True)  # cached: the views' own get_json reads it again
    except RecursionError:
        body = _TOO_DEEP
    if body is _TOO_DEEP or _depth(body) > MAX_JSON_DEPTH:
        return jsonify(error=f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep"), 400
    return None


_TOO_DEEP = object()


def _depth(value) -> int:
    """How deeply ``value`` nests lists and objects, counted without recursion."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
