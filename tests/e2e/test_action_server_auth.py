"""The action server runs actions only for Rasa: a forged call without the shared secret stores nothing."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from bot.actionserver import is_authorised
from bot.devserver import Ports, Stack, latest_model, running_stack
from bot.privacy import pseudonymise
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port, stack_env

pytestmark = pytest.mark.e2e


def test_the_token_check_tells_missing_from_wrong() -> None:
    token = secrets.token_urlsafe(32)
    assert is_authorised(f"Bearer {token}", token) is True
    assert is_authorised(f"bearer {token}", token) is True
    assert is_authorised("Bearer " + token[:-1] + "x", token) is False
    assert is_authorised("Bearer ", token) is False
    assert is_authorised(token, token) is None, "the bare token is not the Bearer scheme"
    assert is_authorised(None, token) is None
    assert is_authorised("Bearer é€", token) is False, "non-ASCII input is compared, not a crash"


@pytest.fixture(scope="module")
def stack_and_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, str]]]:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    work = tmp_path_factory.mktemp("action_auth")
    env = stack_env(work, ACTION_SERVER_TOKEN=secrets.token_urlsafe(32))
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    with running_stack(ports, env, model=model, log_dir=work / "logs") as stack:
        yield stack, env


def forged_nps_call(sender: str) -> dict[str, object]:
    """What an attacker would post: action_nps_submit with a made-up score of 0."""
    return {
        "next_action": "action_nps_submit",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": {"nps_score": 0, "nps_reason": "vervalst", "journey_phase": "aftercare"},
            "latest_message": {"text": "vervalst", "intent": {"name": "thanks"}},
            "events": [{"event": "session_started", "timestamp": 1_700_000_000.0}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": None,
        },
    }


def nps_rows(database_url: str, sender: str, key: str) -> int:
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("touchpoints"):
                return 0
            return int(
                connection.execute(
                    text(
                        "SELECT COUNT(*) FROM touchpoints WHERE sender_key = :key AND nps_score IS NOT NULL"
                    ),
                    {"key": pseudonymise(sender, key)},
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong-token-wrong-token"}, 403),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
def test_a_forged_action_call_is_refused_and_stores_nothing(
    stack_and_env: tuple[Stack, dict[str, str]], headers: dict[str, str], status: int
) -> None:
    stack, env = stack_and_env
    sender = f"forged-{uuid.uuid4().hex[:8]}"
    response = httpx.post(f"{stack.action_url}/webhook", json=forged_nps_call(sender), headers=headers)
    assert response.status_code == status, response.text
    assert "vervalst" not in response.text, "nothing of the request is echoed"
    assert nps_rows(env["DATABASE_URL"], sender, env["PSEUDONYM_KEY"]) == 0
    assert httpx.get(f"{stack.action_url}/actions", headers=headers).status_code == status
    assert httpx.get(f"{stack.action_url}/health").status_code == 200, "the health check stays open"


def test_rasa_calls_the_actions_with_the_token(stack_and_env: tuple[Stack, dict[str, str]]) -> None:
    stack, _ = stack_and_env
    sender = f"auth-{uuid.uuid4().hex[:8]}"
    replies = httpx.post(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": "Hoeveel kan ik besparen met zonnepanelen?"},
        timeout=30,
    ).json()
    assert replies and any(reply.get("text") for reply in replies), replies
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker", params={"token": stack.token}, timeout=30
    ).json()
    assert tracker["slots"]["journey_phase"], (
        "action_journey_reply ran on the action server and set the phase"
    )


def test_the_right_token_is_all_it_takes(stack_and_env: tuple[Stack, dict[str, str]]) -> None:
    stack, env = stack_and_env
    sender = f"token-{uuid.uuid4().hex[:8]}"
    response = httpx.post(
        f"{stack.action_url}/webhook",
        json=forged_nps_call(sender),
        headers={"Authorization": f"Bearer {stack.action_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert nps_rows(env["DATABASE_URL"], sender, env["PSEUDONYM_KEY"]) == 1


def test_the_tokens_are_not_on_any_command_line(stack_and_env: tuple[Stack, dict[str, str]]) -> None:
    stack, _ = stack_and_env
    command_lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command_lines.append(cmdline.read_bytes().decode("utf-8", "replace"))
        except OSError:
            continue  # the process ended meanwhile
    assert any("bot.rasaserver" in line for line in command_lines), "the Rasa server is found"
    assert not [line for line in command_lines if stack.token in line or stack.action_token in line]
