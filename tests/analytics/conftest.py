"""Analytics fixtures: the store's real SQLite file and real PostgreSQL database (tests/store)."""

from __future__ import annotations

from tests.store.conftest import database_url, make_store, store  # noqa: F401 (fixtures)
