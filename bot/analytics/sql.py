"""The analytics SQL, written once: every section of the report is a GROUP BY over a `Source`.

A source is three relations shaped like the store's tables: turns with their session fields
(session_no, next_phase, next_step, session_engaged), touchpoint_sessions and session_products.
The report reads the stored tables themselves (kept up to date at write time for the default
gap) or temporary tables derived with window functions (bot/analytics/derived.py). See
docs/ANALYTICS.md for what each figure means.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.phases import PHASES
from bot.store.apply import COMPLETED_OUTCOMES, DECISION_INTENTS, ORDER_INTENTS
from bot.store.models import SESSION_GAP_MINUTES

__all__ = ["COMPLETED_OUTCOMES", "DECISION_INTENTS", "ORDER_INTENTS"]

DEFAULT_GAP_SECONDS = SESSION_GAP_MINUTES * 60
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


def micros(column: str, dialect: str) -> str:
    """Whole microseconds since the epoch, exact (SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' text)."""
    if dialect == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) * 1000000 AS BIGINT)"
    return f"(CAST(strftime('%s', {column}) AS INTEGER) * 1000000 + CAST(substr({column}, 21, 6) AS INTEGER))"


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


@dataclass(frozen=True)
class Source:
    """The relations a report reads, and the condition that keeps the selected touchpoints."""

    turns: str
    sessions: str
    products: str
    selection: str | None = None  # SQL over touchpoints `tp`; None = every touchpoint

    def only(self, alias: str) -> str:
        if self.selection is None:
            return "1 = 1"
        return f"{alias}.touchpoint_id IN (SELECT tp.id FROM touchpoints tp WHERE {self.selection})"


STORED = Source("turns", "touchpoint_sessions", "session_products")


def _count(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def overview(src: Source) -> str:
    """One row: the session counts, the period, and per phase i `reached_i` and `to_next_i`."""
    funnel = ", ".join(
        f"{_count(f's.engaged AND (s.phases & {1 << i}) <> 0')} AS reached_{i}, "
        f"{_count(f's.engaged AND (s.phases & {3 << i}) = {3 << i}')} AS to_next_{i}"
        for i in range(len(PHASES))
    )
    return f"""
SELECT COUNT(*) AS sessions, {_count("s.engaged")} AS engaged, SUM(s.turns) AS turns,
  {_count("s.engaged AND NOT s.completed AND s.phases <> 0")} AS dropped,
  {_count("s.engaged AND s.completed")} AS completed, {_count("s.engaged AND s.decided")} AS decided,
  {_count("s.engaged AND s.ordered")} AS ordered, MIN(s.started_at) AS first, MAX(s.ended_at) AS last,
  {funnel}
FROM {src.sessions} s WHERE {src.only("s")}"""


def entry(src: Source) -> str:
    return (
        f"SELECT s.entry_phase, COUNT(*) FROM {src.sessions} s WHERE s.engaged AND s.entry_phase IS NOT NULL"
        f" AND {src.only('s')} GROUP BY s.entry_phase"
    )


def last_phase(src: Source) -> str:
    """Per last phase: engaged sessions that ended there, and how many of them were dropped."""
    return (
        f"SELECT s.last_phase, COUNT(*), {_count('NOT s.completed')} FROM {src.sessions} s"
        f" WHERE s.engaged AND s.last_phase IS NOT NULL AND {src.only('s')} GROUP BY s.last_phase"
    )


def transitions(src: Source) -> str:
    """Consecutive messages of an engaged session in different phases (a move back counts too)."""
    return (
        f"SELECT t.phase, t.next_phase, COUNT(*) FROM {src.turns} t WHERE t.session_engaged = TRUE"
        f" AND t.next_phase IS NOT NULL AND t.phase IN ({quoted(PHASES)}) AND t.phase <> t.next_phase"
        f" AND {src.only('t')} GROUP BY t.phase, t.next_phase"
    )


def content_performance(src: Source) -> str:
    """Per reply: what the visitor's next message did (see docs/ANALYTICS.md for the categories)."""
    return f"""
SELECT t.content_id, COUNT(*) AS shown, {_count("t.next_step = 'fell_back'")} AS fell_back,
  {_count("t.next_step = 'moved_on'")} AS moved_on, {_count("t.next_step = 'continued'")} AS continued,
  {_count("t.next_step = 'left'")} AS left_chat, {_count("t.next_step = 'closed'")} AS closed
FROM {src.turns} t WHERE t.session_engaged = TRUE AND t.content_id IS NOT NULL AND {src.only("t")}
GROUP BY t.content_id"""


def mix(src: Source, dialect: str) -> str:
    """Engaged sessions per day (of the session's start), channel and persona; weeks are summed from it."""
    day = "CAST(s.started_at AS DATE)" if dialect == "postgresql" else "substr(s.started_at, 1, 10)"
    return (
        f"SELECT {day} AS day, tp.channel, COALESCE(tp.persona, '(onbekend)'), COUNT(*) FROM {src.sessions} s"
        f" JOIN touchpoints tp ON tp.id = s.touchpoint_id WHERE s.engaged AND {src.only('s')}"
        f" GROUP BY {day}, tp.channel, COALESCE(tp.persona, '(onbekend)')"
    )


def product_mix(src: Source, dialect: str) -> str:
    return (
        f"SELECT {week('s.started_at', dialect)} AS week, p.product, COUNT(*) FROM {src.products} p"
        f" JOIN {src.sessions} s ON s.touchpoint_id = p.touchpoint_id AND s.number = p.number"
        f" WHERE s.engaged AND {src.only('p')} GROUP BY {week('s.started_at', dialect)}, p.product"
    )


def experiments(src: Source) -> str:
    """Per experiment and arm: engaged sessions exposed (the first exposure counts) and how many of
    them reached a later phase than the exposure's after it (`went_further`). `experiment > ''` rather
    than IS NOT NULL: SQLite then reads the few exposures through ix_turns_experiment."""
    return f"""
WITH x AS MATERIALIZED (SELECT t.touchpoint_id, t.session_no, t.id, t.at, t.experiment, t.arm, t.went_further
  FROM {src.turns} t WHERE t.experiment > '' AND t.arm IS NOT NULL AND t.session_engaged AND {src.only("t")}),
e AS (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY x.touchpoint_id, x.session_no, x.experiment
  ORDER BY x.at, x.id) AS exposure FROM x)
SELECT experiment, arm, COUNT(*) AS n, {_count("went_further")} AS moved FROM e WHERE exposure = 1
GROUP BY experiment, arm ORDER BY experiment, arm"""


def nps_counts(key: str) -> str:
    """Answers, promoters (9-10) and detractors (0-6) per key; the caller adds FROM/WHERE/GROUP BY."""
    return (
        f"SELECT {key} AS key, COUNT(*) AS answers, "
        "SUM(CASE WHEN tp.nps_score >= 9 THEN 1 ELSE 0 END) AS promoters, "
        "SUM(CASE WHEN tp.nps_score <= 6 THEN 1 ELSE 0 END) AS detractors"
    )
