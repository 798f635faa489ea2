"""Logging of every process (web app, worker): one format, INFO and up.

twilio-python logs each REST request's method, URL and headers at INFO (a dozen lines
per page sent): that is noise in an operator's log and costs the worker time on the
paging path, so its HTTP client logs only warnings. Our own lines say what was sent.
"""
from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure() -> None:
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
