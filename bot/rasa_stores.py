"""Rasa's SQL tracker store configured from one database URL, so conversations survive a restart.

Rasa's own SQLTrackerStore takes dialect/host/port/db separately; deployments hand out a
single URL (TRACKER_STORE_URL), and the default is a SQLite file under var/.
"""

from __future__ import annotations

import os
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from sqlalchemy.engine import make_url

from bot.settings import PROJECT_ROOT, sqlite_url


def tracker_store_url() -> str:
    return os.environ.get("TRACKER_STORE_URL") or sqlite_url("rasa_tracker.db")


class UrlSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose connection comes from TRACKER_STORE_URL (default: var/rasa_tracker.db)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        url = make_url(tracker_store_url())
        if url.drivername.startswith("sqlite"):
            (PROJECT_ROOT / "var").mkdir(exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "rasa.db",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
        )
