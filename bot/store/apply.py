"""Applying prepared records to the tables: how turns add up to a touchpoint.

A touchpoint is keyed by (sender_key, session_started_at). Its phases_visited lists phases in the
order first seen, first_phase/last_phase follow the turns in time, and its outcome follows the
ranking below. When a sender's next session starts, an earlier touchpoint still "answered" or
"fallback" becomes "dropped": the visitor left without closing or being handed over.

Updates read the touchpoint and write it back, so the row is locked first (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's write lock is taken by the store's BEGIN IMMEDIATE): two turns
of one session written at once, by two threads or two action servers, never lose an update.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.store.models import Touchpoint, Turn
from bot.store.records import StoredNps, StoredRecord, StoredTurn

# A later turn's outcome replaces an earlier one of the same or lower rank: a handoff stays a handoff,
# a closed conversation stays completed, and otherwise the latest answer or fallback counts.
_OUTCOME_RANK = {"dropped": 0, "answered": 0, "fallback": 0, "completed": 1, "handoff": 2}
# Still open when the sender's next session starts: the visitor left without closing.
_OPEN_OUTCOMES = ("answered", "fallback")


def _touchpoint(session: Session, record: StoredRecord, outcome: str) -> Touchpoint:
    """The session's touchpoint, locked, created (and the sender's open earlier ones dropped) on first sight.

    Two writers creating it at once: one insert fails on the unique key and the store retries,
    finding (and locking) the other's row.
    """
    found = session.scalars(
        select(Touchpoint)
        .where(
            Touchpoint.sender_key == record.sender_key,
            Touchpoint.session_started_at == record.session_started_at,
        )
        .with_for_update()
    ).one_or_none()
    if found is not None:
        return found
    session.execute(
        update(Touchpoint)
        .where(
            Touchpoint.sender_key == record.sender_key,
            Touchpoint.session_started_at < record.session_started_at,
            Touchpoint.outcome.in_(_OPEN_OUTCOMES),
        )
        .values(outcome="dropped")
        .execution_options(synchronize_session=False)
    )
    touchpoint = Touchpoint(
        sender_key=record.sender_key,
        session_started_at=record.session_started_at,
        channel=record.channel,
        persona=record.persona,
        phases_visited=[],
        started_at=record.at,
        ended_at=record.at,
        outcome=outcome,
    )
    session.add(touchpoint)
    session.flush()
    return touchpoint


def apply_turn(session: Session, record: StoredTurn) -> None:
    """Add the turn and update its touchpoint; a turn already stored (same record id) is skipped."""
    if session.scalar(select(Turn.id).where(Turn.record_id == record.record_id)) is not None:
        return  # flushed from the spool before
    touchpoint = _touchpoint(session, record, record.outcome)
    if record.phase:
        if record.phase not in touchpoint.phases_visited:
            touchpoint.phases_visited = [*touchpoint.phases_visited, record.phase]
        touchpoint.first_phase = touchpoint.first_phase or record.phase
        if record.at >= touchpoint.ended_at:
            touchpoint.last_phase = record.phase
    if record.persona:
        touchpoint.persona = record.persona
    if _OUTCOME_RANK[record.outcome] >= _OUTCOME_RANK[touchpoint.outcome]:
        touchpoint.outcome = record.outcome
    touchpoint.started_at = min(touchpoint.started_at, record.at)
    touchpoint.ended_at = max(touchpoint.ended_at, record.at)
    session.add(
        Turn(
            record_id=record.record_id,
            touchpoint_id=touchpoint.id,
            at=record.at,
            phase=record.phase,
            intent=record.intent,
            confidence=record.confidence,
            content_id=record.content_id,
            text=record.text,
            outcome=record.outcome,
            product=record.product,
            typed=record.typed,
            experiment=record.experiment,
            arm=record.arm,
        )
    )


def apply_nps(session: Session, record: StoredNps) -> None:
    """Put the answer on the session's touchpoint; applying it twice changes nothing."""
    # NPS is asked after the visitor closed the conversation, so a touchpoint made here is completed.
    touchpoint = _touchpoint(session, record, "completed")
    touchpoint.nps_score = record.score
    touchpoint.nps_reason = record.reason
    touchpoint.nps_at = record.at
    touchpoint.nps_phase = record.phase
    if record.persona:
        touchpoint.persona = record.persona
    touchpoint.ended_at = max(touchpoint.ended_at, record.at)
