"""The touchpoint store: touchpoints and turns in SQL, pseudonymised and masked, with a spool for outages."""

from __future__ import annotations

from bot.store.database import StoreUnavailable
from bot.store.records import TurnRecord
from bot.store.store import TouchpointStore

__all__ = ["StoreUnavailable", "TouchpointStore", "TurnRecord"]
