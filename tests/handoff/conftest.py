"""Each test gets its own SQLite touchpoint database (or a fresh PostgreSQL one) and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from actions import handoff as handoff_actions
from actions import runtime
from bot.settings import PROJECT_ROOT
from tests.databases import fresh_postgres_database

KEY = "handoff-test-key-" + "h" * 20
HANDOFF_VARIABLES = (
    "HANDOFF_KEY", "HANDOFF_WEBHOOK_URL", "HANDOFF_WEBHOOK_SECRET", "HANDOFF_TIMEOUT", "SMTP_HOST", "SMTP_PORT",
    "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_TO", "SMTP_STARTTLS",
)  # fmt: skip


@pytest.fixture(autouse=True)
def isolated_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'journey.db'}")
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'rasa_tracker.db'}")
    monkeypatch.setenv("PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("JOURNEYS_DIR", str(PROJECT_ROOT / "journeys"))
    for name in HANDOFF_VARIABLES:
        monkeypatch.setenv(name, "")
    runtime.reset()
    handoff_actions.reset()
    yield
    runtime.reset()
    handoff_actions.reset()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "handoff_test") as url:
        yield url
