"""Analytics: what each turn needs for the report (product, typed, experiment arm), indexes and BI views.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01

A branch off 0001 (the store upgrades to `heads`). Rows stored before this revision get `typed`
from their text: a message starting with "/" was a button or an automatic payload.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.analytics.views import create_views, drop_views

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, no batch copy: on SQLite a copied touchpoints table would be dropped, and
    # the foreign key's ON DELETE CASCADE would take every turn with it.
    op.add_column("turns", sa.Column("product", sa.String(64)))
    op.add_column("turns", sa.Column("typed", sa.Boolean()))
    op.add_column("turns", sa.Column("experiment", sa.String(64)))
    op.add_column("turns", sa.Column("arm", sa.String(8)))
    op.add_column(
        "touchpoints", sa.Column("synthetic", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.execute(
        "UPDATE turns SET typed = CASE WHEN text LIKE '/%' THEN "
        + ("false ELSE true END" if op.get_bind().dialect.name == "postgresql" else "0 ELSE 1 END")
    )
    op.create_index("ix_turns_at", "turns", ["at"])
    op.create_index("ix_turns_touchpoint_at", "turns", ["touchpoint_id", "at"])
    op.create_index("ix_turns_experiment", "turns", ["experiment"])
    op.create_index("ix_touchpoints_started_at", "touchpoints", ["started_at"])
    op.create_index("ix_touchpoints_nps_at", "touchpoints", ["nps_at"])
    create_views(op.get_bind())


def downgrade() -> None:
    drop_views(op.get_bind())
    op.drop_index("ix_touchpoints_nps_at", "touchpoints")
    op.drop_index("ix_touchpoints_started_at", "touchpoints")
    op.drop_index("ix_turns_experiment", "turns")
    op.drop_index("ix_turns_touchpoint_at", "turns")
    op.drop_index("ix_turns_at", "turns")
    for table, column in (("touchpoints", "synthetic"), ("turns", "arm"), ("turns", "experiment"),
                          ("turns", "typed"), ("turns", "product")):  # fmt: skip
        op.drop_column(table, column)
