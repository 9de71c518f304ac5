"""Rasa's stores: the SQL tracker store from one URL with personal data masked, and the lock store.

Rasa's own SQLTrackerStore takes dialect/host/port/db separately; deployments hand out a
single URL (TRACKER_STORE_URL), and the default is a SQLite file under var/. What it writes is
masked like the touchpoint store (bot.privacy.mask): see MaskingSQLTrackerStore.
The lock store (JourneyLockStore) is Redis when REDIS_URL is set, so several Rasa processes
take turns on one conversation, and in memory otherwise (one Rasa process needs no more).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from redis.exceptions import RedisError
from sqlalchemy import bindparam, create_engine, func, insert, select
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.privacy import mask
from bot.settings import PROJECT_ROOT, sqlite_url, tracker_cache_events
from bot.store.database import sqlite_pooling, sqlite_pragmas

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


@dataclass(frozen=True)
class _Read:
    """A conversation's latest session as read before: its events, and which rows they came from."""

    last_id: int  # the highest event row id read
    rows_up_to_last: int  # the sender's rows (every session) with an id up to last_id
    session_rows: int  # the rows of the latest session (each an event, unless one was unreadable)
    events: tuple[Event, ...]

    @property
    def session_start(self) -> float | None:
        """Rasa reads a session from its SessionStarted's timestamp on (events are timestamped)."""
        return next((e.timestamp for e in self.events if isinstance(e, SessionStarted)), None)


class ReadEvents:
    """The latest session's events per conversation, deserialised, the least recently used dropped first.

    Bounded by the number of events held (TRACKER_CACHE_EVENTS), not conversations: a long chat
    costs what it holds.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._reads: OrderedDict[str, _Read] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    def take(self, sender_id: str) -> _Read | None:
        with self._lock:
            read = self._reads.pop(sender_id, None)
            if read is not None:
                self._held -= len(read.events)
            return read

    def peek(self, sender_id: str) -> _Read | None:
        with self._lock:
            return self._reads.get(sender_id)

    def keep(self, sender_id: str, read: _Read) -> None:
        if len(read.events) > self.limit:
            return
        with self._lock:
            old = self._reads.pop(sender_id, None)
            self._held += len(read.events) - (len(old.events) if old else 0)
            self._reads[sender_id] = read
            while self._held > self.limit:
                _, dropped = self._reads.popitem(last=False)
                self._held -= len(dropped.events)

    @property
    def held(self) -> int:
        return self._held


# The two reads of every message, built once (Core, bound parameters): the ORM query machinery cost
# more than the queries themselves.
_EVENTS = SQLTrackerStore.SQLEvent.__table__
_ROWS_UP_TO = (
    select(func.count())
    .select_from(_EVENTS)
    .where(_EVENTS.c.sender_id == bindparam("sender"), _EVENTS.c.id <= bindparam("last"))
)
_ROWS_AFTER = (
    select(_EVENTS.c.id, _EVENTS.c.type_name, _EVENTS.c.timestamp, _EVENTS.c.data)
    .where(_EVENTS.c.sender_id == bindparam("sender"), _EVENTS.c.id > bindparam("last"))
    .order_by(_EVENTS.c.id)
)


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

    Reading, it reads only what is new: Rasa's own store reads and deserialises every event of the
    session for every message (41 ms for message 100 of a chat here, 13 events a message;
    bench/RESULTS.md), so each Rasa process keeps the events it read (`ReadEvents`) and asks the
    database only for rows after the last one it read, plus a count of the rows before. The
    count catches anything that changed them: a conversation erased (`journey forget`), purged,
    or written by another process. Then, and when a new session starts, the session is read in
    full, as Rasa does. Rows only ever get higher ids, and the lock store lets one process at a
    time work on a conversation, so what is kept plus what is new is what Rasa would read.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.read_events = ReadEvents(tracker_cache_events())
        url = self.engine.url.render_as_string(hide_password=False)
        if pooling := sqlite_pooling(url):  # kept SQLite connections: 1-2 ms a message less
            self.engine.dispose()
            self.engine = create_engine(url, **pooling)
            sqlalchemy_event.listen(self.engine, "connect", sqlite_pragmas)
            self.sessionmaker = sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """As Rasa's save (new events only, masked), in one multi-row insert instead of one per event."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append(
                    {
                        "sender_id": tracker.sender_id,
                        "type_name": event.type_name,
                        "timestamp": data.get("timestamp"),
                        "intent_name": ((data.get("parse_data") or {}).get("intent") or {}).get(
                            INTENT_NAME_KEY
                        ),
                        "action_name": data.get("name"),
                        "data": json.dumps(data),
                    }
                )
            if rows:
                session.execute(insert(self.SQLEvent.__table__), rows)
            session.commit()

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Any]:
        stored = self._stored_from_read(tracker)
        if stored is None:
            events: Iterator[Any] = super()._additional_events(session, tracker)
        else:
            events = itertools.islice(tracker.events, stored, None)
        for event in events:
            yield MaskedEvent(type_name=event.type_name, data=mask_event_data(event.as_dict()))

    def _stored_from_read(self, tracker: DialogueStateTracker) -> int | None:
        """How many of the tracker's events the database holds, when the tracker was built from our read.

        Then its first events are the very objects read (and the conversation's lock has been held
        since); otherwise None, and Rasa counts the session's rows in the database.
        """
        read = self.read_events.peek(tracker.sender_id)
        if read is None or not read.events or read.session_rows != len(read.events):
            return None
        held = len(read.events)
        if len(tracker.events) < held or tracker.events[held - 1] is not read.events[-1]:
            return None
        return held

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's tracker, as Rasa's store gives it, reading only rows not read before."""
        with self.session_scope() as session:
            events = self._latest_session(session, sender_id)
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_events(sender_id, list(events), self.domain.slots)

    def _rows_up_to(self, session: Session, sender_id: str, last_id: int) -> int:
        return int(session.execute(_ROWS_UP_TO, {"sender": sender_id, "last": last_id}).scalar_one())

    def _latest_session(self, session: Session, sender_id: str) -> tuple[Event, ...]:
        read = self.read_events.take(sender_id)
        if read is not None and self._rows_up_to(session, sender_id, read.last_id) == read.rows_up_to_last:
            rows = session.execute(_ROWS_AFTER, {"sender": sender_id, "last": read.last_id}).all()
            start = read.session_start
            if all(
                row.type_name != SessionStarted.type_name and (start is None or row.timestamp >= start)
                for row in rows
            ):
                new = deserialise_events([json.loads(row.data) for row in rows])
                read = _Read(
                    rows[-1].id if rows else read.last_id,
                    read.rows_up_to_last + len(rows),
                    read.session_rows + len(rows),
                    (*read.events, *new),
                )
                self.read_events.keep(sender_id, read)
                return read.events
        rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).all()
        if not rows:
            return ()
        last_id = rows[-1].id
        events = tuple(deserialise_events([json.loads(row.data) for row in rows]))
        stored = self._rows_up_to(session, sender_id, last_id)
        self.read_events.keep(sender_id, _Read(last_id, stored, len(rows), events))
        return events


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
