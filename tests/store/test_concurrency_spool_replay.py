"""Refused records: `journey spool replay` tries them again, forget and purge clean them, and a
flush going on never makes another writer wait."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import TouchpointStore
from bot.store.models import Turn
from tests.store.helpers import KEY, T0, closed_port_url, rows, turn

NOW = datetime.now(timezone.utc)


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in {
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": database_url,
        "PSEUDONYM_KEY": KEY,
        "SPOOL_DIR": str(tmp_path / "spool"),
        "RETENTION_DAYS": "180",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path / "spool"


def rejected_lines(spool_dir: Path) -> list[str]:
    path = spool_dir / "touchpoints.rejected.jsonl"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def refuse(down: TouchpointStore, up: TouchpointStore, minutes: list[int], sender: str = "visitor-1") -> None:
    """Spool turns while down, damage their outcome by hand, then let the database refuse them."""
    for minute in minutes:
        down.record_turn(turn(sender, minute=minute, session=NOW - timedelta(hours=1)))
    spool = down.spool.path
    spool.write_text(spool.read_text(encoding="utf-8").replace('"answered"', '"bogus"'), encoding="utf-8")
    up.flush_spool()


def test_replay_stores_fixed_records_keeps_refused_ones_and_skips_a_damaged_line(
    env: Path,
    make_store: Callable[..., TouchpointStore],
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    down, up = make_store(closed_port_url(), env), make_store(database_url, env)
    refuse(down, up, [0, 1, 2])
    lines = rejected_lines(env)
    assert len(lines) == 3 and rows(database_url, Turn) == []
    # A person fixes two lines; the third stays wrong, and a damaged line sits in between.
    fixed = [
        lines[0].replace('"bogus"', '"answered"'),
        "{not json",
        lines[1].replace('"bogus"', '"fallback"'),
    ]
    (env / "touchpoints.rejected.jsonl").write_text("\n".join([*fixed, lines[2]]) + "\n", encoding="utf-8")

    with caplog.at_level(logging.ERROR):
        assert main(["spool", "replay"]) == 0
    out = capsys.readouterr().out
    assert (
        "Replayed 2 refused records" in out and "1 refused again" in out and "1 damaged lines skipped" in out
    )
    assert "line 2 is damaged" in caplog.text
    assert sorted(row["outcome"] for row in rows(database_url, Turn)) == ["answered", "fallback"]
    assert rejected_lines(env) == ["{not json", lines[2]]

    assert main(["spool", "replay"]) == 0, "replaying again stores nothing twice"
    assert len(rows(database_url, Turn)) == 2


def test_replay_with_the_database_down_says_so_and_keeps_the_file(
    env: Path,
    make_store: Callable[..., TouchpointStore],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    refuse(make_store(closed_port_url(), env), make_store(database_url, env), [0])
    before = rejected_lines(env)
    monkeypatch.setenv("DATABASE_URL", closed_port_url())
    assert main(["spool", "replay"]) == 1
    assert "unreachable" in capsys.readouterr().err
    assert rejected_lines(env) == before


def test_forget_and_purge_clean_the_rejected_file(
    env: Path, make_store: Callable[..., TouchpointStore], database_url: str
) -> None:
    down, up = make_store(closed_port_url(), env), make_store(database_url, env)
    refuse(down, up, [0, 1], sender="forget-me")
    refuse(down, up, [0], sender="keep-me")
    with open(env / "touchpoints.rejected.jsonl", "a", encoding="utf-8") as file:
        file.write("{damaged\n")
    assert len(rejected_lines(env)) == 4

    assert up.forget("forget-me")["spooled"] == 2
    assert len(rejected_lines(env)) == 2

    old = TouchpointStore(database_url, KEY, env, database_url)
    old.spool.reject(old.prepare_turn(turn("old-visitor", session=T0)))
    try:
        counts = up.purge(older_than_days=30)
    finally:
        old.close()
    assert counts["spooled"] == 2, "the old record and the undatable damaged line"
    assert len(rejected_lines(env)) == 1 and "forget-me" not in rejected_lines(env)[0]


def test_a_writer_does_not_wait_for_a_flush_in_progress(
    env: Path, make_store: Callable[..., TouchpointStore], database_url: str
) -> None:
    """While one flush holds the flush lock, another write is spooled at once and taken along."""
    down, up = make_store(closed_port_url(), env), make_store(database_url, env)
    down.record_turn(turn(minute=0))
    seen: list[int] = []

    def apply_slowly(record: object) -> None:
        if not seen:
            seen.append(1)
            up.record_turn(turn(minute=1))  # another writer during the flush: must not block
            waiting = up.spool.records()
            assert len(waiting) == 2, "its record waits in the spool, behind the one being flushed"
        up._apply_or_reject(record)  # type: ignore[arg-type]

    assert up.spool.flush(apply_slowly) == 2
    assert len(rows(database_url, Turn)) == 2
    assert not up.spool.pending()
