"""The scale-out stack's databases: created fresh, dropped or flushed afterwards, also after an error."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from bench.perf import services
from bench.perf.stacks import RunningStack


class Boom(RuntimeError):
    pass


def _skip_unless_running(label: str) -> None:
    missing = services.unreachable(services.postgres_server_url(), services.redis_url())
    if any(problem.startswith(label) for problem in missing):
        pytest.skip(f"{label} is not running")


def _databases(server: str) -> set[str]:
    engine = create_engine(server, future=True)
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT datname FROM pg_database"))}
    finally:
        engine.dispose()


def test_a_stack_exposes_every_rasa_servers_webhook() -> None:
    one = RunningStack("assistant", "http://127.0.0.1:1", {})
    assert one.webhooks == ("http://127.0.0.1:1/webhooks/rest/webhook",) and one.webhook == one.webhooks[0]
    two = RunningStack("assistant-scaled", "http://127.0.0.1:1", {}, replica_urls=("http://127.0.0.1:2",))
    assert two.rest_urls == ("http://127.0.0.1:1", "http://127.0.0.1:2")
    assert two.webhooks[1] == "http://127.0.0.1:2/webhooks/rest/webhook"


def test_unreachable_names_the_missing_server() -> None:
    assert services.unreachable("postgresql://postgres@127.0.0.1:9/x", "redis://127.0.0.1:9/5") == [
        "PostgreSQL is not reachable at 127.0.0.1:9",
        "Redis is not reachable at 127.0.0.1:9",
    ]


@pytest.mark.postgres
def test_fresh_database_is_dropped_even_after_an_error_while_in_use() -> None:
    _skip_unless_running("PostgreSQL")
    server = services.postgres_server_url()
    with (
        pytest.raises(Boom),
        services.fresh_postgres_database(server, f"{services.DATABASE_PREFIX}_unittest") as url,
    ):
        name = url.rsplit("/", 1)[1]
        assert name.startswith("journey_bench_unittest_") and name in _databases(server)
        engine = create_engine(url, future=True)
        connection = engine.connect()  # still connected when the database is dropped: WITH (FORCE)
        connection.execute(text("CREATE TABLE t (x int)"))
        raise Boom
    assert name not in _databases(server)
    engine.dispose()


@pytest.mark.redis
def test_redis_database_is_flushed_before_and_after_and_db_0_refused() -> None:
    import redis

    _skip_unless_running("Redis")
    url = services.redis_url()
    client = redis.Redis.from_url(url)
    try:
        client.set("journeybench-left-over", "1")
        with pytest.raises(Boom), services.flushed_redis_database(url):
            assert client.dbsize() == 0
            client.set("journeylock:x", "1")
            raise Boom
        assert client.dbsize() == 0
    finally:
        client.close()
    with (
        pytest.raises(RuntimeError, match="not 0"),
        services.flushed_redis_database("redis://127.0.0.1:6379/0"),
    ):
        pass
