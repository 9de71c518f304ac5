"""Works the inbox off: one task per conversation, its messages one after the other, in order.

Database calls run in a small thread pool, so a slow database never stalls the event loop. A
message Rasa failed on is tried again after a pause (up to ``max_attempts``); on shutdown the
running work gets ``drain_seconds`` to finish and what is left goes back to the inbox, to be
replayed by the next start. A replayed message that had been started before is first looked up
in the conversation's tracker (``already_handled``), so Rasa sees it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.inbox.store import InboxStore, Received, Stored

logger = logging.getLogger(__name__)

Handler = Callable[[Stored], Awaitable[None]]
AlreadyHandled = Callable[[Stored], Awaitable[bool]]
T = TypeVar("T")


class InboxFull(RuntimeError):
    """A conversation has too many messages waiting; the provider should deliver again later."""


class InboxWorker:
    """Accepts messages into the store and hands them to ``handler``, per conversation in order."""

    def __init__(
        self,
        store: InboxStore,
        what: str,
        *,
        max_attempts: int = 3,
        retry_seconds: float = 5.0,
        sweep_seconds: float = 30.0,
        drain_seconds: float = 10.0,
        max_backlog: int = 500,
    ) -> None:
        self.store = store
        self._what = what
        self._max_attempts = max_attempts
        self._retry_seconds = retry_seconds
        self._sweep_seconds = sweep_seconds
        self._drain_seconds = drain_seconds
        self._max_backlog = max_backlog
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="inbox")
        self._handler: Handler | None = None
        self._already_handled: AlreadyHandled | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._stopping = False

    async def _db(self, call: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args))

    async def accept(self, messages: list[Received]) -> list[str]:
        """Store ``messages`` durably, then start on the new ones; the outcome per message.

        Raises the database's error when it cannot store them (the channel then refuses the
        delivery, so the provider delivers again) and InboxFull when a conversation is flooded.
        """
        for conversation in {message.conversation_id for message in messages}:
            if await self._db(self.store.backlog, conversation) >= self._max_backlog:
                raise InboxFull(f"more than {self._max_backlog} messages of one conversation are waiting")
        outcomes = await self._db(self.store.add, messages)
        for message, outcome in zip(messages, outcomes, strict=True):
            if outcome == "new":
                self.kick(message.conversation_id)
            elif outcome == "duplicate":
                logger.info("%s delivered again; it is already in the inbox.", self._what)
            else:
                logger.warning(
                    "%s sent longer ago than the inbox remembers; recorded, not answered.", self._what
                )
        return outcomes

    async def start(self, handler: Handler, already_handled: AlreadyHandled | None = None) -> int:
        """Begin work: replay what an earlier process left and sweep now and then; conversations found."""
        self._handler, self._already_handled = handler, already_handled
        self._stopping = False
        try:
            found = await self.replay()
        except Exception:
            logger.exception(
                "Inbox replay at start failed; the sweep tries again in %.0f s.", self._sweep_seconds
            )
            found = 0
        if found:
            logger.warning(
                "Inbox: replaying the %s of %d conversations left by an earlier run.", self._what, found
            )
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        return found

    async def replay(self) -> int:
        """Start on every conversation that has messages waiting."""
        conversations = await self._db(self.store.waiting_conversations)
        for conversation in conversations:
            self.kick(conversation)
        return len(conversations)

    def kick(self, conversation_id: str) -> None:
        """Make sure the conversation's messages are being worked on."""
        if self._handler is None or self._stopping:
            return  # not started (start() replays it) or shutting down (the next start does)
        if conversation_id in self._running:
            self._again.add(conversation_id)
            return
        task = asyncio.get_running_loop().create_task(self._work(conversation_id))
        self._running[conversation_id] = task
        task.add_done_callback(functools.partial(self._finished, conversation_id))

    def _finished(self, conversation_id: str, task: asyncio.Task[None]) -> None:
        self._running.pop(conversation_id, None)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Inbox work on a conversation failed", exc_info=task.exception())

    async def _work(self, conversation_id: str) -> None:
        while True:
            self._again.discard(conversation_id)
            stored = await self._db(self.store.claim, conversation_id)
            if stored is None:
                if conversation_id in self._again:
                    continue
                return
            await self._process(stored)

    async def _process(self, stored: Stored) -> None:
        assert self._handler is not None
        try:
            if stored.attempts > 1 and self._already_handled and await self._already_handled(stored):
                logger.warning(
                    "Replayed %s had reached Rasa before the interruption; not sent again.", self._what
                )
            else:
                await self._handler(stored)
        except asyncio.CancelledError:
            await self._db(self.store.release, stored.id)
            raise
        except Exception:
            last = stored.attempts >= self._max_attempts
            logger.exception(
                "Rasa failed on a %s (conversation %s, attempt %d)%s.",
                self._what,
                stored.conversation_id,
                stored.attempts,
                "; giving up" if last else "; trying again later",
            )
            if last:
                await self._db(self.store.finish, stored.id, "failed")
            else:
                await self._db(self.store.release, stored.id, self._retry_seconds)
            return
        await self._db(self.store.finish, stored.id)

    async def _sweep(self) -> None:
        """Pick up what no task is working on (retries, other workers' leftovers); forget old ids."""
        while True:
            await asyncio.sleep(self._sweep_seconds)
            try:
                await self.replay()
                await self._db(self.store.purge)
            except Exception:
                logger.exception("Inbox sweep failed; trying again in %.0f s.", self._sweep_seconds)

    async def drain(self) -> int:
        """On shutdown: let running work finish for a while, then give the rest back; tasks cut off."""
        self._stopping = True  # what arrives from now on waits in the inbox for the next start
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        tasks = list(self._running.values())
        if not tasks:
            return 0
        _, pending = await asyncio.wait(tasks, timeout=self._drain_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if pending:
            logger.warning(
                "Inbox: %d conversations cut off at shutdown; replayed at the next start.", len(pending)
            )
        return len(pending)

    @property
    def busy(self) -> int:
        """Conversations being worked on right now."""
        return len(self._running)
