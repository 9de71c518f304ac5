"""What every action shares, created once per action-server process: the content and the store.

Created lazily, so importing the actions (rasa_sdk scans the package) needs no settings or database.
The store's blocking calls run in a small thread pool of their own, never on the action server's
event loop, and are waited for at most STORE_TIMEOUT_SECONDS: a database that does not answer
costs one visitor that long once, after which records go straight to the spool (durable on
disk, written once the database is back) and every other visitor is answered meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import cache
from typing import TypeVar

from rasa_sdk import Tracker

from bot.channels import channel_of
from bot.content import ContentRepository
from bot.settings import load_env
from bot.store import TouchpointStore, TurnRecord
from bot.store.records import StoredRecord

logger = logging.getLogger(__name__)

# Long enough for a healthy write with a spool flush, short enough that a visitor barely notices.
STORE_TIMEOUT_SECONDS = 2.0
# A hanging database can hold at most these threads; the event loop and other pools stay free.
_STORE_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="touchpoint-store")
# How often a background thread writes what waits in the spool once the database is back.
FLUSH_EVERY_SECONDS = 3.0
T = TypeVar("T")


@cache
def _environment() -> None:
    # The dev server passes .env on; an action server started by hand reads it here.
    load_env()


@cache
def content() -> ContentRepository:
    _environment()
    return ContentRepository.from_env(background=True)  # no visitor waits for a reload


def _keep_flushing(current: TouchpointStore) -> None:
    while not current.closed:
        try:
            current.flush_spool()
        except Exception:  # a bug here must not end the thread; the next write flushes too
            logger.exception("spool flush failed")
        time.sleep(FLUSH_EVERY_SECONDS)


@cache
def store() -> TouchpointStore:
    _environment()
    current = TouchpointStore.from_env()
    threading.Thread(target=_keep_flushing, args=(current,), name="spool-flusher", daemon=True).start()
    return current


def reset() -> None:
    """Drop the process-wide content and store, so the next call reads the settings again (tests)."""
    if store.cache_info().currsize:
        store().close()
    store.cache_clear()
    content.cache_clear()


async def _store() -> TouchpointStore:
    """The store; its first use (connect and migrate, bounded by the connect timeout) off the loop."""
    if store.cache_info().currsize:
        return store()
    return await asyncio.get_running_loop().run_in_executor(_STORE_THREADS, store)


async def _off_loop(function: Callable[..., T], *args: object) -> T:
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(
        loop.run_in_executor(_STORE_THREADS, function, *args), STORE_TIMEOUT_SECONDS
    )


async def write(record: StoredRecord) -> None:
    """Store a prepared record without blocking the loop; spooled if the database is down or slow."""
    current = await _store()
    if current.is_down():
        current.spool.append(record)  # one small synced append
        return
    try:
        await _off_loop(current.write, record)
    except asyncio.TimeoutError:
        current.spool_now(record)


async def last_nps_at(sender_id: str) -> datetime | None:
    """When the visitor last answered NPS; unknown (None) if the database does not answer in time."""
    current = await _store()
    try:
        return await _off_loop(current.last_nps_at, sender_id)
    except asyncio.TimeoutError:
        current.mark_down()
        logger.warning("touchpoint database too slow: last NPS answer unknown")
        return None


async def record_nps(
    sender_id: str,
    started_at: datetime,
    score: int,
    reason: str | None,
    *,
    phase: str | None,
    channel: str,
    persona: str | None,
    at: datetime,
) -> None:
    """Store the visitor's NPS answer on the session's touchpoint, off the loop."""
    current = await _store()
    await write(current.prepare_nps(sender_id, started_at, score, reason, phase, channel, persona, at))


def message_id(tracker: Tracker) -> str | None:
    """Rasa's id of the latest user message: it fixes the turn's record id, so a retried action stores once."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    found = users[-1].get("message_id") if users else None
    return str(found) if found else None


def session_started_at(tracker: Tracker) -> datetime:
    """Start of the current Rasa session: the last `session_started` event, else the first event.

    Together with the sender this keys the touchpoint, so every turn of one session lands on it.
    A tracker without timestamped events (only in hand-made trackers) starts now.
    """
    timed = [event for event in tracker.events if event.get("timestamp") is not None]
    starts = [event for event in timed if event.get("event") == "session_started"]
    chosen = starts[-1] if starts else timed[0] if timed else None
    if chosen is None:
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(float(chosen["timestamp"]), tz=timezone.utc)


async def record_message(
    tracker: Tracker,
    *,
    persona: str | None,
    phase: str | None,
    content_id: str | None,
    intent: str | None = None,
    outcome: str,
    at: datetime,
    product: str | None = None,
    experiment_arm: tuple[str | None, str | None] = (None, None),
) -> None:
    """Record the latest user message as a turn; `intent` is the topic answered when it differs from NLU's.

    A message starting with "/" is a button's or the widget's automatic payload, not typed.
    """
    latest = tracker.latest_message or {}
    parsed = latest.get("intent") or {}
    intent_name = intent
    said = latest.get("text") or ""
    current = await _store()
    turn = current.prepare_turn(
        TurnRecord(
            sender_id=tracker.sender_id,
            session_started_at=session_started_at(tracker),
            channel=channel_of(tracker.get_latest_input_channel()),
            persona=persona,
            phase=phase,
            intent=intent_name or parsed.get("name") or "nlu_fallback",
            confidence=parsed.get("confidence"),
            content_id=content_id,
            text=said,
            outcome=outcome,
            at=at,
            product=product,
            typed=not said.startswith("/"),
            experiment=experiment_arm[0],
            arm=experiment_arm[1],
        ),
        message_id(tracker),
    )
    await write(turn)
