"""The touchpoint store: one conversation session per touchpoint, one row per user message.

Writes never fail a conversation: while the database is unreachable records wait in the spool,
and the next successful write flushes them first. After a failed or too slow write the store
counts as down for `retry_seconds`: writes go straight to the spool instead of waiting for the
database again. Reads and maintenance say clearly when the database is down instead.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from alembic.util import CommandError
from sqlalchemy import column, delete, func, select, table, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.handoff import store as handoff_tables
from bot.privacy import pseudonymise
from bot.settings import PLACEHOLDER, PROJECT_ROOT, SettingsError, sqlite_url
from bot.store import tracker_events
from bot.store.apply import apply_nps, apply_turn
from bot.store.database import UNREACHABLE, StoreUnavailable, make_engine, safe_url, sqlite_file, upgrade
from bot.store.export import export_table
from bot.store.models import TURN_OUTCOMES, Touchpoint, Turn
from bot.store.records import StoredNps, StoredRecord, StoredTurn, TurnRecord
from bot.store.spool import Replayed, Spool

logger = logging.getLogger(__name__)
# bot.inbox's table (migration 0004), named here only by the column forget needs: bot.inbox imports
# this package, so importing its models here would be circular.
_INBOX = table("inbox_messages", column("conversation_id"))

DEFAULT_RETENTION_DAYS = 180
# How long the store counts as down after a write failed or took too long.
DEFAULT_RETRY_SECONDS = 2.0
# Record ids derived from Rasa's message id: a turn recorded twice (an action retried after the
# action server died mid-call, a late write racing its spooled copy) is stored once.
# A record the database (or the touchpoint rules, for a hand-edited value) refuses for good.
_REFUSED = (SQLAlchemyError, KeyError, ValueError, TypeError)
_RECORD_IDS = uuid.UUID("5b0f1d9e-8c1e-4f38-9a57-2f1f3d6c0a11")


def _required_key() -> str:
    key = os.environ.get("PSEUDONYM_KEY", "")
    if not key or key == PLACEHOLDER:
        raise SettingsError(
            "PSEUDONYM_KEY is not set: run `make run` once to generate .env, or set it in .env"
        )
    if len(key) < 16:
        raise SettingsError(f"PSEUDONYM_KEY is too short ({len(key)} characters): use at least 16")
    return key


def _retention_days() -> int:
    raw = os.environ.get("RETENTION_DAYS") or str(DEFAULT_RETENTION_DAYS)
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"RETENTION_DAYS must be a whole number of days (1 or more), got {raw!r}")
    return int(raw)


class TouchpointStore:
    """The API the actions and the CLI use; the only code that writes the touchpoint tables."""

    def __init__(
        self,
        database_url: str,
        pseudonym_key: str,
        spool_dir: Path,
        tracker_store_url: str,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        path = sqlite_file(database_url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.tracker_store_url = tracker_store_url
        self.retention_days = retention_days
        self.spool = Spool(spool_dir)
        self._key = pseudonym_key
        self._engine = make_engine(database_url)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._retry_seconds = retry_seconds
        self._down_until = 0.0
        self.closed = False

    @classmethod
    def from_env(cls) -> TouchpointStore:
        """Configure from the environment and upgrade the schema now if the database is reachable."""
        store = cls(
            database_url=os.environ.get("DATABASE_URL") or sqlite_url("journey.db"),
            pseudonym_key=_required_key(),
            spool_dir=Path(os.environ.get("SPOOL_DIR") or PROJECT_ROOT / "var" / "spool"),
            tracker_store_url=os.environ.get("TRACKER_STORE_URL") or sqlite_url("rasa_tracker.db"),
            retention_days=_retention_days(),
        )
        try:
            store._ensure_schema()
        except UNREACHABLE as error:
            logger.warning(
                "touchpoint database %s unreachable at start (%s); records are spooled until it is back",
                safe_url(store.database_url),
                type(error).__name__,
            )
        return store

    def _ensure_schema(self) -> None:
        with self._schema_lock:
            if not self._schema_ready:
                upgrade(self._engine)
                self._schema_ready = True

    def _session(self) -> Session:
        return Session(self._engine, future=True)

    # Writes: spooled when the database is unreachable.

    def record_turn(self, record: TurnRecord) -> None:
        """Append the turn to its touchpoint (created on the session's first message)."""
        self.write(self.prepare_turn(record))

    def prepare_turn(self, record: TurnRecord, message_id: str | None = None) -> StoredTurn:
        """The turn as stored; with Rasa's message id its record id is fixed, so a retry is stored once."""
        if record.outcome not in TURN_OUTCOMES:
            raise ValueError(f"unknown turn outcome {record.outcome!r}: one of {', '.join(TURN_OUTCOMES)}")
        prepared = StoredTurn.prepare(record, self._key)
        if message_id:
            name = f"{prepared.kind}:{prepared.sender_key}:{message_id}"
            prepared = replace(prepared, record_id=str(uuid.uuid5(_RECORD_IDS, name)))
        return prepared

    def record_nps(
        self,
        sender_id: str,
        session_started_at: datetime,
        score: int,
        reason: str | None,
        phase: str | None,
        channel: str,
        persona: str | None,
        at: datetime,
    ) -> None:
        """Store the visitor's NPS answer on the touchpoint of that session."""
        self.write(
            self.prepare_nps(sender_id, session_started_at, score, reason, phase, channel, persona, at)
        )

    def prepare_nps(
        self,
        sender_id: str,
        session_started_at: datetime,
        score: int,
        reason: str | None,
        phase: str | None,
        channel: str,
        persona: str | None,
        at: datetime,
    ) -> StoredNps:
        return StoredNps.prepare(
            self._key, sender_id, session_started_at, score, reason, phase, channel, persona, at
        )

    def is_down(self) -> bool:
        """True shortly after a write failed or was too slow: writes then go straight to the spool."""
        return time.monotonic() < self._down_until

    def mark_down(self) -> None:
        """Send writes to the spool for `retry_seconds` (the database failed or was too slow)."""
        self._down_until = time.monotonic() + self._retry_seconds

    def spool_now(self, record: StoredRecord) -> None:
        """Keep a record whose write took too long (it may still land: stored once either way)."""
        self.mark_down()
        logger.warning("touchpoint database too slow: %s %s spooled", record.kind, record.record_id)
        self.spool.append(record)

    def write(self, record: StoredRecord) -> None:
        """Store a prepared record, flushing the spool first; spooled when the database is unavailable."""
        if self.is_down():
            self.spool.append(record)
            return
        try:
            self._ensure_schema()
            flushed = self.spool.flush(self._apply_or_reject)
            if flushed is None:
                # Another thread or worker is flushing: queue behind it, so this session stays in order.
                self.spool.append(record)
                return
            if flushed:
                logger.info("touchpoint database back: %d spooled records flushed", flushed)
            self._apply_or_reject(record)
        except (SQLAlchemyError, CommandError) as error:
            # Unreachable, or the schema cannot be brought to head: keep the record for the next write.
            # Only the record id is logged: the spool holds the data, the log must not.
            unreachable = isinstance(error, UNREACHABLE)
            if unreachable and not self._is_sqlite():
                self.mark_down()
            (logger.warning if unreachable else logger.error)(
                "touchpoint database unavailable (%s): %s %s spooled",
                type(error).__name__,
                record.kind,
                record.record_id,
            )
            self.spool.append(record)

    def flush_spool(self) -> int:
        """Write waiting records now (a background thread calls this, so none waits for the next message)."""
        if self.is_down() or not self.spool.pending():
            return 0
        try:
            self._ensure_schema()
            flushed = self.spool.flush(self._apply_or_reject) or 0
        except (SQLAlchemyError, CommandError) as error:
            self.mark_down()
            logger.warning("touchpoint database still unavailable (%s): spool kept", type(error).__name__)
            return 0
        if flushed:
            logger.info("touchpoint database back: %d spooled records flushed", flushed)
        return flushed

    def _is_sqlite(self) -> bool:
        return self._engine.dialect.name == "sqlite"

    def _apply_or_reject(self, record: StoredRecord) -> None:
        try:
            self._apply(record)
        except UNREACHABLE:
            raise
        except _REFUSED:
            self._reject(record)

    def _reject(self, record: StoredRecord) -> None:
        logger.exception(
            "the database refused %s %s; kept in %s", record.kind, record.record_id, self.spool.rejected_path
        )
        self.spool.reject(record)

    def _apply(self, record: StoredRecord) -> None:
        """One record in one transaction; a second try covers two workers creating the same touchpoint."""
        for attempt in (1, 2):
            try:
                with self._session() as session, session.begin():
                    if self._is_sqlite():
                        # Take SQLite's write lock before reading the touchpoint, so two writers
                        # cannot both read the old phases and outcome (the busy timeout waits).
                        session.execute(text("BEGIN IMMEDIATE"))
                    if isinstance(record, StoredTurn):
                        apply_turn(session, record)
                    else:
                        apply_nps(session, record)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    # Reads and maintenance: need the database.

    def last_nps_at(self, sender_id: str) -> datetime | None:
        """When this visitor last answered NPS (also while that answer waits in the spool)."""
        key = pseudonymise(sender_id, self._key)
        stored = None
        try:
            if self.is_down():
                raise StoreUnavailable("the touchpoint database was unavailable a moment ago")
            self._ensure_schema()
            with self._session() as session:
                stored = session.scalar(
                    select(func.max(Touchpoint.nps_at)).where(Touchpoint.sender_key == key)
                )
        except (*UNREACHABLE, StoreUnavailable) as error:
            logger.warning(
                "touchpoint database unreachable (%s): last NPS answer unknown", type(error).__name__
            )
        spooled = [r.at for r in self.spool.records() if isinstance(r, StoredNps) and r.sender_key == key]
        return max([moment for moment in (stored, *spooled) if moment is not None], default=None)

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn "database unreachable" into StoreUnavailable, for operations that cannot wait in the spool."""
        try:
            self._ensure_schema()
            yield
        except UNREACHABLE as error:
            url = safe_url(self.database_url)
            raise StoreUnavailable(f"the touchpoint database {url} is unreachable") from error

    def _delete_touchpoints(self, session: Session, *criteria: object) -> dict[str, int]:
        chosen = select(Touchpoint.id).where(*criteria)
        turns = session.execute(
            delete(Turn).where(Turn.touchpoint_id.in_(chosen)).execution_options(synchronize_session=False)
        )
        touchpoints = session.execute(
            delete(Touchpoint).where(*criteria).execution_options(synchronize_session=False)
        )
        return {"touchpoints": int(touchpoints.rowcount), "turns": int(turns.rowcount)}

    def forget(self, sender_id: str) -> dict[str, int]:
        """Erase one visitor: touchpoints, turns, inbox, spooled records and Rasa's conversation events."""
        key = pseudonymise(sender_id, self._key)
        with self._reachable(), self._session() as session, session.begin():
            counts = self._delete_touchpoints(session, Touchpoint.sender_key == key)
            handoff_tables.forget_sender(session, key)  # callback requests and their contact data
            # WhatsApp/SMS messages received but not yet answered still hold their (sealed) text.
            inbox = delete(_INBOX).where(_INBOX.c.conversation_id == sender_id)
            counts["inbox"] = int(session.execute(inbox).rowcount)
        counts["spooled"] = self.spool.discard(lambda record: record.sender_key == key)
        counts["events"] = tracker_events.delete_sender_events(self.tracker_store_url, sender_id)
        return counts

    def purge(self, older_than_days: int | None = None) -> dict[str, int]:
        """Remove touchpoints that ended, and Rasa events stored, more than the retention period ago."""
        days = self.retention_days if older_than_days is None else older_than_days
        if days < 1:
            raise ValueError(f"the retention period is at least 1 day, got {days}")
        cutoff = datetime.now(timezone.utc) - timedelta(days=days)
        with self._reachable(), self._session() as session, session.begin():
            counts = self._delete_touchpoints(session, Touchpoint.ended_at < cutoff)
            handoff_tables.purge_before(session, cutoff)
        counts["spooled"] = self.spool.purge(cutoff)
        counts["events"] = tracker_events.delete_events_before(self.tracker_store_url, cutoff)
        return counts

    def replay_rejected(self) -> Replayed:
        """Try the records the database refused again (after a fix); refused ones stay in the file."""

        def store_one(record: StoredRecord) -> bool:
            try:
                self._apply(record)
            except UNREACHABLE:
                raise
            except _REFUSED as error:
                logger.error(
                    "replay: the database refused %s %s again (%s)",
                    record.kind,
                    record.record_id,
                    type(error).__name__,
                )
                return False
            return True

        with self._reachable():
            return self.spool.replay(store_one)

    def export(self, table: str, fmt: str, out: TextIO) -> int:
        """Write a table as CSV or JSON; the number of rows."""
        with self._reachable():
            return export_table(self._engine, table, fmt, out)

    def close(self) -> None:
        self.closed = True
        self._engine.dispose()
