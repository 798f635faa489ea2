"""Staff accounts for the operator console (password hashes, lock-out, calendar links), who set
each on-call override, and the indexes the console's lists read by: tickets by status and by
the time they were created.

Revision ID: 2501
Revises: 2302
Create Date: 2026-12-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2501"
down_revision = "2302"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_accounts",
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("password_version", sa.Integer(), nullable=False),
        sa.Column("password_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("calendar_generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    with op.batch_alter_table("oncall_overrides") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=40), nullable=True))
    op.create_index(op.f("ix_tickets_status"), "tickets", ["status"], unique=False)
    op.create_index(op.f("ix_tickets_created_at"), "tickets", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_tickets_created_at"), table_name="tickets")
    op.drop_index(op.f("ix_tickets_status"), table_name="tickets")
    with op.batch_alter_table("oncall_overrides") as batch:
        batch.drop_column("created_by")
    op.drop_table("staff_accounts")
