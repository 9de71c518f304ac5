"""Touchpoints and turns.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TOUCHPOINT_OUTCOMES = "outcome IN ('answered', 'handoff', 'fallback', 'dropped', 'completed')"
TURN_OUTCOMES = "outcome IN ('answered', 'handoff', 'fallback', 'completed')"


def upgrade() -> None:
    op.create_table(
        "touchpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sender_key", sa.String(64), nullable=False),
        sa.Column("session_started_at", sa.DateTime(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("persona", sa.String(255)),
        sa.Column("first_phase", sa.String(32)),
        sa.Column("last_phase", sa.String(32)),
        sa.Column("phases_visited", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("nps_score", sa.Integer()),
        sa.Column("nps_reason", sa.Text()),
        sa.Column("nps_at", sa.DateTime()),
        sa.Column("nps_phase", sa.String(32)),
        sa.UniqueConstraint("sender_key", "session_started_at", name="uq_touchpoints_session"),
        sa.CheckConstraint(TOUCHPOINT_OUTCOMES, name="ck_touchpoints_outcome"),
        sa.CheckConstraint("nps_score BETWEEN 0 AND 10", name="ck_touchpoints_nps_score"),
    )
    op.create_index("ix_touchpoints_sender_key", "touchpoints", ["sender_key"])
    op.create_index("ix_touchpoints_ended_at", "touchpoints", ["ended_at"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False, unique=True),
        sa.Column(
            "touchpoint_id",
            sa.Integer(),
            sa.ForeignKey("touchpoints.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("phase", sa.String(32)),
        sa.Column("intent", sa.String(255), nullable=False),
        sa.Column("confidence", sa.Float()),
        sa.Column("content_id", sa.Text()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.CheckConstraint(TURN_OUTCOMES, name="ck_turns_outcome"),
    )
    op.create_index("ix_turns_touchpoint_id", "turns", ["touchpoint_id"])


def downgrade() -> None:
    op.drop_table("turns")
    op.drop_table("touchpoints")
