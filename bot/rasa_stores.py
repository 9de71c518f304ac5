"""Rasa's stores: the SQL tracker store from one URL with personal data masked, and the lock store.

Rasa's own SQLTrackerStore takes dialect/host/port/db separately; deployments hand out a
single URL (TRACKER_STORE_URL), and the default is a SQLite file under var/. What it writes is
masked like the touchpoint store (bot.privacy.mask): see MaskingSQLTrackerStore.
The lock store (JourneyLockStore) is Redis when REDIS_URL is set, so several Rasa processes
take turns on one conversation, and in memory otherwise (one Rasa process needs no more).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from redis.exceptions import RedisError
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import make_url

from bot.privacy import mask
from bot.settings import PROJECT_ROOT, sqlite_url
from bot.store.database import sqlite_pragmas

if TYPE_CHECKING:
    from rasa.utils.endpoints import EndpointConfig
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)
# Redis answers on loopback or a LAN in milliseconds; a silent one must not hold a conversation long.
REDIS_TIMEOUT_SECONDS = 2.0
# How long one change of a ticket queue may hold (or wait for) its conversation's mutex.
MUTEX_SECONDS = 5.0
# After Redis failed, locks stay in memory this long before Redis is tried again.
REDIS_RETRY_SECONDS = 10.0

# Values that name things (events, actions, intents, slots, entity types, policies) or identify
# them; everything else that is a string, at any depth, is masked.
IDENTIFIER_KEYS = frozenset(
    {"event", "name", "timestamp", "message_id", "input_channel", "policy", "entity", "extractor"}
)


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
        if url.drivername.startswith("sqlite"):
            sqlalchemy_event.listen(self.engine, "connect", sqlite_pragmas)


def mask_event_data(value: Any, key: str | None = None) -> Any:
    """A copy of an event's dict with every free-text string masked (user text, parse_data, slot values...)."""
    if isinstance(value, str):
        return value if key in IDENTIFIER_KEYS else mask(value)
    if isinstance(value, dict):
        return {item_key: mask_event_data(item, item_key) for item_key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_event_data(item, key) for item in value]
    return value


@dataclass(frozen=True)
class MaskedEvent:
    """What SQLTrackerStore.save reads from an event (type_name, as_dict), masked; never seen by policies."""

    type_name: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.data


class MaskingSQLTrackerStore(UrlSQLTrackerStore):
    """Writes each new event with e-mail addresses, phone numbers, IBANs and postcodes masked.

    How Rasa 3.6 uses the store: for every message the processor takes the conversation's lock,
    loads the tracker from this store (`retrieve`), appends the user message, runs the policies
    and actions on that in-memory tracker and finally calls `save`, which inserts only the events
    the database does not hold yet (`_additional_events`). Masking happens there, on copies, so

    - the current turn runs on clear text: NLU, policies and the action server (which gets the
      in-memory tracker) see exactly what the customer wrote in this message;
    - what is persisted, and so every later turn, the tracker API and exports, sees the masked
      text. Earlier turns come back masked: an earlier e-mail address or phone number cannot be
      used again in a later turn. That is the trade-off, chosen on purpose (data minimisation):
      the journey logic needs intents, entity types, phases and slots, never the raw contact
      details, and policies featurize intents, entity types and slot types or categories, which
      masking leaves alone (IDENTIFIER_KEYS are never masked). A feature that needs a contact
      detail later must take it in the same turn and store it elsewhere on purpose.

    Masking on save rather than on the event objects keeps the in-memory tracker untouched;
    masking on retrieve instead would leave clear text at rest. An event broker, if one is ever
    configured, still streams the clear events (Rasa streams before saving): configure none, or
    mask there too.
    """

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Any]:
        for event in super()._additional_events(session, tracker):
            yield MaskedEvent(type_name=event.type_name, data=mask_event_data(event.as_dict()))


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's RedisLockStore, with each change of a conversation's ticket queue made under a Redis mutex.

    Rasa reads the queue, changes it and writes it back: two Rasa servers taking a ticket for the
    same conversation at the same moment both read an empty queue, both got ticket 0 and both
    processed at once, so one message's events were lost from the tracker (seen in
    tests/e2e/test_scale_out.py under load). The mutex (redis-py's Lock: SET NX with a token) makes
    issuing, finishing and expiring tickets one at a time per conversation.
    """

    def _mutex(self, conversation_id: str) -> Any:
        return self.red.lock(
            f"{self.key_prefix}mutex:{conversation_id}", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)


def redis_lock_store(url: str, timeout: float = REDIS_TIMEOUT_SECONDS) -> RedisLockStore:
    """Rasa's RedisLockStore (made atomic) on the server of `url` (redis:// or rediss://), with short timeouts."""
    import redis

    store = AtomicRedisLockStore(key_prefix="journey")
    store.red = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    return store


class JourneyLockStore(LockStore):
    """Redis ticket locks when REDIS_URL is set, in-memory ones otherwise; Redis down degrades, never stops.

    Rasa takes a conversation's lock for every message, so two processes never work on one
    conversation at once. In memory that holds within one process only: without REDIS_URL
    more than one Sanic worker is refused here (as Rasa does for its own in-memory store).
    When Redis fails, the message is served under an in-memory lock (ordered within this
    process) with a logged warning, and Redis is tried again after REDIS_RETRY_SECONDS:
    answering matters more than cross-process ordering during an outage.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, redis_url: str | None = None) -> None:
        url = redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")
        self.memory = InMemoryLockStore()
        self.redis = redis_lock_store(url) if url else None
        workers = os.environ.get("SANIC_WORKERS", "1")
        if self.redis is None and workers.isdigit() and int(workers) > 1:
            raise ValueError(
                f"SANIC_WORKERS={workers} needs REDIS_URL: in-memory conversation locks hold within one process"
            )
        self._redis_down_until = 0.0
        super().__init__()

    def _backend(self) -> LockStore:
        if self.redis is None or time.monotonic() < self._redis_down_until:
            return self.memory
        return self.redis

    def _degrade(self, error: Exception) -> None:
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        logger.warning(
            "Redis lock store unavailable (%s): conversation locks in memory for %.0fs (degraded: "
            "ordered within this Rasa process only)",
            type(error).__name__,
            REDIS_RETRY_SECONDS,
        )

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self._backend().get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self._backend().delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self._backend().save_lock(lock)

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """The whole ticket's life on one backend: a lock taken in Redis is released in Redis."""
        backend = self._backend()
        if backend is self.redis:
            try:
                ticket = backend.issue_ticket(conversation_id, lock_lifetime)
                lock = await backend._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            except (LockError, RedisError) as error:
                if isinstance(error, LockError) and not isinstance(
                    error.__cause__ or error.__context__, RedisError
                ):
                    raise
                self._degrade(error)
            else:
                try:
                    yield lock
                finally:
                    try:
                        backend.cleanup(conversation_id, ticket)
                    except RedisError as error:
                        self._degrade(error)  # the ticket expires by itself after its lifetime
                return
        async with self.memory.lock(conversation_id, lock_lifetime, wait_time_in_seconds) as lock:
            yield lock
