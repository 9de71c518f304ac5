"""The schema comes from the Alembic migrations, in code, from any working directory."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.store import TouchpointStore
from bot.store.database import MIGRATIONS_DIR, VERSION_TABLE, make_engine, upgrade
from bot.store.models import Base, is_store_object
from tests.store.helpers import KEY, save_rasa_conversation, turn

# One head: feature branches must be merged (get_current_head raises when there are several).
HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def test_an_empty_database_is_migrated_to_head(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"touchpoints", "turns", VERSION_TABLE} <= tables
    assert revision(database_url) == HEAD


def test_the_models_match_the_migrations(database_url: str) -> None:
    """A model change without a migration would show up here; Rasa's tables alongside are ignored."""
    save_rasa_conversation(database_url, "visitor-1", ["hallo"])
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            opts = {"compare_type": True, "version_table": VERSION_TABLE, "include_name": is_store_object}
            context = MigrationContext.configure(connection, opts=opts)
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_upgrading_again_keeps_the_data(
    make_store: Callable[..., TouchpointStore], database_url: str
) -> None:
    first = make_store()
    first.record_turn(turn())
    first.close()
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        upgrade(engine)
    finally:
        engine.dispose()
    second = make_store()
    second.record_turn(turn(minute=1))
    assert second.export("turns", "json", io.StringIO()) == 2
    assert revision(database_url) == HEAD


def test_from_env_upgrades_at_start_from_any_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("TRACKER_STORE_URL", database_url)
    store = TouchpointStore.from_env()
    try:
        assert revision(database_url) == HEAD
    finally:
        store.close()
