"""Small per-sender state of the connectors, in memory and optionally in Redis so workers agree.

Several Rasa workers may serve one number: numbered options must be found by whichever worker gets
the reply (message de-duplication is durable, in bot/inbox). Redis is optional;
when it fails the connectors go on with their in-memory view and log why.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

Options = list[tuple[str, str]]


class TtlCache:
    """A bounded in-process map whose entries expire, oldest evicted first."""

    def __init__(
        self, max_items: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max_items = max_items
        self._ttl = ttl_seconds
        self._clock = clock

    def get(self, key: str) -> Any | None:
        """Return the live value for ``key``, or None."""
        entry = self._items.get(key)
        if entry is None or entry[0] <= self._clock():
            self._items.pop(key, None)
            return None
        return entry[1]

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` for the TTL, evicting the oldest entries beyond the bound."""
        self._items.pop(key, None)
        self._items[key] = (self._clock() + self._ttl, value)
        while len(self._items) > self._max_items:
            self._items.popitem(last=False)

    def pop(self, key: str) -> Any | None:
        """Remove ``key`` and return its live value, or None."""
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def __len__(self) -> int:
        return len(self._items)


class RedisLink:
    """A lazily created Redis client, one per event loop (clients must not cross loops)."""

    def __init__(self, url: str | None) -> None:
        self.url = url or None
        self._client: tuple[asyncio.AbstractEventLoop, aioredis.Redis] | None = None

    def client(self) -> aioredis.Redis | None:
        """Return the client for the running loop, or None when no Redis is configured."""
        if self.url is None:
            return None
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop:
            redis = aioredis.Redis.from_url(self.url, socket_connect_timeout=1.0, socket_timeout=1.0)
            self._client = (loop, redis)
        return self._client[1]


def _key(prefix: str, sender: str) -> str:
    """Hash the sender (a phone number) so Redis keys hold no personal data."""
    return prefix + hashlib.sha256(sender.encode()).hexdigest()[:32]


class OptionMemory:
    """The numbered options last sent to each sender, valid for that sender's next message only."""

    def __init__(
        self, redis: RedisLink, prefix: str, ttl_seconds: int = 24 * 3600, max_items: int = 10_000
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl_seconds
        self._memory = TtlCache(max_items, ttl_seconds)

    async def remember(self, sender: str, options: Sequence[tuple[str, str]]) -> None:
        """Store the options just sent to ``sender``, replacing older ones."""
        self._memory.set(sender, list(options))
        await self._redis_call("set", _key(self._prefix, sender), json.dumps(list(options)), ex=self._ttl)

    async def forget(self, sender: str) -> None:
        """Drop the options of ``sender``: a later plain message makes them stale (e.g. an NPS question)."""
        self._memory.pop(sender)
        await self._redis_call("delete", _key(self._prefix, sender))

    async def take(self, sender: str) -> Options:
        """Return and drop the options of ``sender`` (empty when none)."""
        local = self._memory.pop(sender)
        client = self._redis.client()
        if client is None:
            return local or []
        key = _key(self._prefix, sender)
        try:
            async with client.pipeline(transaction=True) as pipe:
                stored, _ = await pipe.get(key).delete(key).execute()
        except RedisError as error:
            logger.warning("Redis option memory unavailable (%s); using this worker's memory.", error)
            return local or []
        return [(str(title), str(payload)) for title, payload in json.loads(stored)] if stored else []

    async def _redis_call(self, command: str, *args: Any, **kwargs: Any) -> None:
        client = self._redis.client()
        if client is None:
            return
        try:
            await getattr(client, command)(*args, **kwargs)
        except RedisError as error:
            logger.warning("Redis option memory unavailable (%s); using this worker's memory.", error)
