"""Callback requests, their sealed contact data and the delivery outbox (bot/handoff).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

A branch off 0001 (other features add their own), so the store upgrades to `heads`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(36), nullable=False, unique=True),
        sa.Column("sender_key", sa.String(64), nullable=False),
        sa.Column("session_started_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(32)),
        sa.Column("persona", sa.String(255)),
        sa.Column("product", sa.String(64)),
        sa.Column("nps_score", sa.Integer()),
        sa.Column("reason", sa.Text()),
        sa.Column("moment", sa.String(32)),
        sa.Column("callback_from", sa.DateTime()),
        sa.Column("callback_until", sa.DateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime()),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_handoff_requests_status"),
        sa.CheckConstraint("kind IN ('callback', 'live')", name="ck_handoff_requests_kind"),
    )
    op.create_index("ix_handoff_requests_sender_key", "handoff_requests", ["sender_key"])
    op.create_index("ix_handoff_requests_created_at", "handoff_requests", ["created_at"])
    op.create_table(
        "handoff_contacts",
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("handoff_requests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("name_sealed", sa.Text(), nullable=False),
        sa.Column("phone_sealed", sa.Text(), nullable=False),
    )
    op.create_table(
        "handoff_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("handoff_requests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime()),
        sa.Column("last_error", sa.String(255)),
        sa.UniqueConstraint("request_id", "target", name="uq_handoff_outbox_target"),
        sa.CheckConstraint("target IN ('webhook', 'email')", name="ck_handoff_outbox_target"),
    )
    op.create_index("ix_handoff_outbox_request_id", "handoff_outbox", ["request_id"])
    op.create_index("ix_handoff_outbox_next_attempt_at", "handoff_outbox", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("handoff_outbox")
    op.drop_table("handoff_contacts")
    op.drop_table("handoff_requests")
