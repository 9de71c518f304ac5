"""Bursts on one conversation: its messages enter Rasa one at a time, in arrival order, with a bounded wait.

Rasa serialises a conversation with its lock store, but a waiting message polls that lock once a
second with tickets that expire, so a burst (double taps, a retry storm) left messages unanswered
and unrecorded. Here each conversation has a first-come-first-served turn in this process: Rasa's
lock is then never contended by this process's own messages. How long a message may wait and how
many may wait are bounded (BURST_MAX_WAITING, BURST_WAIT_SECONDS); what happens to a message over a
bound is the channel's choice (REST: 429 with a reason; socket.io: a short notice, then later).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from bot.settings import burst_max_waiting, burst_wait_seconds

ONE_MOMENT_TEXT = "Een moment, ik kom erop terug."
TOO_MANY_TEXT = "Je stuurt veel berichten tegelijk. Wacht even op mijn antwoord en stuur het dan nog eens."


class Busy(RuntimeError):
    """The message was not taken: the conversation has too many waiting, or its turn took too long."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class _Conversation:
    lock: asyncio.Lock
    waiting: int = 0


class ConversationTurns:
    """One message per conversation at a time, first come first served; waiting is bounded."""

    def __init__(self, max_waiting: int | None = None, wait_seconds: float | None = None) -> None:
        """None: BURST_MAX_WAITING and BURST_WAIT_SECONDS from the environment."""
        self.max_waiting = max_waiting if max_waiting is not None else burst_max_waiting()
        self.wait_seconds = wait_seconds if wait_seconds is not None else burst_wait_seconds()
        self._conversations: dict[str, _Conversation] = {}

    def waiting(self, conversation_id: str) -> int:
        """Messages of the conversation in hand or waiting (0 when it is idle)."""
        entry = self._conversations.get(conversation_id)
        return entry.waiting if entry else 0

    @contextlib.asynccontextmanager
    async def turn(
        self, conversation_id: str, on_slow: Callable[[], Awaitable[None]] | None = None
    ) -> AsyncIterator[None]:
        """Wait for the conversation's turn. Over ``wait_seconds``: without ``on_slow`` raise Busy;
        with it, call it once and go on waiting (the message keeps its place).
        """
        entry = self._conversations.setdefault(conversation_id, _Conversation(asyncio.Lock()))
        if entry.waiting > self.max_waiting:
            raise Busy(
                f"{entry.waiting} messages of this conversation are already waiting; send it again shortly",
                retry_after=max(1, round(self.wait_seconds)),
            )
        entry.waiting += 1
        try:
            if not await _acquire(entry.lock, self.wait_seconds):
                if on_slow is None:
                    raise Busy(
                        f"the earlier messages of this conversation took longer than {self.wait_seconds:g} s",
                        retry_after=max(1, round(self.wait_seconds)),
                    )
                await on_slow()
                await _acquire(entry.lock, None)
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            entry.waiting -= 1
            if entry.waiting == 0 and self._conversations.get(conversation_id) is entry:
                del self._conversations[conversation_id]


async def _acquire(lock: asyncio.Lock, timeout: float | None) -> bool:
    """Take ``lock`` within ``timeout`` (None: however long); never leaves it taken on a timeout or cancel.

    ``asyncio.wait_for(lock.acquire())`` can leak the lock on Python 3.10 when the timeout and the
    hand-over coincide; here a hand-over that raced the timeout is kept and counted as taken.
    """
    attempt = asyncio.ensure_future(lock.acquire())
    try:
        done, _ = await asyncio.wait({attempt}, timeout=timeout)
    except BaseException:
        if not await _abandon(lock, attempt):
            lock.release()
        raise
    if done:
        return True
    return not await _abandon(lock, attempt)


async def _abandon(lock: asyncio.Lock, attempt: asyncio.Future[bool]) -> bool:
    """Cancel a pending acquire; True when it was abandoned, False when it had got the lock after all."""
    attempt.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await attempt
    return attempt.cancelled()
