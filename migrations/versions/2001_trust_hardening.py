"""Trust hardening: the length of a contact's PIN, growing PIN locks, wrong PINs
counted per calling number and across the directory, and the one-time value of a callback's next step, and
emergency calls that joined their caller's open P1.

Revision ID: 2001
Revises: 2501
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2001"
down_revision = "2501"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('joined_calls',
    sa.Column('call_sid', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_sid')
    )
    with op.batch_alter_table('joined_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_joined_calls_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('pin_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('caller', sa.String(length=20), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pin_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pin_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pin_failures_caller'), ['caller'], unique=False)
    op.add_column('contact_guards', sa.Column('locks', sa.Integer(), server_default='0', nullable=False))
    op.add_column('contacts', sa.Column('pin_digits', sa.Integer(), nullable=True))
    op.add_column('security_notices', sa.Column('lock_number', sa.Integer(), nullable=True))
    op.add_column('verification_callbacks', sa.Column('nonce_hash', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('verification_callbacks', 'nonce_hash')
    op.drop_column('security_notices', 'lock_number')
    op.drop_column('contacts', 'pin_digits')
    op.drop_column('contact_guards', 'locks')

    with op.batch_alter_table('pin_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pin_failures_caller'))
        batch_op.drop_index(batch_op.f('ix_pin_failures_at'))

    op.drop_table('pin_failures')
    with op.batch_alter_table('joined_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_joined_calls_ticket_id'))
    op.drop_table('joined_calls')
