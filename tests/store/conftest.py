"""Store fixtures: every test runs against a real SQLite file and a fresh real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.store import TouchpointStore
from tests.databases import fresh_postgres_database
from tests.store.helpers import KEY


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A SQLite file, or a PostgreSQL database `journey_test_<random>` created and dropped around the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journey.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "journey_test") as url:
        yield url


@pytest.fixture
def make_store(database_url: str, tmp_path: Path) -> Iterator[Callable[..., TouchpointStore]]:
    """Stores on the test database (Rasa's events live in the same database, as a deployment may do)."""
    stores: list[TouchpointStore] = []

    def make(url: str = database_url, spool_dir: Path = tmp_path / "spool") -> TouchpointStore:
        store = TouchpointStore(url, KEY, spool_dir, tracker_store_url=database_url)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., TouchpointStore]) -> TouchpointStore:
    return make_store()
