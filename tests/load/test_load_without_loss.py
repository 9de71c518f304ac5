"""Load without loss: 1,000 conversations × 8 messages at 20 concurrent, on SQLite and on PostgreSQL.

Zero errors, and afterwards exactly one touchpoint per conversation and one turn per message,
each conversation's turns in the order sent. 8,000 messages at one Rasa server's 20–28 msg/s
take about 5–7 minutes per store on 2 idle cores, far longer on busy ones (about 5 msg/s was
measured with other work on the machine), so the test allows an hour. LOAD_CONVERSATIONS scales
it down for a quick local look.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.devserver import Ports, latest_model, running_stack
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port, stack_env
from tests.databases import fresh_postgres_database
from tests.load.traffic import MESSAGES, run_conversations, store_counts, turn_texts_per_touchpoint

pytestmark = [pytest.mark.load, pytest.mark.e2e]

CONVERSATIONS = int(os.environ.get("LOAD_CONVERSATIONS") or 1000)
CONCURRENCY = 20
START_TIMEOUT = 420


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def touchpoint_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'journey.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_url"), "journey_load") as url:
        yield url


@pytest.mark.timeout(3600)
def test_a_thousand_conversations_lose_nothing(tmp_path: Path, touchpoint_url: str) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    env = stack_env(tmp_path, DATABASE_URL=touchpoint_url)
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    senders = [f"load-{uuid.uuid4().hex[:10]}" for _ in range(CONVERSATIONS)]
    with running_stack(ports, env, model=model, log_dir=tmp_path / "logs", timeout=START_TIMEOUT) as stack:
        started = time.monotonic()
        outcomes = run_conversations(
            [stack.rasa_url], senders, MESSAGES, concurrency=CONCURRENCY, timeout=120
        )
        seconds = time.monotonic() - started
    messages = CONVERSATIONS * len(MESSAGES)
    errors = [error for outcome in outcomes for error in outcome.errors]
    print(
        f"\nload on {make_url(touchpoint_url).get_backend_name()}: {CONVERSATIONS} conversations × "
        f"{len(MESSAGES)} messages at {CONCURRENCY} concurrent in {seconds:.0f}s "
        f"({messages / seconds:.1f} msg/s), {len(errors)} errors"
    )
    assert errors == []
    assert all(all(reply) for outcome in outcomes for reply in outcome.replies), "every message answered"
    assert store_counts(touchpoint_url) == (CONVERSATIONS, messages)
    assert all(texts == list(MESSAGES) for texts in turn_texts_per_touchpoint(touchpoint_url))
