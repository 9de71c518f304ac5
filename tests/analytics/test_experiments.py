"""Test-and-learn: an experiment in the journey YAML, a stable arm per visitor, stored per turn, validated."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text

from actions import runtime
from actions.journey import ActionJourneyReply
from bot.analytics.arms import arm_name, assign
from bot.content import ContentError
from bot.content.loader import load_content
from bot.settings import PROJECT_ROOT
from tests.actions.test_journey_action import tracker_for

EXPERIMENT = "how-it-works-intro"


def journeys_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the shipped journeys with consumer.yml's how_it_works replies changed."""
    folder = tmp_path / "journeys"
    shutil.copytree(PROJECT_ROOT / "journeys", folder)
    path = folder / "consumer.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    [orientation] = [p for p in data["journey"]["phases"] if p["id"] == "orientation"]
    change(orientation["intents"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def mark_default(intents: dict[str, Any]) -> None:
    intents["how_it_works"]["replies"][0]["experiment"] = EXPERIMENT  # the default variant, two phrasings


def test_arms_are_stable_per_visitor_and_evenly_split() -> None:
    assert [assign(EXPERIMENT, "visitor-1", 2) for _ in range(5)] == [assign(EXPERIMENT, "visitor-1", 2)] * 5
    arms = [assign(EXPERIMENT, f"visitor-{n}", 2) for n in range(4000)]
    assert 0.46 < arms.count(1) / len(arms) < 0.54
    assert {assign(EXPERIMENT, f"v{n}", 3) for n in range(300)} == {0, 1, 2}
    assert [arm_name(i) for i in range(3)] == ["A", "B", "C"]


def test_validate_checks_experiment_definitions(tmp_path: Path) -> None:
    load_content(journeys_with(tmp_path / "ok", mark_default), PROJECT_ROOT / "domain.yml")

    def one_phrasing(intents: dict[str, Any]) -> None:
        intents["how_it_works"]["replies"][1]["experiment"] = "tenant-test"  # tenant variant: one phrasing

    with pytest.raises(ContentError) as one:
        load_content(journeys_with(tmp_path / "one", one_phrasing), PROJECT_ROOT / "domain.yml")
    assert "experiment 'tenant-test' has 1 phrasing" in str(one.value.issues)

    def duplicate(intents: dict[str, Any]) -> None:
        mark_default(intents)
        intents["savings"]["replies"][0]["experiment"] = EXPERIMENT

    with pytest.raises(ContentError) as twice:
        load_content(journeys_with(tmp_path / "dup", duplicate), PROJECT_ROOT / "domain.yml")
    assert f"experiment '{EXPERIMENT}' is also used by intent 'how_it_works'" in str(twice.value.issues)


def test_the_action_shows_the_visitors_arm_and_stores_it_per_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'journey.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("PSEUDONYM_KEY", "test-key-" + "x" * 20)
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("JOURNEYS_DIR", str(journeys_with(tmp_path, mark_default)))
    runtime.reset()
    try:
        seen: dict[str, set[str]] = {}
        for sender in ("visitor-a", "visitor-b", "visitor-c", "visitor-d"):
            for repeat in range(2):  # asking again keeps the arm (no rotation inside an experiment)
                counts = {"reply_counts": {"how_it_works": repeat}}
                tracker = tracker_for("hoe werkt dat eigenlijk?", "how_it_works", sender=sender, slots=counts)
                dispatcher = CollectingDispatcher()
                asyncio.run(ActionJourneyReply().run(dispatcher, tracker, {}))
                seen.setdefault(sender, set()).add(dispatcher.messages[0]["text"])
        assert all(len(texts) == 1 for texts in seen.values())
        tap = tracker_for("/how_it_works", "how_it_works", sender="visitor-a")
        asyncio.run(ActionJourneyReply().run(CollectingDispatcher(), tap, {}))
    finally:
        runtime.reset()
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT experiment, arm, typed, content_id FROM turns ORDER BY id")
        ).all()
    engine.dispose()
    assert len(rows) == 9 and {row.experiment for row in rows} == {EXPERIMENT}
    for row in rows:
        assert row.content_id.endswith(f"#{ord(row.arm) - ord('A') + 1}")  # the phrasing is the arm
    assert [bool(row.typed) for row in rows] == [True] * 8 + [False]  # a button payload is not typed
    expected = {
        s: arm_name(assign(EXPERIMENT, s, 2)) for s in ("visitor-a", "visitor-b", "visitor-c", "visitor-d")
    }
    assert [row.arm for row in rows[:8:2]] == list(expected.values())
