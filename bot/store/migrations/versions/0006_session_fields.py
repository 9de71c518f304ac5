"""Analytics sessions kept at write time: per turn its session and next step, per session its figures.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

The report used to derive sessions with window functions on every run (too slow for a million
turns). From here on bot/store/apply.py keeps, for the 30-minute gap, each turn's session number,
the next message's phase and what it did, whether its session is engaged and whether the visitor
reached a later phase after it, plus one row per
session (touchpoint_sessions) and per product talked about in a session (session_products).
Existing rows are filled here, in SQL, by the same window-function derivation the report keeps
for other gaps (bot/analytics/derived.py). The BI views are re-created over the stored fields.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.analytics import derived, sql
from bot.analytics.views import create_views, drop_views
from bot.store.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TURN_INDEXES = {
    "ix_turns_session": ["session_no", "touchpoint_id"],
    "ix_turns_engaged_content": ["session_engaged", "content_id", "next_step", "touchpoint_id"],
    "ix_turns_engaged_phase": ["session_engaged", "phase", "next_phase", "touchpoint_id"],
}
SESSION_COLUMNS = (
    "touchpoint_id, number, started_at, ended_at, turns, engaged, completed, decided, ordered,"
    " entry_phase, last_phase, phases"
)


def _touchpoint_key() -> list[sa.Column]:
    return [
        sa.Column(
            "touchpoint_id",
            sa.Integer(),
            sa.ForeignKey("touchpoints.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
    ]


def upgrade() -> None:
    connection = op.get_bind()
    drop_views(connection)
    # Plain ALTER TABLE, no batch copy (see 0003: a copied table would cascade-delete the turns).
    op.add_column("turns", sa.Column("session_no", sa.Integer()))
    op.add_column("turns", sa.Column("next_phase", sa.String(32)))
    op.add_column("turns", sa.Column("next_step", sa.String(16)))
    op.add_column("turns", sa.Column("session_engaged", sa.Boolean()))
    op.add_column("turns", sa.Column("went_further", sa.Boolean()))
    op.create_table(
        "touchpoint_sessions",
        *_touchpoint_key(),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("ended_at", UtcDateTime(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("engaged", sa.Boolean(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.Column("ordered", sa.Boolean(), nullable=False),
        sa.Column("entry_phase", sa.String(32)),
        sa.Column("last_phase", sa.String(32)),
        sa.Column("phases", sa.Integer(), nullable=False),
    )
    op.create_table(
        "session_products",
        *_touchpoint_key(),
        sa.Column("product", sa.String(64), primary_key=True),
    )
    _backfill(connection)
    for name, columns in TURN_INDEXES.items():
        op.create_index(name, "turns", columns)
    op.create_index("ix_session_products_product", "session_products", ["product"])
    create_views(connection, stored=True)


def _backfill(connection: sa.engine.Connection) -> None:
    """Fill the fields of the turns stored so far, with 30-minute sessions, in three statements."""
    derived.materialise(connection, "1 = 1", sql.DEFAULT_GAP_SECONDS, {})
    connection.execute(sa.text(f"CREATE INDEX ix_{derived.TURNS}_id ON {derived.TURNS} (id)"))
    fields = ("session_no", "next_phase", "next_step", "session_engaged", "went_further")
    assignments = ", ".join(f"{name} = d.{name}" for name in fields)
    connection.execute(
        sa.text(f"UPDATE turns SET {assignments} FROM {derived.TURNS} d WHERE turns.id = d.id")
    )
    connection.execute(
        sa.text(
            f"INSERT INTO touchpoint_sessions ({SESSION_COLUMNS}) SELECT {SESSION_COLUMNS} FROM {derived.SESSIONS}"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO session_products (touchpoint_id, number, product)"
            f" SELECT touchpoint_id, number, product FROM {derived.PRODUCTS}"
        )
    )
    derived.drop(connection)


def downgrade() -> None:
    connection = op.get_bind()
    drop_views(connection)
    op.drop_index("ix_session_products_product", "session_products")
    op.drop_table("session_products")
    op.drop_table("touchpoint_sessions")
    for name in reversed(TURN_INDEXES):
        op.drop_index(name, "turns")
    for column in ("went_further", "session_engaged", "next_step", "next_phase", "session_no"):
        op.drop_column("turns", column)
    create_views(connection)
