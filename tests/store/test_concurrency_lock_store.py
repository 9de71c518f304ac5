"""Rasa's conversation locks: shared in Redis between processes, in memory without REDIS_URL, degraded when Redis is down."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

from bot.rasa_stores import JourneyLockStore
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port


async def _hold(
    store: LockStore, conversation: str, inside: list[str], overlaps: list[int], name: str
) -> None:
    async with store.lock(conversation, wait_time_in_seconds=0.02):
        inside.append(name)
        overlaps.append(len(inside))
        await asyncio.sleep(0.05)
        inside.remove(name)


@pytest.mark.redis
def test_two_processes_take_turns_on_one_conversation_through_redis(redis_url: str) -> None:
    """Two lock stores (as in two Rasa servers) on one Redis: never two holders of one conversation."""
    first, second = JourneyLockStore(redis_url=redis_url), JourneyLockStore(redis_url=redis_url)
    assert isinstance(first.redis, RedisLockStore)
    conversation = f"lock-{uuid.uuid4().hex}"
    inside: list[str] = []
    overlaps: list[int] = []

    async def main() -> None:
        await asyncio.gather(
            *(_hold((first, second)[n % 2], conversation, inside, overlaps, f"holder-{n}") for n in range(8))
        )

    asyncio.run(main())
    assert len(overlaps) == 8
    assert max(overlaps) == 1
    assert first.redis is not None and first.redis.red.get(first.redis.key_prefix + conversation) is None


def test_without_redis_url_the_locks_are_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    store = JourneyLockStore()
    assert store.redis is None
    inside: list[str] = []
    overlaps: list[int] = []

    async def main() -> None:
        await asyncio.gather(*(_hold(store, "c", inside, overlaps, f"h{n}") for n in range(4)))

    asyncio.run(main())
    assert max(overlaps) == 1
    assert isinstance(store.memory, InMemoryLockStore)


def test_several_workers_without_redis_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("SANIC_WORKERS", "2")
    with pytest.raises(ValueError, match="SANIC_WORKERS=2 needs REDIS_URL"):
        JourneyLockStore()


def test_redis_down_degrades_to_memory_locks_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    store = JourneyLockStore(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    inside: list[str] = []
    overlaps: list[int] = []

    async def main() -> None:
        await asyncio.gather(*(_hold(store, "c", inside, overlaps, f"h{n}") for n in range(3)))

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert len(overlaps) == 3 and max(overlaps) == 1, "still served, one at a time within the process"
    assert "Redis lock store unavailable" in caplog.text


def test_endpoints_yml_names_the_lock_store(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    """What Rasa reads: endpoints.yml gives this class, and REDIS_URL picks Redis."""
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:9/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "unused")
    monkeypatch.setenv("REDIS_URL", redis_url)
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "lock_store")
    store = LockStore.create(config)
    assert isinstance(store, JourneyLockStore)
    assert isinstance(store.redis, RedisLockStore)


def test_two_servers_taking_a_ticket_at_once_get_different_ones(redis_url: str) -> None:
    """Rasa's RedisLockStore reads, changes and writes the ticket queue: two servers at once both got
    ticket 0 and worked on one conversation together. Ours changes the queue under a Redis mutex."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.rasa_stores import redis_lock_store

    servers = [redis_lock_store(redis_url), redis_lock_store(redis_url)]
    for round_number in range(20):
        conversation = f"race-{uuid.uuid4().hex[:8]}-{round_number}"
        with ThreadPoolExecutor(max_workers=2) as both:
            tickets = list(both.map(type(servers[0]).issue_ticket, servers, [conversation] * 2))
        assert sorted(tickets) == [0, 1], tickets
        for store, ticket in zip(servers, tickets, strict=True):
            store.cleanup(conversation, ticket)
        assert servers[0].get_lock(conversation) is None
