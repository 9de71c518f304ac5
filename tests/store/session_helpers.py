"""Reading the write-time session fields back, keyed so that two databases can be compared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from bot.analytics import derived, sql


def _engine_rows(url: str, statement: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            return [tuple(row) for row in connection.execute(text(statement))]
    finally:
        engine.dispose()


def turn_fields(url: str) -> dict[str, tuple[Any, ...]]:
    """record id → (session_no, next_phase, next_step, session_engaged, went_further)."""
    statement = (
        "SELECT record_id, session_no, next_phase, next_step, session_engaged, went_further FROM turns"
    )
    return {row[0]: (*row[1:4], bool(row[4]), bool(row[5])) for row in _engine_rows(url, statement)}


def sessions(url: str) -> list[tuple[Any, ...]]:
    """Every touchpoint_sessions row with the sender key instead of the touchpoint id, sorted."""
    statement = (
        "SELECT tp.sender_key, s.number, s.turns, s.engaged, s.completed, s.decided, s.ordered,"
        " s.entry_phase, s.last_phase, s.phases, s.started_at, s.ended_at"
        " FROM touchpoint_sessions s JOIN touchpoints tp ON tp.id = s.touchpoint_id"
    )
    return sorted(
        (*row[:3], *(bool(flag) for flag in row[3:7]), *row[7:10], str(row[10])[:19], str(row[11])[:19])
        for row in _engine_rows(url, statement)
    )


def products(url: str) -> list[tuple[Any, ...]]:
    statement = (
        "SELECT tp.sender_key, p.number, p.product FROM session_products p"
        " JOIN touchpoints tp ON tp.id = p.touchpoint_id"
    )
    return sorted(_engine_rows(url, statement))


def window_fields(url: str) -> dict[str, tuple[Any, ...]]:
    """The same fields as the report's window-function derivation computes them (30 minutes)."""
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            derived.materialise(connection, "1 = 1", sql.DEFAULT_GAP_SECONDS, {})
            statement = (
                "SELECT tu.record_id, d.session_no, d.next_phase, d.next_step, d.session_engaged,"
                f" d.went_further FROM {derived.TURNS} d JOIN turns tu ON tu.id = d.id"
            )
            found = {
                row[0]: (*row[1:4], bool(row[4]), bool(row[5])) for row in connection.execute(text(statement))
            }
            derived.drop(connection)
            return found
    finally:
        engine.dispose()
