"""None lost: while the database is down records wait in the spool, and the next write flushes them."""

from __future__ import annotations

import io
import logging
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from bot.store import StoreUnavailable, TouchpointStore
from bot.store.models import Touchpoint, Turn
from tests.store.helpers import T0, closed_port_url, rows, turn


def spool_lines(spool_dir: Path) -> list[str]:
    path = spool_dir / "touchpoints.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def down(make_store: Callable[..., TouchpointStore], tmp_path: Path) -> TouchpointStore:
    """A store whose PostgreSQL server refuses connections, sharing the test's spool directory."""
    return make_store(closed_port_url(), tmp_path / "spool")


def test_records_are_spooled_while_down_and_flushed_once_back(
    down: TouchpointStore,
    make_store: Callable[..., TouchpointStore],
    database_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sender = "whatsapp:+31612345678"
    with caplog.at_level(logging.WARNING):
        for minute in range(3):
            down.record_turn(turn(sender, minute=minute, phase="use", text="bel 06-12345678"))
        down.record_nps(sender, T0, 4, "te laat", "use", "whatsapp", None, T0 + timedelta(minutes=5))
    assert len(spool_lines(tmp_path / "spool")) == 4
    logged = caplog.text
    assert "spooled" in logged
    assert sender not in logged and "06-12345678" not in logged and "te laat" not in logged
    spooled = "\n".join(spool_lines(tmp_path / "spool"))
    assert sender not in spooled and "06-12345678" not in spooled

    up = make_store(database_url, tmp_path / "spool")
    up.record_turn(turn(sender, minute=10, phase="aftercare"))

    assert spool_lines(tmp_path / "spool") == []
    turns = rows(database_url, Turn)
    assert len(turns) == 4
    assert len({row["record_id"] for row in turns}) == 4
    [touchpoint] = rows(database_url, Touchpoint)
    assert touchpoint["phases_visited"] == ["use", "aftercare"]
    assert touchpoint["nps_score"] == 4


def test_a_flush_repeated_after_a_crash_stores_each_turn_once(
    down: TouchpointStore, make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """If the process dies after the commit but before the spool is emptied, the lines come back."""
    spool = tmp_path / "spool" / "touchpoints.jsonl"
    for minute in range(3):
        down.record_turn(turn(minute=minute))
    copy = tmp_path / "copy.jsonl"
    shutil.copy(spool, copy)

    up = make_store(database_url, tmp_path / "spool")
    up.record_turn(turn(minute=5))
    shutil.copy(copy, spool)
    up.record_turn(turn(minute=6))

    assert len(rows(database_url, Turn)) == 5
    assert spool_lines(tmp_path / "spool") == []


def test_a_damaged_line_is_set_aside_and_the_rest_flushed(
    down: TouchpointStore, make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    down.record_turn(turn(minute=0))
    with open(tmp_path / "spool" / "touchpoints.jsonl", "a", encoding="utf-8") as spool:
        spool.write('{"kind": "turn", "sender_key": "half a li\n')
    down.record_turn(turn(minute=1))

    make_store(database_url, tmp_path / "spool").record_turn(turn(minute=2))

    assert len(rows(database_url, Turn)) == 3
    rejected = (tmp_path / "spool" / "touchpoints.rejected.jsonl").read_text(encoding="utf-8")
    assert "half a li" in rejected


def test_last_nps_at_sees_a_spooled_answer(down: TouchpointStore) -> None:
    answered = T0 + timedelta(minutes=3)
    down.record_nps("visitor-1", T0, 9, None, "use", "web", None, answered)
    assert down.last_nps_at("visitor-1") == answered
    assert down.last_nps_at("visitor-2") is None


def test_maintenance_says_clearly_that_the_database_is_down(down: TouchpointStore) -> None:
    with pytest.raises(StoreUnavailable, match="unreachable"):
        down.purge(30)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        down.forget("visitor-1")
    with pytest.raises(StoreUnavailable, match="unreachable"):
        down.export("turns", "csv", io.StringIO())


def test_a_record_the_database_refuses_is_set_aside(
    down: TouchpointStore, make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """A hand-edited line that breaks a constraint must not block the records behind it."""
    down.record_turn(turn(minute=0))
    down.record_turn(turn(minute=1))
    spool = tmp_path / "spool" / "touchpoints.jsonl"
    first, second = spool.read_text(encoding="utf-8").splitlines()
    spool.write_text(first.replace('"answered"', '"bogus"') + "\n" + second + "\n", encoding="utf-8")

    make_store(database_url, tmp_path / "spool").record_turn(turn(minute=2))

    assert len(rows(database_url, Turn)) == 2
    assert '"bogus"' in (tmp_path / "spool" / "touchpoints.rejected.jsonl").read_text(encoding="utf-8")
    assert spool_lines(tmp_path / "spool") == []


def test_concurrent_workers_lose_nothing(
    make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """Threads on two stores write one session at once; locked or raced writes end up stored once."""
    stores = [make_store(), make_store()]

    def write(worker: int) -> None:
        for number in range(20):
            stores[worker % 2].record_turn(turn(minute=worker * 100 + number))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    stores[0].record_turn(turn(minute=999))  # flushes anything a locked database sent to the spool

    assert len(rows(database_url, Turn)) == 81
    assert len(rows(database_url, Touchpoint)) == 1
    assert spool_lines(tmp_path / "spool") == []
