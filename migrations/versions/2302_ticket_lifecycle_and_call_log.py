"""Tickets get worked: an owner, service-level dues and when they were met, pauses of the
resolution clock, the follow-up's next step and the caller's rating; the call log; caller
numbers that must not be texted; the mornings whose digest went out.

Tickets stored before have no dues (no clock runs for them) and nothing owed.

Revision ID: 2302
Revises: 2301
Create Date: 2026-12-07
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2302"
down_revision = "2301"
branch_labels = None
depends_on = None


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite takes them as they are): a batch would copy the table, which other
    # tables' foreign keys forbid dropping.
    columns = [sa.Column("owner", sa.String(40), nullable=True),
               *(_at(name) for name in ("response_due", "resolution_due", "responded_at", "resolved_at", "closed_at")),
               sa.Column("rating", sa.Integer(), nullable=True), sa.Column("pauses", sa.JSON(), nullable=True),
               sa.Column("sla_alerts", sa.Integer(), nullable=False, server_default="0"), _at("sla_next_at"),
               _at("followup_at"), sa.Column("reminders_sent", sa.Integer(), nullable=False, server_default="0")]
    for column in columns:
        op.add_column("tickets", column)
    op.create_index("ix_tickets_caller", "tickets", ["caller"])
    op.create_index("ix_tickets_sla_next_at", "tickets", ["sla_next_at"])
    op.create_index("ix_tickets_followup_at", "tickets", ["followup_at"])
    op.create_table(
        "call_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sid", sa.String(64), nullable=False, unique=True),
        sa.Column("caller", sa.String(20), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("clients.id", ondelete="SET NULL"), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_call_log_started_at", "call_log", ["started_at"])
    op.create_table(
        "caller_numbers",
        sa.Column("number", sa.String(20), primary_key=True),
        _at("stopped_at"),
        _at("unreachable_at"),
        sa.Column("reason", sa.String(200), nullable=True),
    )
    op.create_table(
        "morning_digests",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("morning_digests")
    op.drop_table("caller_numbers")
    op.drop_index("ix_call_log_started_at", "call_log")
    op.drop_table("call_log")
    for name in ("ix_tickets_followup_at", "ix_tickets_sla_next_at", "ix_tickets_caller"):
        op.drop_index(name, "tickets")
    for name in ("reminders_sent", "followup_at", "sla_next_at", "sla_alerts", "pauses", "rating", "closed_at",
                 "resolved_at", "responded_at", "resolution_due", "response_due", "owner"):
        op.drop_column("tickets", name)
