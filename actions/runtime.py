"""What every action shares, created once per action-server process: the content and the store.

Created lazily, so importing the actions (rasa_sdk scans the package) needs no settings or database.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import cache

from rasa_sdk import Tracker

from bot.channels import channel_of
from bot.content import ContentRepository
from bot.settings import load_env
from bot.store import TouchpointStore, TurnRecord


@cache
def _environment() -> None:
    # The dev server passes .env on; an action server started by hand reads it here.
    load_env()


@cache
def content() -> ContentRepository:
    _environment()
    return ContentRepository.from_env()


@cache
def store() -> TouchpointStore:
    _environment()
    return TouchpointStore.from_env()


def reset() -> None:
    """Drop the process-wide content and store, so the next call reads the settings again (tests)."""
    if store.cache_info().currsize:
        store().close()
    store.cache_clear()
    content.cache_clear()


def session_started_at(tracker: Tracker) -> datetime:
    """Start of the current Rasa session: the last `session_started` event, else the first event.

    Together with the sender this keys the touchpoint, so every turn of one session lands on it.
    A tracker without timestamped events (only in hand-made trackers) starts now.
    """
    timed = [event for event in tracker.events if event.get("timestamp") is not None]
    starts = [event for event in timed if event.get("event") == "session_started"]
    chosen = starts[-1] if starts else timed[0] if timed else None
    if chosen is None:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(float(chosen["timestamp"]), tz=timezone.utc)


def record_message(
    tracker: Tracker,
    *,
    persona: str | None,
    phase: str | None,
    content_id: str | None,
    intent: str | None = None,
    outcome: str,
    at: datetime,
) -> None:
    """Record the latest user message as a turn; `intent` is the topic answered when it differs from NLU's."""
    latest = tracker.latest_message or {}
    parsed = latest.get("intent") or {}
    intent_name = intent
    store().record_turn(
        TurnRecord(
            sender_id=tracker.sender_id,
            session_started_at=session_started_at(tracker),
            channel=channel_of(tracker.get_latest_input_channel()),
            persona=persona,
            phase=phase,
            intent=intent_name or parsed.get("name") or "nlu_fallback",
            confidence=parsed.get("confidence"),
            content_id=content_id,
            text=latest.get("text") or "",
            outcome=outcome,
            at=at,
        )
    )
