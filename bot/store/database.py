"""Engines and the schema upgrade: the store's tables come only from Alembic migrations, run in code.

No alembic.ini: the script location is this package, so `upgrade head` works from any directory.
Features developed side by side branch off one revision and a merge revision joins them (0005).
To write a new revision, pass a connection to the database at head:

    with make_engine(url).begin() as connection:
        command.revision(alembic_config(connection), message="...", autogenerate=True)
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import QueuePool

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Its own version table, so the store can share a database with other Alembic users (or Rasa).
VERSION_TABLE = "journey_alembic_version"
# Serialises concurrent upgrades on PostgreSQL (two workers starting at once).
_UPGRADE_LOCK_KEY = 727_001
_UPGRADE_THREAD_LOCK = threading.Lock()
# Errors that mean "the database cannot be reached right now", as opposed to a bad statement.
UNREACHABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
)


class StoreUnavailable(RuntimeError):
    """An operation that cannot be spooled (forget, purge, export) found its database unreachable."""


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """Write-ahead log with `synchronous=NORMAL`: a commit no longer waits for fsync (15 ms -> 0.01 ms
    per commit here, bench/RESULTS.md) and readers do not block the writer. A crash of the process
    loses nothing; a power cut may lose the last commits (production runs on PostgreSQL)."""
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_foreign_keys(dbapi_connection: object, record: object) -> None:
    sqlite_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """A 2.0-style engine that notices dead connections and never puts parameters (personal text) in errors."""
    parsed = make_url(url)
    pooling = sqlite_pooling(url)
    connect_args: dict[str, object] = dict(pooling.pop("connect_args", {}))
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = 5
    engine = create_engine(
        url, future=True, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args, **pooling
    )
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_foreign_keys)
    return engine


def sqlite_pooling(url: str) -> dict[str, Any]:
    """Engine options that keep a SQLite file's connections open (none for other databases).

    SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool), each running the pragmas
    again; a pool keeps them, used by one thread at a time, so not tied to the thread that opened them.
    """
    if sqlite_file(url) is None:
        return {}
    return {"poolclass": QueuePool, "connect_args": {"check_same_thread": False}}


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _sqlite_upgrade_lock(engine: Engine) -> Iterator[None]:
    """SQLite runs DDL outside transactions, so workers starting together take turns via a lock file."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is None:
        yield
        return
    with open(path.with_name(path.name + ".upgrade-lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Alembic's `context` and `op` are process-wide, so one upgrade runs at a time per process;
    across processes PostgreSQL's advisory lock or SQLite's lock file serialise them.
    """
    with _UPGRADE_THREAD_LOCK, _sqlite_upgrade_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK_KEY})
        command.upgrade(alembic_config(connection), "head")
