"""The console outbox keeps a call's status callback too, as Twilio would have been given it.

Revision ID: 2101
Revises: 0003
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2101"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("console_outbox", sa.Column("status_callback", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("console_outbox") as batch:
        batch.drop_column("status_callback")
