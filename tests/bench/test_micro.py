"""bench.micro's rows: each names what is compared and gives two positive timings (never asserted as targets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import micro


def test_answer_and_tracker_rows_time_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", "")
    rows = micro.answer_rows(repeats=2) + micro.tracker_rows(tmp_path, repeats=2)
    assert [label.split(" (")[0] for label, _, _ in rows] == [
        "check an action server answer",
        "check an action server answer",
        "read a conversation of 20 messages",
        "read a conversation of 100 messages",
    ]
    assert all(before > 0 and now > 0 for _, before, now in rows)
    assert micro.table(rows).count("\n") == len(rows) + 1


def test_the_kept_and_the_full_read_give_the_same_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import EventVerbosity

    from bot.rasa_stores import MaskingSQLTrackerStore, UrlSQLTrackerStore
    from bot.settings import PROJECT_ROOT

    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    ours, theirs = MaskingSQLTrackerStore(domain=domain), UrlSQLTrackerStore(domain=domain)
    micro._conversation(ours, "visitor", 5)
    for _ in range(2):  # the second read is the kept one
        kept = asyncio.run(ours.retrieve("visitor"))
        full = asyncio.run(theirs.retrieve("visitor"))
        assert kept is not None and full is not None
        assert kept.current_state(EventVerbosity.ALL) == full.current_state(EventVerbosity.ALL)
        assert len(kept.events) == 5 * 7 + 2  # from SessionStarted on, as Rasa reads a session
