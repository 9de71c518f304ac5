"""PostgreSQL and Redis for the scale-out stack: fresh databases per run, dropped or flushed at the end.

The benchmark must not touch anybody else's data on the shared servers: it creates its own
PostgreSQL databases (dropped WITH (FORCE), so a server still connected cannot keep one alive) and
uses one Redis database number of its own, flushed before and after. The servers default to the
local ones the tests use; BENCH_POSTGRES_URL / BENCH_REDIS_URL point elsewhere.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/5"  # db 5: the benchmark's own, flushed at start and end
DATABASE_PREFIX = "journey_bench"


def postgres_server_url() -> str:
    return os.environ.get("BENCH_POSTGRES_URL") or POSTGRES_URL


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or REDIS_URL


def unreachable(postgres: str, redis: str) -> list[str]:
    """Which of the two servers does not accept a connection, so the run can say so instead of failing late."""
    missing = []
    for label, url, port in (("PostgreSQL", postgres, 5432), ("Redis", redis, 6379)):
        parsed = make_url(url)
        host, port = parsed.host or "127.0.0.1", parsed.port or port
        try:
            socket.create_connection((host, port), timeout=2).close()
        except OSError:
            missing.append(f"{label} is not reachable at {host}:{port}")
    return missing


@contextmanager
def fresh_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """Create `<prefix>_<random>`; yield its URL; drop it at the end, even while in use (tests use it too)."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def flushed_redis_database(url: str) -> Iterator[str]:
    """The Redis database of `url`, emptied before and after: no lock left from an earlier or this run."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    if int(client.connection_pool.connection_kwargs.get("db", 0)) == 0:
        client.close()
        raise RuntimeError(f"{url}: give the benchmark a Redis database of its own (not 0), it is flushed")
    try:
        client.flushdb()
        try:
            yield url
        finally:
            client.flushdb()
    finally:
        client.close()
