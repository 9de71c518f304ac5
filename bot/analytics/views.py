"""SQL views for BI tools (Metabase, Superset, Power BI): the report's own queries, 30-minute sessions.

Created by migration 0003. They run the same SQL as `journey report` (bot/analytics/sql.py), so a
dashboard and the report agree; a change to that SQL needs a new migration that re-creates them.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.analytics import sql

VIEWS: tuple[str, ...] = (
    "analytics_turns",
    "analytics_sessions",
    "analytics_funnel",
    "analytics_content_performance",
    "analytics_nps_phase",
)


def definitions(dialect: str) -> dict[str, str]:
    """View name → SELECT, in creation order (later views read earlier ones)."""
    nps = (
        sql.nps_counts("tp.nps_phase")
        + ", SUM(CASE WHEN tp.nps_score IN (7, 8) THEN 1 ELSE 0 END) AS passives"
        + ", ROUND(100.0 * (SUM(CASE WHEN tp.nps_score >= 9 THEN 1 ELSE 0 END)"
        + " - SUM(CASE WHEN tp.nps_score <= 6 THEN 1 ELSE 0 END)) / COUNT(*), 1) AS nps"
        + " FROM touchpoints tp WHERE tp.nps_score IS NOT NULL GROUP BY tp.nps_phase"
    )
    return {
        "analytics_turns": sql.annotated_turns(dialect, "1 = 1", str(sql.DEFAULT_GAP_SECONDS)),
        "analytics_sessions": sql.sessions("analytics_turns"),
        "analytics_funnel": sql.funnel("analytics_turns", "analytics_sessions"),
        "analytics_content_performance": sql.content_performance("analytics_turns", "analytics_sessions"),
        "analytics_nps_phase": nps,
    }


def create_views(connection: Connection) -> None:
    for name, select in definitions(connection.dialect.name).items():
        connection.execute(text(f"CREATE VIEW {name} AS {select}"))


def drop_views(connection: Connection) -> None:
    for name in reversed(VIEWS):
        connection.execute(text(f"DROP VIEW IF EXISTS {name}"))
