"""Clients carry their contract: what their after-hours voicemail does, and whether callers need a PIN
(their language came with the phone line's languages).

Revision ID: 2301
Revises: 2201
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2301"
down_revision = "2201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite takes them as they are): a batch would copy the table, which other
    # tables' foreign keys forbid dropping.
    op.add_column("clients", sa.Column("after_hours", sa.String(10), nullable=False, server_default="next_day"))
    op.add_column("clients", sa.Column("require_pin", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for name in ("require_pin", "after_hours"):
        op.drop_column("clients", name)
