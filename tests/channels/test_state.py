"""Connector state: bounded TTL memory, and option memory, alone and with Redis."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from bot.channels.state import OptionMemory, RedisLink, TtlCache

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_ttl_cache_expires_entries() -> None:
    clock = Clock()
    cache = TtlCache(max_items=10, ttl_seconds=5, clock=clock)
    cache.set("a", 1)
    clock.now = 4.9
    assert cache.get("a") == 1
    clock.now = 5.0
    assert cache.get("a") is None and len(cache) == 0


def test_ttl_cache_is_bounded_and_evicts_the_oldest() -> None:
    cache = TtlCache(max_items=3, ttl_seconds=60)
    for key in "abcd":
        cache.set(key, key)
    assert len(cache) == 3
    assert cache.get("a") is None and cache.get("d") == "d"
    assert cache.pop("b") == "b" and cache.pop("b") is None


def test_option_memory_is_taken_once() -> None:
    memory = OptionMemory(RedisLink(None), "test:options:")

    async def scenario() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        await memory.remember("+31600000001", [("Ja", "/affirm"), ("Nee", "/deny")])
        return await memory.take("+31600000001"), await memory.take("+31600000001")

    assert asyncio.run(scenario()) == ([("Ja", "/affirm"), ("Nee", "/deny")], [])


def test_option_memory_is_shared_through_redis_and_forgotten(redis_url: str) -> None:
    sender = f"+316{uuid.uuid4().int % 10**8:08d}"
    worker_a = OptionMemory(RedisLink(redis_url), "test:options:")
    worker_b = OptionMemory(RedisLink(redis_url), "test:options:")

    async def scenario() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        await worker_a.remember(sender, [("Ja", "/affirm")])
        shared = await worker_b.take(sender)
        await worker_a.remember(sender, [("Nee", "/deny")])
        await worker_b.forget(sender)
        return shared, await worker_a.take(sender)

    assert asyncio.run(scenario()) == ([("Ja", "/affirm")], [])


def test_option_memory_keys_hold_no_phone_number(redis_url: str) -> None:
    import redis

    sender = "+31612345678"
    prefix = f"test:{uuid.uuid4().hex}:"
    memory = OptionMemory(RedisLink(redis_url), prefix)
    asyncio.run(memory.remember(sender, [("Ja", "/affirm")]))
    client = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in client.scan_iter(f"{prefix}*")]
    client.close()
    assert keys and not any("612345678" in key for key in keys)
    asyncio.run(memory.forget(sender))


def test_option_memory_falls_back_to_memory_when_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    memory = OptionMemory(RedisLink(UNREACHABLE_REDIS), "test:options:")

    async def scenario() -> list[tuple[str, str]]:
        await memory.remember("+31600000002", [("Ja", "/affirm")])
        return await memory.take("+31600000002")

    with caplog.at_level(logging.WARNING):
        assert asyncio.run(scenario()) == [("Ja", "/affirm")]
    assert "Redis option memory unavailable" in caplog.text
