"""The touchpoint database silent for 10 s during a load: nothing lost, written when back, nobody blocked."""

from __future__ import annotations

import threading
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
from tests.load.proxy import pausable_proxy
from tests.load.traffic import MESSAGES, run_conversations, turn_texts_per_touchpoint, wait_for_counts

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

CONVERSATIONS = 10
MESSAGES_EACH = 6
OUTAGE_SECONDS = 10.0
START_TIMEOUT = 420


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    with fresh_postgres_database(postgres_url, "journey_fault") as url:
        yield url


def test_a_silent_touchpoint_database_loses_nothing_and_blocks_nobody(
    tmp_path: Path, fresh_postgres: str
) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    direct = make_url(fresh_postgres)
    with pausable_proxy(direct.port or 5432) as proxy:
        via_proxy = direct.set(port=proxy.port).render_as_string(hide_password=False)
        env = stack_env(tmp_path, DATABASE_URL=via_proxy)  # Rasa's tracker stays on SQLite
        ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
        senders = [f"dbdown-{uuid.uuid4().hex[:8]}" for _ in range(CONVERSATIONS)]
        window: dict[str, float] = {}
        once = threading.Lock()

        def resume() -> None:
            window["resumed"] = time.monotonic()
            proxy.resume()

        def outage(answered: int) -> None:
            if answered >= 12 and once.acquire(blocking=False):
                proxy.pause()
                window["paused"] = time.monotonic()
                threading.Timer(OUTAGE_SECONDS, resume).start()

        with running_stack(
            ports, env, model=model, log_dir=tmp_path / "logs", timeout=START_TIMEOUT
        ) as stack:
            outcomes = run_conversations(
                [stack.rasa_url], senders, MESSAGES[:MESSAGES_EACH], concurrency=5, after_reply=outage
            )
            while "resumed" not in window:
                time.sleep(0.5)
            expected = (CONVERSATIONS, CONVERSATIONS * MESSAGES_EACH)
            counts = wait_for_counts(fresh_postgres, expected)
        log = (tmp_path / "logs" / "action_server.log").read_text(encoding="utf-8", errors="replace")

    assert [error for outcome in outcomes for error in outcome.errors] == []
    replies = [reply for outcome in outcomes for reply in outcome.replies]
    assert len(replies) == CONVERSATIONS * MESSAGES_EACH and all(replies)
    during = [
        moment
        for outcome in outcomes
        for moment in outcome.answered_at
        if window["paused"] < moment < window["resumed"]
    ]
    assert len(during) >= 5, "visitors were answered while the database was silent"
    assert "spooled" in log, "the outage went through the spool"
    assert counts == expected
    assert (
        sorted(turn_texts_per_touchpoint(fresh_postgres)) == [list(MESSAGES[:MESSAGES_EACH])] * CONVERSATIONS
    )
