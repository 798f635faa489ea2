"""Tickets and clients have a language: the one a caller heard the call in, and the one a client's
contract sets for its contacts ("en" for every row there is).

Revision ID: 2201
Revises: 2401
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2201"
down_revision = "2401"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tickets", sa.Column("language", sa.String(length=8), server_default="en", nullable=False))
    op.add_column("clients", sa.Column("language", sa.String(length=8), server_default="en", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("language")
