"""Sessions computed from the turns at report time, with window functions (the slow path).

The store keeps each turn's session and next step up to date for the default 30-minute gap
(bot/store/apply.py). This SQL derives the same fields for any gap, from the turns alone: the
report uses it for another `--session-gap` (or turns written outside the store), and migration
0006 uses it once to fill the stored fields of existing rows. Its output has the stored tables'
shape (turns with session_no, next_phase, next_step, session_engaged; touchpoint_sessions;
session_products), so every section of the report reads either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from bot.analytics import sql
from bot.store.models import UtcDateTime

TURNS = "an_turns"
SESSIONS = "an_sessions"
PRODUCTS = "an_products"
TEMPORARY = (PRODUCTS, SESSIONS, TURNS)


def turns(dialect: str, where: str, gap: str) -> str:
    """One row per selected turn with its derived session fields (and helper columns).

    Two window passes over one ordering (touchpoint, time), the least SQLite needs: the first
    packs the next turn (its microsecond, phase index with 9 for none, 1 if not understood) into
    one number; the second counts the sessions that ended before a turn, which numbers them. Per
    session then its engagement and completion, and the highest phase after each turn. `where`
    filters the turns (alias tu); `gap` is the inactivity limit in seconds (`:gap` or a literal).
    """
    completes = f"tu.outcome IN ({sql.quoted(sql.COMPLETED_OUTCOMES)}) OR tu.intent IN ({sql.quoted(sql.DECISION_INTENTS + sql.ORDER_INTENTS)})"
    same = f"np IS NOT NULL AND np / 100 - us <= CAST({gap} AS BIGINT) * 1000000"
    next_pidx = "(w.np % 100) / 2"
    session = "PARTITION BY w.touchpoint_id, w.session_no"
    return f"""
SELECT w.*, CASE WHEN w.same = 1 AND {next_pidx} < 9 THEN {sql.phase_name(next_pidx)} END AS next_phase,
  CASE WHEN w.same = 1 AND w.np % 2 = 1 THEN 'fell_back'
    WHEN w.same = 1 AND {next_pidx} < 9 AND {next_pidx} > w.pidx THEN 'moved_on'
    WHEN w.same = 1 THEN 'continued'
    WHEN MAX(w.is_complete) OVER ({session}) = 1 THEN 'closed' ELSE 'left' END AS next_step,
  CAST(MAX(w.is_typed) OVER ({session}) AS BOOLEAN) AS session_engaged,
  CAST(CASE WHEN w.pidx < MAX(w.pidx) OVER ({session} ORDER BY w.at, w.id
    ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) THEN 1 ELSE 0 END AS BOOLEAN) AS went_further
FROM (
  SELECT l.*, 1 + COALESCE(SUM(1 - l.same) OVER (PARTITION BY l.touchpoint_id ORDER BY l.at, l.id
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS session_no
  FROM (
    SELECT n.*, CASE WHEN {same} THEN 1 ELSE 0 END AS same
    FROM (
      SELECT b.*, LEAD(b.us * 100 + COALESCE(b.pidx, 9) * 2 + b.is_fallback)
        OVER (PARTITION BY b.touchpoint_id ORDER BY b.at, b.id) AS np
      FROM (
        SELECT tu.id, tu.touchpoint_id, tu.at, {sql.micros("tu.at", dialect)} AS us, tu.phase,
          {sql.phase_index("tu.phase")} AS pidx, tu.intent, tu.confidence, tu.content_id, tu.text,
          tu.outcome, tu.product, tu.experiment, tu.arm, tu.typed,
          CASE WHEN COALESCE(tu.typed, tu.text NOT LIKE '/%') THEN 1 ELSE 0 END AS is_typed,
          CASE WHEN {completes} THEN 1 ELSE 0 END AS is_complete,
          CASE WHEN tu.outcome = 'fallback' THEN 1 ELSE 0 END AS is_fallback,
          CASE WHEN tu.intent IN ({sql.quoted(sql.DECISION_INTENTS)}) THEN 1 ELSE 0 END AS is_decision,
          CASE WHEN tu.intent IN ({sql.quoted(sql.ORDER_INTENTS)}) THEN 1 ELSE 0 END AS is_order
        FROM turns tu WHERE {where}
      ) b
    ) n
  ) l
) w"""


def sessions(derived: str) -> str:
    """One row per session (touchpoint_sessions' columns) from derived turns (a table or subquery).

    Entry and last phase: the phase of the earliest and latest turn with a phase, found in the
    GROUP BY by packing (microsecond, phase index) into one number; `phases` sets bit i for PHASES[i].
    """
    packed = "CASE WHEN pidx IS NOT NULL THEN us * 10 + pidx END"
    return f"""
SELECT touchpoint_id, session_no AS number, MIN(at) AS started_at, MAX(at) AS ended_at, COUNT(*) AS turns,
  CAST(MAX(is_typed) AS BOOLEAN) AS engaged, CAST(MAX(is_complete) AS BOOLEAN) AS completed,
  CAST(MAX(is_decision) AS BOOLEAN) AS decided, CAST(MAX(is_order) AS BOOLEAN) AS ordered,
  {sql.phase_name(f"MIN({packed}) % 10")} AS entry_phase,
  {sql.phase_name(f"MAX({packed}) % 10")} AS last_phase,
  COALESCE(SUM(DISTINCT CASE WHEN pidx IS NOT NULL THEN 1 << pidx END), 0) AS phases
FROM {derived} GROUP BY touchpoint_id, session_no"""


def products(derived: str) -> str:
    return f"SELECT DISTINCT touchpoint_id, session_no AS number, product FROM {derived} WHERE product IS NOT NULL"


def materialise(connection: Connection, where: str, gap_seconds: int, params: dict[str, Any]) -> None:
    """Write the derived turns, sessions and products of the selection to temporary tables."""
    drop(connection)
    statement = f"CREATE TEMPORARY TABLE {TURNS} AS {turns(connection.dialect.name, where, ':gap')}"
    query = text(statement)
    names = [name for name in ("since", "until") if f":{name}" in statement]
    if names:
        query = query.bindparams(*(bindparam(name, type_=UtcDateTime()) for name in names))
    used = {key: value for key, value in params.items() if f":{key}" in statement}
    connection.execute(query, {**used, "gap": gap_seconds})
    connection.execute(text(f"CREATE TEMPORARY TABLE {SESSIONS} AS {sessions(TURNS)}"))
    connection.execute(text(f"CREATE TEMPORARY TABLE {PRODUCTS} AS {products(TURNS)}"))
    connection.execute(text(f"CREATE INDEX ix_{SESSIONS}_key ON {SESSIONS} (touchpoint_id, number)"))
    connection.execute(text(f"CREATE INDEX ix_{TURNS}_session ON {TURNS} (session_no, touchpoint_id)"))
    if connection.dialect.name == "postgresql":
        for table in TEMPORARY:
            connection.execute(text(f"ANALYZE {table}"))


def drop(connection: Connection) -> None:
    for table in TEMPORARY:
        connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
