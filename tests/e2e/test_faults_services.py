"""More faults under load, on one stack: Redis down, a journey file broken, the Rasa server restarted."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from bot.content import ContentRepository
from bot.devserver import Ports, Stack, latest_model, running_stack
from bot.privacy import pseudonymise
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port, stack_env
from tests.load.proxy import PausableProxy, pausable_proxy
from tests.load.traffic import MESSAGES, Outcome, run_conversations, say, store_counts

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

START_TIMEOUT = 420
MESSAGES_EACH = 6


@dataclass
class Faulty:
    stack: Stack
    redis: PausableProxy
    env: dict[str, str]
    journeys: Path
    logs: Path


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    """The assistant with Redis behind a proxy that can go silent, and its own journeys copy."""
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    if os.system("redis-cli -h 127.0.0.1 ping >/dev/null 2>&1") != 0:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    work = tmp_path_factory.mktemp("faulty")
    journeys = work / "journeys"
    journeys.mkdir()
    for path in (PROJECT_ROOT / "journeys").iterdir():
        if path.is_file():
            (journeys / path.name).write_bytes(path.read_bytes())
    with pausable_proxy(6379) as redis:
        env = stack_env(work, REDIS_URL=f"redis://127.0.0.1:{redis.port}/0", JOURNEYS_DIR=str(journeys))
        ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
        logs = work / "logs"
        with running_stack(ports, env, model=model, log_dir=logs, timeout=START_TIMEOUT) as stack:
            yield Faulty(stack=stack, redis=redis, env=env, journeys=journeys, logs=logs)


def senders(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{uuid.uuid4().hex[:8]}" for _ in range(count)]


def all_answered(outcomes: list[Outcome]) -> None:
    assert [error for outcome in outcomes for error in outcome.errors] == []
    assert all(all(reply) for outcome in outcomes for reply in outcome.replies)


def test_redis_down_keeps_answering_with_a_logged_degradation(faulty: Faulty) -> None:
    before = store_counts(faulty.env["DATABASE_URL"])
    once = threading.Lock()

    def silence(answered: int) -> None:
        if answered >= 6 and once.acquire(blocking=False):
            faulty.redis.pause()
            threading.Timer(8.0, faulty.redis.resume).start()

    outcomes = run_conversations([faulty.stack.rasa_url], senders("redis", 6), MESSAGES[:MESSAGES_EACH],
                                 concurrency=3, after_reply=silence)  # fmt: skip
    time.sleep(8.5)  # let the Timer resume Redis before the next test
    all_answered(outcomes)
    log = (faulty.logs / "rasa_server.log").read_text(encoding="utf-8", errors="replace")
    assert "Redis lock store unavailable" in log and "degraded" in log
    after = store_counts(faulty.env["DATABASE_URL"])
    assert (after[0] - before[0], after[1] - before[1]) == (6, 6 * MESSAGES_EACH)


def test_a_journey_file_broken_during_load_leaves_the_last_good_version_serving(faulty: Faulty) -> None:
    common = faulty.journeys / "common.yml"
    good = common.read_text(encoding="utf-8")
    error_text = ContentRepository(faulty.journeys).error_text()  # what a visitor sees if content fails
    once = threading.Lock()

    def break_it(answered: int) -> None:
        if answered >= 6 and once.acquire(blocking=False):
            common.write_text(good + "\n  kapot: [niet gesloten\n", encoding="utf-8")

    try:
        outcomes = run_conversations([faulty.stack.rasa_url], senders("yaml", 6), MESSAGES[:MESSAGES_EACH],
                                     concurrency=3, after_reply=break_it)  # fmt: skip
        with httpx.Client(timeout=60) as client:
            late = say(client, faulty.stack.rasa_url, f"yaml-late-{uuid.uuid4().hex[:6]}", MESSAGES[0])
    finally:
        common.write_text(good, encoding="utf-8")
    all_answered(outcomes)
    replies = [text for outcome in outcomes for reply in outcome.replies for text in reply] + late
    assert error_text not in replies, "no visitor saw the content error"
    assert late and error_text not in late, (
        "a new visitor after the broken edit is answered from the last good version"
    )
    # The edit is loaded (and refused) in a background thread, so the line may come just after the replies.
    deadline = time.monotonic() + 15
    while True:
        log = (faulty.logs / "action_server.log").read_text(encoding="utf-8", errors="replace")
        if "common.yml" in log or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "common.yml" in log, "the broken edit is logged with its file"


def test_conversations_continue_after_the_rasa_server_restarts(faulty: Faulty) -> None:
    stack = faulty.stack
    visitors = senders("rasa-restart", 4)
    half = MESSAGES_EACH // 2
    with httpx.Client(timeout=60) as client:
        for sender in visitors:
            for message in MESSAGES[:half]:
                assert say(client, stack.rasa_url, sender, message)
        phases = {sender: slot(stack, sender, "journey_phase") for sender in visitors}
        pid = stack.supervisor.pid("rasa server")
        assert pid is not None
        os.kill(pid, signal.SIGTERM)
        wait_until_up(stack, old_pid=pid)
        for sender in visitors:
            assert slot(stack, sender, "journey_phase") == phases[sender], "the conversation kept its state"
            for message in MESSAGES[half:MESSAGES_EACH]:
                assert say(client, stack.rasa_url, sender, message)
            events = client.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                                params={"token": stack.token}).json()["events"]  # fmt: skip
            users = [event["text"] for event in events if event["event"] == "user"]
            assert users == list(MESSAGES[:MESSAGES_EACH])
            assert sum(1 for event in events if event["event"] == "session_started") == 1, "same session"
    for sender in visitors:
        assert turns_of(faulty.env, sender) == [list(MESSAGES[:MESSAGES_EACH])], "one touchpoint, every turn"


def turns_of(env: dict[str, str], sender: str) -> list[list[str]]:
    """The visitor's touchpoints, each as its turn texts in order."""
    engine = create_engine(env["DATABASE_URL"], future=True)
    query = text(
        "SELECT t.id, u.text FROM touchpoints t JOIN turns u ON u.touchpoint_id = t.id "
        "WHERE t.sender_key = :key ORDER BY t.id, u.at, u.id"
    )
    try:
        with engine.connect() as connection:
            rows = connection.execute(query, {"key": pseudonymise(sender, env["PSEUDONYM_KEY"])}).all()
    finally:
        engine.dispose()
    grouped: dict[int, list[str]] = {}
    for touchpoint_id, said in rows:
        grouped.setdefault(int(touchpoint_id), []).append(str(said))
    return list(grouped.values())


def slot(stack: Stack, sender: str, name: str) -> object:
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.token}, timeout=30
    )
    return tracker.json()["slots"].get(name)


def wait_until_up(stack: Stack, old_pid: int, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = stack.supervisor.pid("rasa server")
        if pid not in (None, old_pid):
            try:
                if (
                    httpx.get(
                        f"{stack.rasa_url}/status", params={"token": stack.token}, timeout=2
                    ).status_code
                    == 200
                ):
                    return
            except httpx.HTTPError:
                pass
        time.sleep(1)
    raise AssertionError("the Rasa server did not come back")
