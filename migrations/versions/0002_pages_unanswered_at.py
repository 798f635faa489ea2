"""Pages note when an attempt got no answer from the carrier (the message may exist).

Releases before migrations added this column at start-up; a database they made may have it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("pages")}
    if "unanswered_at" not in present:
        op.add_column("pages", sa.Column("unanswered_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pages") as batch:
        batch.drop_column("unanswered_at")
