"""action_journey_reply against real trackers, real journey content and a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions import runtime
from actions.journey import ActionJourneyClose, ActionJourneyFallback, ActionJourneyReply
from bot.settings import PROJECT_ROOT


@pytest.fixture(autouse=True)
def isolated_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Each test gets its own SQLite store and the shipped journeys."""
    url = f"sqlite:///{tmp_path / 'journey.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PSEUDONYM_KEY", "test-key-" + "x" * 20)
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("JOURNEYS_DIR", str(PROJECT_ROOT / "journeys"))
    runtime.reset()
    yield url
    runtime.reset()


def tracker_for(
    text: str,
    intent: str,
    *,
    slots: dict[str, Any] | None = None,
    channel: str = "rest",
    entities: list[dict[str, Any]] | None = None,
    sender: str = "visitor-1",
    phase: str | None = None,
    ranking: list[tuple[str, float]] | None = None,
) -> Tracker:
    """`phase`: what the phase classifier read from the text (as Rasa's parse would carry it)."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": ranking[0][1] if ranking else 0.93},
        "entities": entities or [],
        "intent_ranking": [{"name": name, "confidence": score} for name, score in ranking or []],
        "journey_phase_ranking": [{"name": phase, "confidence": 0.85}] if phase else [],
    }
    events = [
        {"event": "session_started", "timestamp": 1_700_000_000.0},
        {
            "event": "user",
            "text": text,
            "parse_data": latest,
            "input_channel": channel,
            "timestamp": 1_700_000_001.0,
        },
    ]
    return Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen")


def run(
    action: ActionJourneyReply | ActionJourneyClose | ActionJourneyFallback, tracker: Tracker
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    # The slots after the turn: the action sets only the ones that changed.
    slots = {
        **tracker.slots,
        **{event["name"]: event["value"] for event in events if event["event"] == "slot"},
    }
    return dispatcher.messages, slots


def test_a_phase_intent_sets_the_phase_and_answers_from_the_journey() -> None:
    messages, slots = run(
        ActionJourneyReply(), tracker_for("hoeveel bespaar ik met zonnepanelen?", "savings")
    )
    assert slots["journey_phase"] == "orientation"
    assert messages and messages[0]["text"]
    assert all(len(button["title"]) <= 20 for message in messages for button in message["buttons"])


def test_a_general_intent_keeps_the_previous_phase() -> None:
    messages, slots = run(
        ActionJourneyReply(), tracker_for("ja", "affirm", slots={"journey_phase": "consideration"})
    )
    assert slots["journey_phase"] == "consideration"
    assert messages


def test_persona_is_recognised_from_the_text() -> None:
    _, slots = run(
        ActionJourneyReply(),
        tracker_for("Wat levert zonnepanelen op voor onze VvE met 40 appartementen?", "savings"),
    )
    assert slots["persona"] == "vve_board"


def test_persona_button_sets_the_persona() -> None:
    entities = [{"entity": "persona", "value": "mkb_owner"}]
    _, slots = run(
        ActionJourneyReply(),
        tracker_for(
            '/inform_customer_type{"persona":"mkb_owner"}', "inform_customer_type", entities=entities
        ),
    )
    assert slots["persona"] == "mkb_owner"


def test_no_sales_pitch_for_a_product_the_customer_owns() -> None:
    owned = {"journey_phase": "use", "owned_products": ["zonnepanelen"]}
    messages, slots = run(
        ActionJourneyReply(),
        tracker_for("wat kosten zonnepanelen?", "price", slots=owned, phase="consideration"),
    )
    assert slots["journey_phase"] == "consideration"
    assert not any(
        button.get("payload") == "/quote_request" for message in messages for button in message["buttons"]
    )


def test_thanks_after_service_makes_nps_due_and_sales_thanks_does_not() -> None:
    _, after_service = run(
        ActionJourneyClose(), tracker_for("bedankt!", "thanks", slots={"journey_phase": "aftercare"})
    )
    assert after_service["nps_due"] is True
    _, after_sales = run(
        ActionJourneyClose(), tracker_for("bedankt!", "thanks", slots={"journey_phase": "orientation"})
    )
    assert after_sales["nps_due"] is False


def test_fallback_offers_choices_and_the_turn_is_recorded(isolated_runtime: str) -> None:
    messages, _ = run(ActionJourneyFallback(), tracker_for("qwzx plof", "nlu_fallback"))
    assert messages[0]["buttons"], "the fallback offers the phases as choices"
    with create_engine(isolated_runtime).connect() as connection:
        outcomes = connection.execute(text("SELECT outcome FROM turns")).scalars().all()
    assert outcomes == ["fallback"]


def test_a_clarifying_question_is_recorded_as_a_fallback_turn(isolated_runtime: str) -> None:
    ranking = [("nlu_fallback", 0.3), ("price", 0.3), ("subsidy", 0.28)]
    tracker = tracker_for("kost dat iets en krijg ik er iets voor terug", "nlu_fallback", ranking=ranking)
    messages, _ = run(ActionJourneyFallback(), tracker)
    assert [button["payload"] for button in messages[0]["buttons"]] == ["/price", "/subsidy"]
    with create_engine(isolated_runtime).connect() as connection:
        row = connection.execute(text("SELECT outcome, content_id FROM turns")).one()
    assert row.outcome == "fallback" and row.content_id.startswith("general/clarify")


def test_every_turn_is_recorded_with_intent_phase_and_content(isolated_runtime: str) -> None:
    run(
        ActionJourneyReply(),
        tracker_for("ik wil een offerte voor een warmtepomp", "quote_request", channel="socketio"),
    )
    with create_engine(isolated_runtime).connect() as connection:
        row = connection.execute(text("SELECT intent, phase, content_id FROM turns")).one()
        channel = connection.execute(text("SELECT channel FROM touchpoints")).scalar_one()
    assert row.intent == "quote_request"
    assert row.phase == "decision"
    assert row.content_id
    assert channel == "web"


def test_a_customer_in_use_asking_about_a_second_product_starts_a_new_orientation() -> None:
    customer = {"journey_phase": "use", "owned_products": ["zonnepanelen"]}
    messages, slots = run(
        ActionJourneyReply(),
        tracker_for(
            "hoe werkt een warmtepomp eigenlijk?", "how_it_works", slots=customer, phase="orientation"
        ),
    )
    assert slots["journey_phase"] == "orientation"
    assert slots["owned_products"] == ["zonnepanelen"], "asking about a product is not owning it"
    assert messages and "already_owned" not in str(messages)


def test_a_product_named_after_purchase_counts_as_owned() -> None:
    _, slots = run(
        ActionJourneyReply(),
        tracker_for("wanneer komt de monteur de thuisbatterij installeren?", "planning"),
    )
    assert slots["owned_products"] == ["thuisbatterij"]


def test_persona_question_is_asked_once_when_content_differs_per_persona() -> None:
    first, slots = run(ActionJourneyReply(), tracker_for("wat kost dat ongeveer?", "price"))
    assert slots["persona_asked"] is True
    assert any(
        "inform_customer_type" in button["payload"] for message in first for button in message["buttons"]
    )
    again, _ = run(
        ActionJourneyReply(),
        tracker_for("wat kost dat ongeveer?", "price", slots={"persona_asked": True}),
    )
    assert not any(
        "inform_customer_type" in button["payload"] for message in again for button in message["buttons"]
    )


def test_only_changed_memory_slots_are_set() -> None:
    """Unchanged slots would add eight events a turn to every later message's work."""
    first = tracker_for("hoeveel bespaar ik met zonnepanelen?", "savings")
    events = asyncio.run(ActionJourneyReply().run(CollectingDispatcher(), first, {}))
    slots = {event["name"]: event["value"] for event in events if event["event"] == "slot"}
    assert slots["journey_phase"] == "orientation"
    again = tracker_for("hoeveel bespaar ik met zonnepanelen?", "savings", slots={**first.slots, **slots})
    repeated = asyncio.run(ActionJourneyReply().run(CollectingDispatcher(), again, {}))
    changed = {event["name"] for event in repeated if event["event"] == "slot"}
    assert changed == {"reply_counts"}  # the same question again: only the count of that reply moved
