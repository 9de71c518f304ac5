"""The inbox table's operations: store once per provider id, claim in order, finish and erase.

Synchronous SQLAlchemy (the worker runs it in threads). Claiming is one conditional UPDATE, so two
workers or processes never take the same row; on PostgreSQL a transaction-scoped advisory lock per
conversation also keeps a conversation's messages strictly one after the other across processes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from bot.inbox.models import inbox_messages as table
from bot.inbox.sealing import Sealer, SealError
from bot.store.database import make_engine, safe_url, sqlite_file, upgrade

logger = logging.getLogger(__name__)

DEFAULT_KEEP_DAYS = 7
DEFAULT_LEASE_SECONDS = 120.0
MAX_PROVIDER_ID_CHARS = 128
_FINISHED = ("done", "failed", "stale")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Received:
    """A message as the channel received it; ``sent_at`` is the provider's timestamp, if it has one."""

    channel: str
    provider_id: str
    conversation_id: str
    payload: dict[str, Any]
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Stored:
    """A claimed message; ``attempts`` counts this one, so more than 1 means it was tried before."""

    id: int
    channel: str
    provider_id: str
    conversation_id: str
    sent_at: datetime
    attempts: int
    payload: dict[str, Any]


class InboxStore:
    """The ``inbox_messages`` table in the touchpoint database (SQLite or PostgreSQL).

    ``keep_days``: how long a handled message's id is remembered, so a redelivery within that
    time is recognised; a message sent longer ago than that is recorded as stale and not processed
    (its id may already have been forgotten). ``lease_seconds``: after that long a claimed message
    whose worker went silent (a crash) may be taken by another.
    """

    def __init__(
        self,
        database_url: str,
        secret: str,
        *,
        keep_days: int = DEFAULT_KEEP_DAYS,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Callable[[], datetime] = utcnow,
        channel: str | None = None,
    ) -> None:
        self.database_url = database_url
        # The channel whose rows this store works on: the WhatsApp and Twilio inboxes share the
        # table, and each must answer only its own messages (its output channel knows the way back).
        self._mine = table.c.channel == channel if channel is not None else true()
        self._engine = make_engine(database_url)
        self._sealer = Sealer(secret)
        self._keep = timedelta(days=keep_days)
        self._lease = timedelta(seconds=lease_seconds)
        self._clock = clock
        self._ready = False
        self._ready_lock = threading.Lock()

    def _connection(self) -> Connection:
        """A transaction on the upgraded schema (the first call creates the table if needed)."""
        if not self._ready:
            with self._ready_lock:
                if not self._ready:
                    path = sqlite_file(self.database_url)
                    if path is not None:
                        path.parent.mkdir(parents=True, exist_ok=True)
                    upgrade(self._engine)
                    logger.info("Inbox ready in %s.", safe_url(self.database_url))
                    self._ready = True
        return self._engine.begin()  # type: ignore[return-value]

    def _insert(self, dialect: str) -> Any:
        module = postgresql if dialect == "postgresql" else sqlite
        return module.insert(table).on_conflict_do_nothing(index_elements=["channel", "provider_id"])

    def add(self, messages: list[Received]) -> list[str]:
        """Store new messages in one transaction; per message "new", "duplicate" or "stale"."""
        now = self._clock()
        outcomes = []
        with self._connection() as connection:
            for message in messages:
                sent_at = message.sent_at or now
                stale = sent_at < now - self._keep
                row = {
                    "channel": message.channel,
                    "provider_id": message.provider_id[:MAX_PROVIDER_ID_CHARS],
                    "conversation_id": message.conversation_id,
                    "sent_at": sent_at,
                    "received_at": now,
                    "available_at": now,
                    "status": "stale" if stale else "pending",
                    "attempts": 0,
                    "finished_at": now if stale else None,
                    "payload": None if stale else self._sealer.seal(message.payload),
                }
                inserted = connection.execute(self._insert(connection.dialect.name).values(**row)).rowcount
                outcomes.append("duplicate" if not inserted else "stale" if stale else "new")
        return outcomes

    def backlog(self, conversation_id: str) -> int:
        """Messages of the conversation not handled yet."""
        query = select(func.count()).where(
            table.c.conversation_id == conversation_id, table.c.status.in_(("pending", "processing"))
        )
        with self._connection() as connection:
            return int(connection.execute(query).scalar_one())

    def _waiting(self, now: datetime) -> Any:
        """Rows to work on: pending ones, and claimed ones whose worker's lease ran out."""
        return or_(
            table.c.status == "pending",
            and_(table.c.status == "processing", table.c.claimed_at <= now - self._lease),
        )

    def claim(self, conversation_id: str) -> Stored | None:
        """Take the conversation's next message in the customer's order; None when none is due.

        None too while another worker holds one of its messages, or while the next one waits
        for a retry (later messages wait behind it: the order is kept).
        """
        now = self._clock()
        mine = and_(table.c.conversation_id == conversation_id, self._mine)
        with self._connection() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(727004, hashtext(:conversation))"),
                    {"conversation": conversation_id},
                )
            held = and_(table.c.status == "processing", table.c.claimed_at > now - self._lease)
            if connection.execute(select(table.c.id).where(mine, held).limit(1)).first() is not None:
                return None
            row = connection.execute(
                select(table).where(mine, self._waiting(now)).order_by(table.c.sent_at, table.c.id).limit(1)
            ).first()
            if row is None or row.available_at > now:
                return None
            claimed = connection.execute(
                update(table)
                .where(table.c.id == row.id, self._waiting(now))
                .values(status="processing", claimed_at=now, attempts=table.c.attempts + 1)
            ).rowcount
        return self._stored(row) if claimed else None

    def _stored(self, row: Row) -> Stored | None:
        try:
            payload = self._sealer.open(row.payload or "")
        except SealError as problem:
            logger.error(
                "Inbox message %d of %s cannot be read (%s); marked failed.", row.id, row.channel, problem
            )
            self.finish(row.id, "failed")
            return None
        return Stored(
            row.id, row.channel, row.provider_id, row.conversation_id, row.sent_at, row.attempts + 1, payload
        )

    def finish(self, message_id: int, status: str = "done") -> None:
        """Mark a message handled (or failed) and erase its content; its id stays for de-duplication."""
        values = {"status": status, "finished_at": self._clock(), "payload": None, "claimed_at": None}
        with self._connection() as connection:
            connection.execute(update(table).where(table.c.id == message_id).values(**values))

    def release(self, message_id: int, delay_seconds: float = 0.0) -> None:
        """Give a claimed message back, to be taken again after ``delay_seconds``."""
        values = {
            "status": "pending",
            "claimed_at": None,
            "available_at": self._clock() + timedelta(seconds=delay_seconds),
        }
        with self._connection() as connection:
            connection.execute(
                update(table).where(table.c.id == message_id, table.c.status == "processing").values(**values)
            )

    def waiting_conversations(self, limit: int = 1000) -> list[str]:
        """Conversations with messages to work on (after a restart: what a crash left behind)."""
        query = (
            select(table.c.conversation_id)
            .where(self._waiting(self._clock()), self._mine)
            .distinct()
            .limit(limit)
        )
        with self._connection() as connection:
            return [str(conversation) for conversation in connection.execute(query).scalars()]

    def purge(self) -> int:
        """Forget handled messages older than ``keep_days``; pending ones are never removed."""
        cutoff = self._clock() - self._keep
        query = delete(table).where(table.c.status.in_(_FINISHED), table.c.received_at < cutoff)
        with self._connection() as connection:
            return int(connection.execute(query).rowcount)

    def counts(self) -> dict[str, int]:
        """Messages per status, for logs and checks."""
        query = select(table.c.status, func.count()).group_by(table.c.status)
        with self._connection() as connection:
            return {str(status): int(count) for status, count in connection.execute(query)}

    def close(self) -> None:
        self._engine.dispose()
