"""Pages keep the notification domain's own delivery states, not the carrier's words; jobs waiting
in the outbox are named by where their functions live now.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (channel, carrier's status) -> (state, rank), as dispatch.notification.twilio.statuses reads them.
SMS = {"accepted": "sending", "scheduled": "sending", "queued": "sending", "sending": "sending", "sent": "sent",
       "delivered": "delivered", "read": "delivered", "undelivered": "failed_temporarily",
       "failed": "failed_temporarily", "canceled": "failed"}
VOICE = {"queued": "sending", "initiated": "sending", "ringing": "sent", "in-progress": "answered",
         "answered": "answered", "completed": "delivered", "busy": "failed_temporarily",
         "no-answer": "failed_temporarily", "canceled": "failed_temporarily", "failed": "failed"}
RANK = {"sending": 1, "sent": 2, "answered": 3, "delivered": 4, "failed_temporarily": 4, "failed": 4}

JOBS = {
    "dispatch.jobs.page_ticket": "dispatch.escalation.steps.page_ticket",
    "dispatch.jobs.escalate": "dispatch.escalation.steps.escalate",
    "dispatch.jobs.escalate_now": "dispatch.escalation.steps.escalate_now",
    "dispatch.jobs.notify_others": "dispatch.escalation.responses.notify_others",
    "dispatch.jobs.send_page": "dispatch.notification.delivery.send_page",
    "dispatch.jobs.check_delivery": "dispatch.notification.delivery.check_delivery",
    "dispatch.verification_jobs.place_callback": "dispatch.verification.callbacks.place_callback",
    "dispatch.verification_jobs.send_security_notice": "dispatch.verification.pin_lock.send_security_notice",
    "dispatch.verification_jobs.expire_disclosure": "dispatch.verification.one_time_secrets.expire_secret",
}

pages = sa.table("pages", sa.column("channel", sa.String), sa.column("delivery", sa.String),
                 sa.column("delivery_rank", sa.Integer))
outbox = sa.table("outbox_jobs", sa.column("function", sa.String))


def upgrade() -> None:
    for channel, words in (("sms", SMS), ("voice", VOICE)):
        for word, state in words.items():
            op.execute(pages.update().where(pages.c.channel == channel, pages.c.delivery == word)
                       .values(delivery=state, delivery_rank=RANK[state]))
    for old, new in JOBS.items():
        op.execute(outbox.update().where(outbox.c.function == old).values(function=new))


def downgrade() -> None:
    for old, new in JOBS.items():
        op.execute(outbox.update().where(outbox.c.function == new).values(function=old))
