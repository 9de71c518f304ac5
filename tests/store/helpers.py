"""Helpers for the store tests: turn records, a dead database URL, and real Rasa conversations."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta, timezone

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, select
from sqlalchemy import text as sql

from bot.settings import PROJECT_ROOT
from bot.store import TurnRecord
from bot.store.models import Touchpoint, Turn

KEY = "store-test-key-" + "k" * 24
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def turn(
    sender: str = "visitor-1",
    *,
    minute: int = 0,
    session: datetime = T0,
    phase: str | None = "need",
    intent: str = "energy_costs",
    text: str = "mijn rekening is hoog",
    outcome: str = "answered",
    persona: str | None = None,
    channel: str = "web",
) -> TurnRecord:
    return TurnRecord(
        sender_id=sender,
        session_started_at=session,
        channel=channel,
        persona=persona,
        phase=phase,
        intent=intent,
        confidence=0.91,
        content_id=f"consumer/{phase}/{intent}/default/0" if phase else None,
        text=text,
        outcome=outcome,
        at=session + timedelta(minutes=minute),
    )


def closed_port_url() -> str:
    """A PostgreSQL URL on a loopback port where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/journey"


def save_rasa_conversation(url: str, sender: str, texts: list[str], at: datetime | None = None) -> None:
    """Store a real conversation with Rasa's own SQLTrackerStore, which creates its `events` table."""
    stamp = (at or datetime.now(timezone.utc)).timestamp()
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    events = [ActionExecuted("action_session_start", timestamp=stamp), SessionStarted(timestamp=stamp)]
    for offset, said in enumerate(texts, start=1):
        events.append(ActionExecuted("action_listen", timestamp=stamp + offset))
        events.append(UserUttered(said, {"name": "greet", "confidence": 1.0}, timestamp=stamp + offset))
    tracker_store = SQLTrackerStore(domain=domain, host=url)
    try:
        asyncio.run(tracker_store.save(DialogueStateTracker.from_events(sender, events, domain.slots)))
    finally:
        tracker_store.engine.dispose()


def count_events(url: str, sender: str | None = None) -> int:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            if sender is None:
                return int(connection.execute(sql("SELECT count(*) FROM events")).scalar_one())
            query = sql("SELECT count(*) FROM events WHERE sender_id = :sender")
            return int(connection.execute(query, {"sender": sender}).scalar_one())
    finally:
        engine.dispose()


def rows(url: str, model: type[Touchpoint] | type[Turn]) -> list[dict[str, object]]:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            table = model.__table__
            return [dict(row) for row in connection.execute(select(table).order_by(table.c.id)).mappings()]
    finally:
        engine.dispose()
