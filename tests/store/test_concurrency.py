"""Turns of one session written at once (threads, two action servers) lose no update on the touchpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.store import TouchpointStore
from bot.store.models import Touchpoint, Turn
from tests.store.helpers import rows, turn

PHASES = ("need", "orientation", "consideration", "decision", "purchase", "delivery", "use", "aftercare")
TURNS_EACH = 6


def test_concurrent_turns_of_one_session_keep_every_phase_and_the_outcome(
    make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """Eight writers, each with its own phase, on two stores with their own spools (two servers).

    Every turn reads the touchpoint's phases and outcome and writes them back: without a row lock
    (or SQLite's write lock taken first) concurrent writers overwrite each other's phases.
    """
    stores = [make_store(spool_dir=tmp_path / "spool-a"), make_store(spool_dir=tmp_path / "spool-b")]
    start = threading.Barrier(len(PHASES))

    def write(worker: int) -> None:
        start.wait()
        for number in range(TURNS_EACH):
            outcome = "handoff" if (worker, number) == (3, 2) else "answered"
            stores[worker % 2].record_turn(
                turn(minute=worker * 10 + number, phase=PHASES[worker], outcome=outcome, intent=f"i{worker}")
            )

    with ThreadPoolExecutor(max_workers=len(PHASES)) as pool:
        list(pool.map(write, range(len(PHASES))))

    assert not stores[0].spool.pending() and not stores[1].spool.pending()
    turns = rows(database_url, Turn)
    assert len(turns) == len(PHASES) * TURNS_EACH
    [touchpoint] = rows(database_url, Touchpoint)
    assert sorted(touchpoint["phases_visited"]) == sorted(PHASES)
    assert touchpoint["outcome"] == "handoff", "a handoff is never overwritten by a later answer"
    assert touchpoint["first_phase"] in PHASES
    assert touchpoint["last_phase"] == "aftercare", "the latest turn in time sets the last phase"
    assert touchpoint["started_at"] == min(row["at"] for row in turns)
    assert touchpoint["ended_at"] == max(row["at"] for row in turns)


def test_concurrent_first_turns_create_one_touchpoint(
    make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """Many writers see no touchpoint yet and insert at once: one row, every turn on it."""
    stores = [make_store(spool_dir=tmp_path / f"spool-{n}") for n in range(3)]
    start = threading.Barrier(6)

    def first(worker: int) -> None:
        start.wait()
        stores[worker % 3].record_turn(turn(minute=worker, phase=PHASES[worker]))

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(first, range(6)))

    assert not any(store.spool.pending() for store in stores)
    [touchpoint] = rows(database_url, Touchpoint)
    assert len(rows(database_url, Turn)) == 6
    assert sorted(touchpoint["phases_visited"]) == sorted(PHASES[:6])


def test_the_same_record_written_twice_at_once_is_stored_once(
    make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """A late write racing its spooled copy (or a retried action): the record id decides, once."""
    stores = [make_store(spool_dir=tmp_path / "spool-a"), make_store(spool_dir=tmp_path / "spool-b")]
    record = stores[0].prepare_turn(turn(phase="use"), message_id="rasa-message-1")
    again = stores[1].prepare_turn(turn(phase="use"), message_id="rasa-message-1")
    assert record.record_id == again.record_id
    start = threading.Barrier(4)

    def write(worker: int) -> None:
        start.wait()
        stores[worker % 2].write(record)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))

    assert len(rows(database_url, Turn)) == 1
    assert not stores[0].spool.pending() and not stores[1].spool.pending()
