"""Operator commands under ``flask --app wsgi``."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from ivr.cli.db import db_cli
    from ivr.cli.directory import directory_cli
    from ivr.cli.oncall import oncall_cli
    from ivr.cli.staff import staff_cli
    from ivr.cli.tickets import tickets_cli

    for group in (tickets_cli, directory_cli, oncall_cli, staff_cli, db_cli):
        app.cli.add_command(group)
