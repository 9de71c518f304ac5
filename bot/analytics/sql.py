"""The analytics SQL, written once: the report runs it over temporary tables, the BI views over views.

Sessions are cut from the turns in SQL with window functions: a turn more than `gap` seconds after
the previous turn of the same touchpoint starts a new session. Every figure is an aggregate over
the annotated turns (one row per turn) or the sessions (one row per session); see docs/ANALYTICS.md.
"""

from __future__ import annotations

from bot.phases import PHASES

DEFAULT_GAP_SECONDS = 30 * 60
# What counts as reaching a decision, an order, and a completed session (docs/ANALYTICS.md).
DECISION_INTENTS: tuple[str, ...] = ("quote_request", "visit_request")
ORDER_INTENTS: tuple[str, ...] = ("order",)
COMPLETED_OUTCOMES: tuple[str, ...] = ("completed", "handoff")
LOW_CONFIDENCE = 0.5
# Session keys: touchpoint id times this plus the session's number inside the touchpoint.
SESSION_FACTOR = 100_000


def quoted(values: tuple[str, ...]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def epoch(column: str, dialect: str) -> str:
    """Seconds since an epoch, for time differences (SQLite stores text, PostgreSQL timestamps)."""
    if dialect == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"(julianday({column}) * 86400.0)"


def week(column: str, dialect: str) -> str:
    """The Monday of the column's ISO week, as YYYY-MM-DD text."""
    if dialect == "postgresql":
        return f"to_char(date_trunc('week', {column}), 'YYYY-MM-DD')"
    return f"date({column}, '-6 days', 'weekday 1')"


def phase_index(column: str) -> str:
    cases = " ".join(f"WHEN '{phase}' THEN {index}" for index, phase in enumerate(PHASES))
    return f"CASE {column} {cases} END"


def phase_name(index: str) -> str:
    cases = " ".join(f"WHEN {index_} THEN '{phase}'" for index_, phase in enumerate(PHASES))
    return f"CASE {index} {cases} END"


def annotated_turns(dialect: str, where: str, gap: str) -> str:
    """One row per turn: its session key (sk) and what the visitor's next message in that session did.

    Two window passes over one ordering (touchpoint, time), the least SQLite needs: the first
    packs the next turn (its second, phase index with 9 for none, 1 if not understood) into one
    number; the second counts the sessions that ended before a turn, which numbers the sessions.
    `where` filters touchpoints/turns (aliases tp, tu); `gap` is the inactivity limit in seconds
    (`:gap`, or a literal for the views).
    """
    completes = (
        f"tu.outcome IN ({quoted(COMPLETED_OUTCOMES)}) "
        f"OR tu.intent IN ({quoted(DECISION_INTENTS + ORDER_INTENTS)})"
    )
    same_session = f"l1.np IS NOT NULL AND l1.np / 100 - l1.ep <= {gap}"
    columns = (
        "id, touchpoint_id, at, ep, phase, pidx, intent, content_id, outcome, product, experiment, arm, "
        "channel, persona, typed, completes"
    )
    return f"""
SELECT l2.*, CAST(l2.touchpoint_id AS BIGINT) * {SESSION_FACTOR} + 1 + COALESCE(SUM(1 - l2.has_next) OVER (
  PARTITION BY l2.touchpoint_id ORDER BY l2.at, l2.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS sk
FROM (
  SELECT {", ".join("l1." + name for name in columns.split(", "))},
    CASE WHEN {same_session} THEN 1 ELSE 0 END AS has_next,
    CASE WHEN {same_session} AND (l1.np % 100) / 2 < 9 THEN (l1.np % 100) / 2 END AS next_pidx,
    CASE WHEN {same_session} AND l1.np % 2 = 1 THEN 1 ELSE 0 END AS next_fallback
  FROM (
    SELECT b.*, LEAD(b.ep * 100 + COALESCE(b.pidx, 9) * 2 + b.fallback)
      OVER (PARTITION BY b.touchpoint_id ORDER BY b.at, b.id) AS np
    FROM (
      SELECT tu.id, tu.touchpoint_id, tu.at, CAST({epoch("tu.at", dialect)} AS BIGINT) AS ep, tu.phase,
        {phase_index("tu.phase")} AS pidx, tu.intent, tu.content_id, tu.outcome, tu.product,
        tu.experiment, tu.arm, tp.channel, tp.persona,
        CASE WHEN COALESCE(tu.typed, tu.text NOT LIKE '/%') THEN 1 ELSE 0 END AS typed,
        CASE WHEN {completes} THEN 1 ELSE 0 END AS completes,
        CASE WHEN tu.outcome = 'fallback' THEN 1 ELSE 0 END AS fallback
      FROM turns tu JOIN touchpoints tp ON tp.id = tu.touchpoint_id
      WHERE {where}
    ) b
  ) l1
) l2"""


def sessions(turns: str) -> str:
    """One row per session, from the annotated turns (a table or view name).

    Entry and last phase: the phase of the earliest and latest turn with a phase, found in the
    GROUP BY by packing (second, phase index) into one number.
    """
    packed = "CASE WHEN pidx IS NOT NULL THEN ep * 10 + pidx END"
    return f"""
SELECT sk, MIN(touchpoint_id) AS touchpoint_id, MIN(channel) AS channel, MIN(persona) AS persona,
  MIN(at) AS started_at, MAX(at) AS ended_at, COUNT(*) AS turns,
  MAX(typed) AS engaged, MAX(completes) AS completed,
  MAX(CASE WHEN intent IN ({quoted(DECISION_INTENTS)}) THEN 1 ELSE 0 END) AS decided,
  MAX(CASE WHEN intent IN ({quoted(ORDER_INTENTS)}) THEN 1 ELSE 0 END) AS ordered,
  {phase_name(f"MIN({packed}) % 10")} AS entry_phase,
  {phase_name(f"MAX({packed}) % 10")} AS last_phase,
  CASE WHEN MAX(typed) = 1 AND MAX(completes) = 0 AND MAX(pidx) IS NOT NULL THEN 1 ELSE 0 END AS dropped
FROM {turns} GROUP BY sk"""


def funnel(turns: str, sessions_: str) -> str:
    """Engaged sessions reaching each phase, and of those how many also reached the next phase."""
    return f"""
WITH sp AS (SELECT DISTINCT t.sk, t.pidx FROM {turns} t JOIN {sessions_} s ON s.sk = t.sk
  WHERE s.engaged = 1 AND t.pidx IS NOT NULL)
SELECT {phase_name("a.pidx")} AS phase, a.pidx, COUNT(*) AS sessions, COUNT(b.sk) AS to_next
FROM sp a LEFT JOIN sp b ON b.sk = a.sk AND b.pidx = a.pidx + 1
GROUP BY a.pidx"""


def content_performance(turns: str, sessions_: str) -> str:
    """Per reply: what the visitor's next message did (see docs/ANALYTICS.md for the categories)."""
    return f"""
SELECT t.content_id, COUNT(*) AS shown,
  SUM(CASE WHEN t.has_next = 1 AND t.next_fallback = 1 THEN 1 ELSE 0 END) AS fell_back,
  SUM(CASE WHEN t.has_next = 1 AND t.next_fallback = 0 AND t.next_pidx > t.pidx THEN 1 ELSE 0 END) AS moved_on,
  SUM(CASE WHEN t.has_next = 1 AND t.next_fallback = 0
    AND (t.next_pidx IS NULL OR t.pidx IS NULL OR t.next_pidx <= t.pidx) THEN 1 ELSE 0 END) AS continued,
  SUM(CASE WHEN t.has_next = 0 AND s.completed = 0 THEN 1 ELSE 0 END) AS left_chat,
  SUM(CASE WHEN t.has_next = 0 AND s.completed = 1 THEN 1 ELSE 0 END) AS closed
FROM {turns} t JOIN {sessions_} s ON s.sk = t.sk
WHERE s.engaged = 1 AND t.content_id IS NOT NULL
GROUP BY t.content_id"""


def nps_counts(key: str) -> str:
    """Answers, promoters (9-10) and detractors (0-6) per key; the caller adds FROM/WHERE/GROUP BY."""
    return (
        f"SELECT {key} AS key, COUNT(*) AS answers, "
        "SUM(CASE WHEN tp.nps_score >= 9 THEN 1 ELSE 0 END) AS promoters, "
        "SUM(CASE WHEN tp.nps_score <= 6 THEN 1 ELSE 0 END) AS detractors"
    )
