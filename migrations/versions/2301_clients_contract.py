"""Clients carry their contract: what their after-hours voicemail does, whether callers need a PIN,
and their language.

Revision ID: 2301
Revises: 0003
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2301"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite takes them as they are): a batch would copy the table, which other
    # tables' foreign keys forbid dropping.
    op.add_column("clients", sa.Column("after_hours", sa.String(10), nullable=False, server_default="next_day"))
    op.add_column("clients", sa.Column("require_pin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("clients", sa.Column("language", sa.String(5), nullable=False, server_default="en"))


def downgrade() -> None:
    for name in ("language", "require_pin", "after_hours"):
        op.drop_column("clients", name)
