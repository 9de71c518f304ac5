"""SQL views for BI tools (Metabase, Superset, Power BI): the report's own definitions, 30-minute sessions.

Two generations. Migration 0006 creates them over the session fields the store keeps at write
time (`stored=True`): plain selects and GROUP BYs. Migration 0003 created them (and 0006's
downgrade re-creates them) with the sessions derived by window functions from the turns alone.
Both expose the same columns, so a dashboard keeps working across the upgrade. A change to the
SQL needs a new migration that re-creates them.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.analytics import derived, sql
from bot.phases import PHASES

VIEWS: tuple[str, ...] = (
    "analytics_turns",
    "analytics_sessions",
    "analytics_funnel",
    "analytics_content_performance",
    "analytics_nps_phase",
)


def _key(touchpoint: str, number: str) -> str:
    return f"CAST({touchpoint} AS BIGINT) * {sql.SESSION_FACTOR} + {number}"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def definitions(dialect: str, stored: bool = False) -> dict[str, str]:
    """View name → SELECT, in creation order; `stored`: over the write-time fields (revision 0006)."""
    if stored:
        turns, sessions = sql.STORED.turns, sql.STORED.sessions
    else:
        window = derived.turns(dialect, "1 = 1", str(sql.DEFAULT_GAP_SECONDS))
        turns, sessions = f"({window})", f"({derived.sessions(f'({window}) d')})"
    completes = (
        f"t.outcome IN ({sql.quoted(sql.COMPLETED_OUTCOMES)})"
        f" OR t.intent IN ({sql.quoted(sql.DECISION_INTENTS + sql.ORDER_INTENTS)})"
    )
    phases = ", ".join(f"({index}, '{phase}')" for index, phase in enumerate(PHASES))
    nps = (
        sql.nps_counts("tp.nps_phase")
        + ", SUM(CASE WHEN tp.nps_score IN (7, 8) THEN 1 ELSE 0 END) AS passives"
        + ", ROUND(100.0 * (SUM(CASE WHEN tp.nps_score >= 9 THEN 1 ELSE 0 END)"
        + " - SUM(CASE WHEN tp.nps_score <= 6 THEN 1 ELSE 0 END)) / COUNT(*), 1) AS nps"
        + " FROM touchpoints tp WHERE tp.nps_score IS NOT NULL GROUP BY tp.nps_phase"
    )
    return {
        "analytics_turns": f"""
SELECT t.id, t.touchpoint_id, t.at, CAST({sql.epoch("t.at", dialect)} AS BIGINT) AS ep, t.phase,
  {sql.phase_index("t.phase")} AS pidx, t.intent, t.content_id, t.outcome, t.product, t.experiment, t.arm,
  tp.channel, tp.persona, {_key("t.touchpoint_id", "t.session_no")} AS sk, t.session_no, t.next_phase,
  t.next_step, {_flag("t.next_step IN ('continued', 'moved_on', 'fell_back')")} AS has_next,
  {sql.phase_index("t.next_phase")} AS next_pidx, {_flag("t.next_step = 'fell_back'")} AS next_fallback,
  {_flag("COALESCE(t.typed, t.text NOT LIKE '/%')")} AS typed, {_flag(completes)} AS completes,
  {_flag("t.session_engaged")} AS session_engaged, {_flag("t.went_further")} AS went_further
FROM {turns} t JOIN touchpoints tp ON tp.id = t.touchpoint_id""",
        "analytics_sessions": f"""
SELECT {_key("s.touchpoint_id", "s.number")} AS sk, s.touchpoint_id, s.number, tp.channel, tp.persona,
  s.started_at, s.ended_at, s.turns, {_flag("s.engaged")} AS engaged, {_flag("s.completed")} AS completed,
  {_flag("s.decided")} AS decided, {_flag("s.ordered")} AS ordered, s.entry_phase, s.last_phase, s.phases,
  {_flag("s.engaged AND NOT s.completed AND s.phases <> 0")} AS dropped
FROM {sessions} s JOIN touchpoints tp ON tp.id = s.touchpoint_id""",
        "analytics_funnel": f"""
WITH p (pidx, phase) AS (VALUES {phases})
SELECT p.phase, p.pidx, COUNT(*) AS sessions, SUM({_flag("(s.phases & (2 << p.pidx)) <> 0")}) AS to_next
FROM p JOIN {sessions} s ON s.engaged AND (s.phases & (1 << p.pidx)) <> 0
GROUP BY p.pidx, p.phase""",
        "analytics_content_performance": sql.content_performance(sql.Source(turns, sessions, "")),
        "analytics_nps_phase": nps,
    }


def create_views(connection: Connection, stored: bool = False) -> None:
    for name, select in definitions(connection.dialect.name, stored).items():
        connection.execute(text(f"CREATE VIEW {name} AS {select}"))


def drop_views(connection: Connection) -> None:
    for name in reversed(VIEWS):
        connection.execute(text(f"DROP VIEW IF EXISTS {name}"))
