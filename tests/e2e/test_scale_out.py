"""The scale-out profile: two Rasa servers and two action servers on PostgreSQL and Redis.

The messages of one conversation go to both Rasa servers in turn (no sticky sessions), and some
arrive at both at the same moment: every conversation is complete and in order, no turn is lost
or doubled, and the touchpoints are right.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from bot.devserver import Ports, latest_model, process_commands, replica_ports, running_stack
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port, stack_env
from tests.databases import fresh_postgres_database
from tests.load.traffic import MESSAGES, run_conversations, say, store_counts, turn_texts_per_touchpoint

CONVERSATIONS = 12
PAIRED = 4  # conversations whose messages arrive two at a time, one at each server
PAIRS = 3
START_TIMEOUT = 600
JOURNEY_ACTIONS = ("action_journey_reply", "action_journey_fallback", "action_journey_close")


@pytest.fixture
def shared_postgres(postgres_url: str) -> Iterator[str]:
    """One fresh database for Rasa's conversations and the touchpoints, as a deployment may share."""
    with fresh_postgres_database(postgres_url, "journey_scale") as url:
        yield url


def user_texts_in_turns(url: str, token: str, sender: str) -> list[tuple[str, bool]]:
    """Each user message of the conversation, and whether a journey action answered it before the next one."""
    events = httpx.get(f"{url}/conversations/{sender}/tracker", params={"token": token}, timeout=30).json()[
        "events"
    ]
    seen: list[tuple[str, bool]] = []
    for event in events:
        if event["event"] == "user":
            seen.append((str(event.get("text")), False))
        elif event["event"] == "action" and event.get("name") in JOURNEY_ACTIONS and seen and not seen[-1][1]:
            seen[-1] = (seen[-1][0], True)
    return seen


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.redis
def test_two_rasa_servers_share_conversations_without_loss(
    tmp_path: Path, shared_postgres: str, redis_url: str
) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    env = stack_env(
        tmp_path, DATABASE_URL=shared_postgres, TRACKER_STORE_URL=shared_postgres, REDIS_URL=redis_url
    )
    first = Ports(rasa=free_port(), action=free_port(), web=free_port())
    second = Ports(rasa=free_port(), action=free_port(), web=first.web)
    alternating = [f"scale-{uuid.uuid4().hex[:8]}" for _ in range(CONVERSATIONS)]
    paired = [f"pair-{uuid.uuid4().hex[:8]}" for _ in range(PAIRED)]
    pair_messages = MESSAGES[: 2 * PAIRS]

    with running_stack(
        first, env, model=model, log_dir=tmp_path / "logs", timeout=START_TIMEOUT, replicas=[second]
    ) as stack:
        urls = stack.rasa_urls
        assert len(urls) == 2

        def send_pairs(sender: str) -> list[list[str]]:
            replies: list[list[str]] = []
            with httpx.Client(timeout=120) as client, ThreadPoolExecutor(max_workers=2) as both:
                for pair in range(PAIRS):
                    jobs = [
                        both.submit(say, client, urls[side], sender, pair_messages[2 * pair + side])
                        for side in (0, 1)
                    ]
                    replies.extend(job.result() for job in jobs)
            return replies

        with ThreadPoolExecutor(max_workers=2) as side_traffic:
            pairs = side_traffic.map(send_pairs, paired)
            outcomes = run_conversations(urls, alternating, MESSAGES, concurrency=6, timeout=120)
            paired_replies = list(pairs)
        conversations = {
            sender: user_texts_in_turns(urls[number % 2], stack.token, sender)
            for number, sender in enumerate(alternating + paired)
        }

    assert [error for outcome in outcomes for error in outcome.errors] == []
    assert all(all(reply) for outcome in outcomes for reply in outcome.replies)
    assert all(all(reply) for replies in paired_replies for reply in replies)
    for sender in alternating:
        assert conversations[sender] == [(message, True) for message in MESSAGES], sender
    for sender in paired:
        texts = [said for said, _ in conversations[sender]]
        assert sorted(texts) == sorted(pair_messages), f"{sender}: every message once"
        assert all(answered for _, answered in conversations[sender]), f"{sender}: one at a time"
    total_turns = CONVERSATIONS * len(MESSAGES) + PAIRED * len(pair_messages)
    assert store_counts(shared_postgres) == (CONVERSATIONS + PAIRED, total_turns)
    per_touchpoint = turn_texts_per_touchpoint(shared_postgres)
    assert sum(1 for texts in per_touchpoint if texts == list(MESSAGES)) == CONVERSATIONS
    assert sum(1 for texts in per_touchpoint if sorted(texts) == sorted(pair_messages)) == PAIRED


def test_the_scale_out_procfile_runs_the_commands_of_the_replicas() -> None:
    """deploy/Procfile.scale-out starts what `python -m bot.devserver --replicas 2` starts."""
    lines = (PROJECT_ROOT / "deploy" / "Procfile.scale-out").read_text(encoding="utf-8").splitlines()
    processes = dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))
    assert set(processes) == {"action1", "action2", "rasa1", "rasa2"}
    ports = Ports(rasa=5005, action=5055, web=8080)
    shell_env = {"PATH": "/usr/bin:/bin", "RASA_PORT": "5005", "ACTION_PORT": "5055"}
    paths = {
        "model": Path("models"),
        "credentials": Path("credentials.yml"),
        "endpoints": Path("endpoints.yml"),
    }
    for replica, replica_port in enumerate([ports, *replica_ports(ports, 2)], start=1):
        expected = process_commands(replica_port, python=".venv/bin/python", **paths)
        for name, procfile_name in (("action server", f"action{replica}"), ("rasa server", f"rasa{replica}")):
            script = f"set -- {processes[procfile_name]}; printf '%s\\0' \"$@\""
            argv = subprocess.run(["bash", "-c", script], env=shell_env, capture_output=True, check=True)
            words = argv.stdout.decode().split("\0")[:-1]
            if words[0] == "env":
                endpoint = next(word for word in words if word.startswith("ACTION_ENDPOINT_URL="))
                assert endpoint.endswith(f":{replica_port.action}/webhook"), "each Rasa server has its own"
                words = words[next(i for i, word in enumerate(words) if word.startswith(".venv")) :]
            assert words == expected[name], procfile_name
