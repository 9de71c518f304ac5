"""The action server killed during a load: visitors are told "even geduld", and no turn is lost."""

from __future__ import annotations

import os
import signal
import threading
import uuid
from pathlib import Path

import pytest

from bot.action_retry import PLEASE_WAIT
from bot.devserver import Ports, latest_model, running_stack
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port, stack_env
from tests.load.traffic import MESSAGES, run_conversations, turn_texts_per_touchpoint, wait_for_counts

pytestmark = pytest.mark.e2e

CONVERSATIONS = 10
MESSAGES_EACH = 6
# Rasa loads its model in about 30 s on an idle machine; a busy shared one takes minutes.
START_TIMEOUT = 420


def test_killing_the_action_server_mid_load_loses_no_turn(tmp_path: Path) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    env = stack_env(tmp_path)
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    messages = MESSAGES[:MESSAGES_EACH]
    senders = [f"kill-{uuid.uuid4().hex[:8]}" for _ in range(CONVERSATIONS)]
    killed: list[int] = []
    once = threading.Lock()
    with running_stack(ports, env, model=model, log_dir=tmp_path / "logs", timeout=START_TIMEOUT) as stack:

        def kill_once(answered: int) -> None:
            if answered >= 12 and once.acquire(blocking=False):
                pid = stack.supervisor.pid("action server")
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        outcomes = run_conversations(
            [stack.rasa_url], senders, messages, concurrency=5, after_reply=kill_once
        )
        assert killed, "the action server was killed during the load"
        assert stack.supervisor.children["action server"].restarts >= 1
        assert stack.supervisor.pid("action server") not in (None, killed[0])

    assert [error for outcome in outcomes for error in outcome.errors] == []
    replies = [reply for outcome in outcomes for reply in outcome.replies]
    assert len(replies) == CONVERSATIONS * MESSAGES_EACH
    told = [reply for reply in replies if PLEASE_WAIT in reply]
    assert told, "visitors who wrote while the action server was down were told to wait"
    assert all(any(text and text != PLEASE_WAIT for text in reply) for reply in replies), (
        "every message got its real answer too"
    )
    expected = (CONVERSATIONS, CONVERSATIONS * MESSAGES_EACH)
    assert wait_for_counts(env["DATABASE_URL"], expected) == expected
    assert sorted(turn_texts_per_touchpoint(env["DATABASE_URL"])) == [list(messages)] * CONVERSATIONS
