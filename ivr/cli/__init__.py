"""Operator commands under ``flask --app wsgi``."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


class Commands(AppGroup):
    """The app's commands (``app.cli``). A command's process releases what it took as the command
    ends: its Redis connections, and the embedded Redis if it started it and no other process uses it."""

    def __init__(self, app: Flask):
        super().__init__(app.name)
        self._app = app

    def get_command(self, ctx: click.Context, name: str):
        command = super().get_command(ctx, name)
        if command is not None:
            ctx.call_on_close(self._app.extensions["runtime"].release)
        return command


def register(app: Flask) -> None:
    from ivr.cli.db import db_cli
    from ivr.cli.directory import directory_cli
    from ivr.cli.doctor import doctor
    from ivr.cli.handoff import handoff_cli
    from ivr.cli.oncall import oncall_cli
    from ivr.cli.outbox import outbox
    from ivr.cli.staff import staff_cli
    from ivr.cli.tickets import tickets_cli
    from ivr.cli.twilio_number import twilio_cli

    for group in (tickets_cli, directory_cli, oncall_cli, staff_cli, db_cli, handoff_cli, outbox, twilio_cli, doctor):
        app.cli.add_command(group)
