"""Merge the feature branches (handoff, analytics, inbox) into one head.

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

revision = "0005"
down_revision = ("0002", "0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the three branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
