"""The one way a request handler or a command reaches the runtime its app was built around."""
from __future__ import annotations

from flask import current_app

from dispatch.runtime import Runtime


def runtime() -> Runtime:
    return current_app.extensions["runtime"]
