"""The tracker store reads only new rows, and still gives exactly what Rasa's own store reads.

Checked against Rasa's SQLTrackerStore (UrlSQLTrackerStore: Rasa's reading, our URL) on the same
database, SQLite and PostgreSQL, through what changes a conversation's rows: more turns, a new
session, another Rasa process writing, an erasure, and a purge of old rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from sqlalchemy import create_engine, text

from bot.rasa_stores import MaskingSQLTrackerStore, ReadEvents, UrlSQLTrackerStore, _Read
from tests.databases import fresh_postgres_database
from tests.test_rasa_stores import DOMAIN


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    server = request.getfixturevalue("postgres_url")
    with fresh_postgres_database(server, "tracker_reads") as url:
        yield url


def stores(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[MaskingSQLTrackerStore, UrlSQLTrackerStore]:
    monkeypatch.setenv("TRACKER_STORE_URL", url)
    return MaskingSQLTrackerStore(domain=DOMAIN), UrlSQLTrackerStore(domain=DOMAIN)


def turn(tracker: DialogueStateTracker, number: int) -> None:
    intent = {"name": "inform", "confidence": 0.9}
    tracker.update(
        UserUttered(f"bericht {number}", intent, [], {"text": f"bericht {number}", "intent": intent})
    )
    tracker.update(SlotSet("journey_phase", "need" if number % 2 else "aftercare"))
    tracker.update(ActionExecuted("action_journey_reply"))
    tracker.update(BotUttered(f"antwoord {number}"))
    tracker.update(ActionExecuted("action_listen"))


def state(tracker: DialogueStateTracker | None) -> object:
    return None if tracker is None else tracker.current_state(EventVerbosity.ALL)


def one_message(store: MaskingSQLTrackerStore, sender: str, number: int) -> None:
    """What Rasa does per message: read the tracker, add the turn, save."""
    tracker = asyncio.run(store.retrieve(sender)) or DialogueStateTracker(sender, DOMAIN.slots)
    turn(tracker, number)
    asyncio.run(store.save(tracker))


def execute(url: str, statement: str) -> object:
    """Run one statement on its own connection, committed; a query's first value."""
    engine = create_engine(url, future=True)
    with engine.begin() as connection:
        result = connection.execute(text(statement))
        first = result.scalar() if result.returns_rows else None
    engine.dispose()
    return first


def test_reads_equal_rasas_through_every_change(tracker_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, rasas = stores(tracker_url, monkeypatch)
    other_process = MaskingSQLTrackerStore(domain=DOMAIN)
    for number in range(6):
        one_message(ours, "visitor", number)
        assert state(asyncio.run(ours.retrieve("visitor"))) == state(asyncio.run(rasas.retrieve("visitor")))
    # Another Rasa process answers the next two messages; this one must see them.
    one_message(other_process, "visitor", 6)
    one_message(other_process, "visitor", 7)
    assert state(asyncio.run(ours.retrieve("visitor"))) == state(asyncio.run(rasas.retrieve("visitor")))
    # A new session: Rasa reads from its SessionStarted on.
    tracker = asyncio.run(ours.retrieve("visitor"))
    assert tracker is not None
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted(timestamp=tracker.events[-1].timestamp + 1))
    tracker.update(ActionExecuted("action_listen", timestamp=tracker.events[-1].timestamp + 1))
    asyncio.run(ours.save(tracker))
    one_message(ours, "visitor", 8)
    new_session = asyncio.run(ours.retrieve("visitor"))
    assert state(new_session) == state(asyncio.run(rasas.retrieve("visitor")))
    assert new_session is not None and len(new_session.events) < 20
    # A purge of the oldest rows, then an erasure: the kept events must not come back.
    execute(tracker_url, "DELETE FROM events WHERE id IN (SELECT min(id) FROM events)")
    assert state(asyncio.run(ours.retrieve("visitor"))) == state(asyncio.run(rasas.retrieve("visitor")))
    execute(tracker_url, "DELETE FROM events WHERE sender_id = 'visitor'")
    assert asyncio.run(ours.retrieve("visitor")) is None
    assert asyncio.run(rasas.retrieve("visitor")) is None


def test_only_rows_after_the_last_read_are_read_again(
    tracker_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proof that kept events are used: a row changed in place (which nothing does) goes unseen."""
    ours, rasas = stores(tracker_url, monkeypatch)
    for number in range(3):
        one_message(ours, "visitor", number)
    execute(
        tracker_url,
        "UPDATE events SET data = REPLACE(data, 'bericht 0', 'veranderd') WHERE type_name = 'user'",
    )
    one_message(ours, "visitor", 3)
    kept = asyncio.run(ours.retrieve("visitor"))
    fresh = asyncio.run(rasas.retrieve("visitor"))
    assert kept is not None and fresh is not None
    texts = [event.text for event in kept.events if isinstance(event, UserUttered)]
    assert texts == ["bericht 0", "bericht 1", "bericht 2", "bericht 3"]
    assert next(event.text for event in fresh.events if isinstance(event, UserUttered)) == "veranderd"


def test_what_is_kept_is_bounded_by_events() -> None:
    reads = ReadEvents(limit=25)
    tracker = DialogueStateTracker("x", DOMAIN.slots)
    for number in range(2):
        turn(tracker, number)
    events = tuple(tracker.events)  # 10 events
    for sender in ("a", "b", "c"):
        reads.keep(sender, _Read(10, 10, 10, events))
    assert reads.held == 20
    assert reads.take("a") is None, "the least recently used conversation was dropped"
    assert reads.take("c") is not None and reads.held == 10
    reads.keep("huge", _Read(30, 30, 30, events * 3))
    assert reads.take("huge") is None, "one conversation over the limit is not kept at all"


def test_each_message_stores_exactly_its_own_events(
    tracker_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours, _ = stores(tracker_url, monkeypatch)
    for number in range(4):
        one_message(ours, "visitor", number)
    assert execute(tracker_url, "SELECT count(*) FROM events WHERE sender_id = 'visitor'") == 4 * 5


def test_a_sqlite_store_keeps_its_connections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, _ = stores(f"sqlite:///{tmp_path / 'tracker.db'}", monkeypatch)
    one_message(ours, "visitor", 1)
    one_message(ours, "visitor", 2)
    assert ours.engine.pool.checkedin() == 1, "one connection, back in the pool after each message"
