"""Forget and purge leave nothing behind: touchpoints, turns, spooled records and Rasa's own events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain

from bot.privacy import pseudonymise
from bot.settings import PROJECT_ROOT
from bot.store import TouchpointStore
from bot.store.models import Touchpoint, Turn
from tests.store.helpers import KEY, closed_port_url, count_events, rows, save_rasa_conversation, turn

NOW = datetime.now(timezone.utc)


def rasa_retrieves(url: str, sender: str) -> bool:
    tracker_store = SQLTrackerStore(domain=Domain.load(PROJECT_ROOT / "domain.yml"), host=url)
    try:
        return asyncio.run(tracker_store.retrieve(sender)) is not None
    finally:
        tracker_store.engine.dispose()


def test_forget_removes_everything_about_one_sender(store: TouchpointStore, database_url: str) -> None:
    sender, other = "whatsapp:+31612345678", "socket-abc"
    for minute in range(3):
        store.record_turn(turn(sender, session=NOW - timedelta(hours=1), minute=minute))
    store.record_turn(turn(sender, session=NOW - timedelta(days=3)))
    store.record_nps(sender, NOW - timedelta(hours=1), 9, "prima", "use", "whatsapp", None, NOW)
    store.record_turn(turn(other, session=NOW))
    save_rasa_conversation(database_url, sender, ["hoi", "mijn nummer is 06-12345678"])
    save_rasa_conversation(database_url, other, ["hallo"])
    assert rasa_retrieves(database_url, sender)
    events = count_events(database_url, sender)
    assert events >= 6  # action_session_start, session_started, and listen + user per message

    counts = store.forget(sender)

    assert counts == {"touchpoints": 2, "turns": 4, "inbox": 0, "spooled": 0, "events": events}
    assert count_events(database_url, sender) == 0
    assert not rasa_retrieves(database_url, sender)
    assert count_events(database_url, other) > 0
    assert [row["sender_key"] for row in rows(database_url, Touchpoint)] == [pseudonymise(other, KEY)]
    assert len(rows(database_url, Turn)) == 1
    assert store.last_nps_at(sender) is None
    assert store.forget(sender) == {"touchpoints": 0, "turns": 0, "inbox": 0, "spooled": 0, "events": 0}


def test_forget_also_drops_spooled_records(
    make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    down = make_store(closed_port_url(), tmp_path / "spool")
    down.record_turn(turn("visitor-1"))
    down.record_turn(turn("visitor-2"))
    up = make_store(database_url, tmp_path / "spool")

    counts = up.forget("visitor-1")

    assert counts["spooled"] == 1
    up.record_turn(turn("visitor-3"))  # flushes what is left
    assert len(rows(database_url, Turn)) == 2


def test_forget_without_a_rasa_database_yet(database_url: str, tmp_path: Path) -> None:
    store = TouchpointStore(database_url, "k" * 32, tmp_path / "spool", f"sqlite:///{tmp_path / 'none.db'}")
    store.record_turn(turn())
    try:
        assert store.forget("visitor-1")["events"] == 0
        assert not (tmp_path / "none.db").exists()
    finally:
        store.close()


def test_purge_removes_only_what_is_older_than_the_retention(
    store: TouchpointStore, database_url: str
) -> None:
    old = NOW - timedelta(days=200)
    recent = NOW - timedelta(days=10)
    store.record_turn(turn("old-visitor", session=old))
    store.record_turn(turn("old-visitor", session=old, minute=1))
    store.record_turn(turn("recent-visitor", session=recent))
    save_rasa_conversation(database_url, "old-visitor", ["hoi"], at=old)
    save_rasa_conversation(database_url, "recent-visitor", ["hoi"], at=recent)
    old_events = count_events(database_url, "old-visitor")

    counts = store.purge()  # the default retention: 180 days

    assert counts == {"touchpoints": 1, "turns": 2, "spooled": 0, "events": old_events}
    assert count_events(database_url, "old-visitor") == 0
    assert count_events(database_url, "recent-visitor") > 0
    assert len(rows(database_url, Touchpoint)) == 1
    recent_events = count_events(database_url, "recent-visitor")
    assert store.purge(older_than_days=5) == {
        "touchpoints": 1,
        "turns": 1,
        "spooled": 0,
        "events": recent_events,
    }
    assert rows(database_url, Touchpoint) == rows(database_url, Turn) == []
    assert count_events(database_url) == 0
