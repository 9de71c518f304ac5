"""The durable inbox of the webhook channels (bot.inbox).

A branch off 0001: the store upgrades to ``heads``.

Revision ID: 0004
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = "status IN ('pending', 'processing', 'done', 'failed', 'stale')"


def upgrade() -> None:
    op.create_table(
        "inbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(80), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("available_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("payload", sa.Text()),
        sa.UniqueConstraint("channel", "provider_id", name="uq_inbox_provider_id"),
        sa.CheckConstraint(STATUSES, name="ck_inbox_status"),
    )
    op.create_index("ix_inbox_conversation_status", "inbox_messages", ["conversation_id", "status"])
    op.create_index("ix_inbox_status_received", "inbox_messages", ["status", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_inbox_status_received", table_name="inbox_messages")
    op.drop_index("ix_inbox_conversation_status", table_name="inbox_messages")
    op.drop_table("inbox_messages")
