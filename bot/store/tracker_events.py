"""Deleting from Rasa's conversation store, so forgetting a visitor or purging old data is complete.

Rasa's SQLTrackerStore keeps every event in one table, `events`, keyed by the raw `sender_id`,
with `timestamp` in seconds since the epoch. Only those two columns are touched here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import column, delete, inspect, table
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import TableClause

from bot.store.database import UNREACHABLE, StoreUnavailable, make_engine, safe_url, sqlite_file

EVENTS_TABLE = "events"


def _events() -> TableClause:
    # Rasa honours POSTGRESQL_SCHEMA for its tables; so must the deletes, or they would miss them.
    schema = os.environ.get("POSTGRESQL_SCHEMA") or None
    return table(EVENTS_TABLE, column("sender_id"), column("timestamp"), schema=schema)


@contextmanager
def _events_connection(url: str) -> Iterator[Connection | None]:
    """A transaction on the tracker database, or None when there is no events table (Rasa never ran)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        yield None
        return
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            events = _events()
            yield connection if inspect(connection).has_table(EVENTS_TABLE, schema=events.schema) else None
    except UNREACHABLE as error:
        raise StoreUnavailable(f"the conversation database {safe_url(url)} is unreachable") from error
    finally:
        engine.dispose()


def delete_sender_events(url: str, sender_id: str) -> int:
    """Remove every stored event of one conversation; the number of rows removed."""
    with _events_connection(url) as connection:
        if connection is None:
            return 0
        events = _events()
        return int(connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount)


def delete_events_before(url: str, cutoff: datetime) -> int:
    """Remove the events older than the cutoff; the number of rows removed."""
    with _events_connection(url) as connection:
        if connection is None:
            return 0
        events = _events()
        return int(connection.execute(delete(events).where(events.c.timestamp < cutoff.timestamp())).rowcount)
