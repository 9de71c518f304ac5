"""The tracker store writes conversations masked, while the running conversation keeps its clear text."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.rasa_stores import MaskingSQLTrackerStore, mask_event_data

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [inform]
entities: [email]
slots:
  contact:
    type: text
    mappings: [{type: custom}]
  journey_phase:
    type: categorical
    values: [need, aftercare]
    mappings: [{type: custom}]
"""
)
MESSAGE = "mail me op jan.jansen@example.com of bel 06-12345678, IBAN NL91ABNA0417164300, 1234 AB"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MaskingSQLTrackerStore:
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    return MaskingSQLTrackerStore(domain=DOMAIN)


def a_turn(tracker: DialogueStateTracker) -> None:
    parse_data = {
        "text": MESSAGE,
        "intent": {"name": "inform", "confidence": 0.9},
        "entities": [{"entity": "email", "value": "jan.jansen@example.com", "start": 8, "end": 30}],
        "intent_ranking": [{"name": "inform", "confidence": 0.9}],
    }
    tracker.update(UserUttered(MESSAGE, parse_data["intent"], parse_data["entities"], parse_data))
    tracker.update(SlotSet("contact", "jan.jansen@example.com"))
    tracker.update(SlotSet("journey_phase", "aftercare"))
    tracker.update(ActionExecuted("action_journey_reply"))
    tracker.update(BotUttered("We mailen jan.jansen@example.com."))
    tracker.update(ActionExecuted("action_listen"))


def stored_rows(url: str) -> list[str]:
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        rows = [row[0] for row in connection.execute(text("SELECT data FROM events ORDER BY id"))]
    engine.dispose()
    return rows


def test_what_is_written_is_masked_and_the_running_tracker_is_not(store: MaskingSQLTrackerStore) -> None:
    tracker = DialogueStateTracker("visitor-1", DOMAIN.slots)
    a_turn(tracker)
    asyncio.run(store.save(tracker))

    assert tracker.latest_message is not None and tracker.latest_message.text == MESSAGE
    assert tracker.get_slot("contact") == "jan.jansen@example.com", "the in-memory tracker keeps clear text"

    rows = "\n".join(stored_rows(str(store.engine.url)))
    for clear in ("jan.jansen@example.com", "06-12345678", "NL91ABNA0417164300", "1234 AB"):
        assert clear not in rows
    assert "[e-mail]" in rows and "[telefoon]" in rows and "[iban]" in rows and "[postcode]" in rows


def test_the_retrieved_tracker_keeps_names_slots_and_intents(store: MaskingSQLTrackerStore) -> None:
    tracker = DialogueStateTracker("visitor-2", DOMAIN.slots)
    a_turn(tracker)
    asyncio.run(store.save(tracker))

    again = asyncio.run(store.retrieve("visitor-2"))
    assert again is not None
    assert len(again.events) == len(tracker.events), "the event count, which save relies on, is unchanged"
    assert again.get_slot("journey_phase") == "aftercare"
    assert again.get_slot("contact") == "[e-mail]"
    assert again.latest_message is not None
    assert again.latest_message.intent["name"] == "inform"
    assert again.latest_message.entities[0]["entity"] == "email"
    assert "[e-mail]" in again.latest_message.text
    assert again.latest_action_name == "action_listen"


def test_a_second_save_adds_only_the_new_events(store: MaskingSQLTrackerStore) -> None:
    tracker = DialogueStateTracker("visitor-3", DOMAIN.slots)
    a_turn(tracker)
    asyncio.run(store.save(tracker))
    first = len(stored_rows(str(store.engine.url)))
    tracker.update(UserUttered("bedankt", {"name": "inform", "confidence": 1.0}))
    asyncio.run(store.save(tracker))
    assert len(stored_rows(str(store.engine.url))) == first + 1


def test_identifiers_are_never_masked() -> None:
    data = {"event": "slot", "name": "contact", "value": "bel 0612345678", "timestamp": 1.5, "entity": "x"}
    assert mask_event_data(data) == {**data, "value": "bel [telefoon]"}
    assert json.loads(json.dumps(mask_event_data({"metadata": {"from": ["+31 6 1234 5678"]}}))) == {
        "metadata": {"from": ["[telefoon]"]}
    }


def journal_mode(url: str) -> str:
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        mode = str(connection.execute(text("PRAGMA journal_mode")).scalar())
    engine.dispose()
    return mode


def test_sqlite_stores_write_ahead_so_a_commit_does_not_wait_for_fsync(
    store: MaskingSQLTrackerStore, tmp_path: Path
) -> None:
    from bot.store.database import make_engine

    tracker = DialogueStateTracker("wal-1", DOMAIN.slots)
    a_turn(tracker)
    asyncio.run(store.save(tracker))
    assert journal_mode(f"sqlite:///{tmp_path / 'tracker.db'}") == "wal"
    touchpoints = f"sqlite:///{tmp_path / 'journey.db'}"
    engine = make_engine(touchpoints)  # the touchpoint and inbox stores' engine
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()
    assert journal_mode(touchpoints) == "wal"
