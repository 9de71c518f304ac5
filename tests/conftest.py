"""Shared fixtures: the running assistant (both servers, once per test run) on loopback ports."""

from __future__ import annotations

import secrets
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.devserver import Ports, latest_model, running_stack
from bot.settings import PROJECT_ROOT
from tests.channels.fake_graph import FakeGraphServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def stack_env(work: Path, **overrides: str) -> dict[str, str]:
    """Every variable the servers and channels read, with fresh secrets and databases under `work`."""
    env = {
        "RASA_AUTH_TOKEN": secrets.token_urlsafe(24),
        "PSEUDONYM_KEY": secrets.token_urlsafe(24),
        "CONVERSATION_KEY": secrets.token_urlsafe(24),
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
        "SOCKETIO_JWT_KEY": secrets.token_urlsafe(24),
        "DATABASE_URL": f"sqlite:///{work / 'journey.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{work / 'rasa_tracker.db'}",
        "SPOOL_DIR": str(work / "spool"),
        "JOURNEYS_DIR": str(PROJECT_ROOT / "journeys"),
        "REDIS_URL": "",
        "RETENTION_DAYS": "180",
        "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(16),
        "WHATSAPP_APP_SECRET": secrets.token_urlsafe(24),
        "WHATSAPP_ACCESS_TOKEN": secrets.token_urlsafe(24),
        "WHATSAPP_PHONE_NUMBER_ID": "123456789012345",
        "WHATSAPP_API_BASE": "http://127.0.0.1:9/unused",
        "TWILIO_ACCOUNT_SID": "ACtest",
        "TWILIO_AUTH_TOKEN": secrets.token_urlsafe(24),
        "TWILIO_NUMBER": "+3197000000000",
        "TWILIO_PUBLIC_URL": "",
    }
    return {**env, **overrides}


@dataclass
class RunningBot:
    """The assistant as started by `make run`, on free ports, with its own databases and journeys copy."""

    rest_url: str
    socket_url: str
    web_url: str
    token: str
    project_dir: Path
    journeys_dir: Path
    database_url: str
    tracker_store_url: str
    env: dict[str, str]
    fake_graph: FakeGraphServer
    log_dir: Path

    def say(
        self, sender: str, text: str, metadata: dict[str, object] | None = None
    ) -> list[dict[str, object]]:
        """Send one message over the REST channel and return the bot's replies."""
        body: dict[str, object] = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = httpx.post(f"{self.rest_url}/webhooks/rest/webhook", json=body, timeout=30)
        response.raise_for_status()
        return list(response.json())

    def tracker(self, sender: str) -> dict[str, object]:
        response = httpx.get(
            f"{self.rest_url}/conversations/{sender}/tracker",
            params={"token": self.token},
            timeout=30,
        )
        response.raise_for_status()
        return dict(response.json())

    def slot(self, sender: str, name: str) -> object:
        slots = self.tracker(sender)["slots"]
        assert isinstance(slots, dict)
        return slots.get(name)


@contextmanager
def started_bot(
    work: Path, log_dir: Path = PROJECT_ROOT / "tests" / "output" / "logs"
) -> Iterator[RunningBot]:
    """The assistant as `make run` starts it, on free ports, with its own databases and journeys copy."""
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    journeys_dir = work / "journeys"
    shutil.copytree(PROJECT_ROOT / "journeys", journeys_dir)
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    with FakeGraphServer() as fake_graph:
        env = stack_env(work, WHATSAPP_API_BASE=fake_graph.url, JOURNEYS_DIR=str(journeys_dir))
        with running_stack(ports, env, model=model, log_dir=log_dir) as stack:
            yield RunningBot(
                rest_url=stack.rasa_url,
                socket_url=stack.rasa_url,
                web_url=f"{stack.web_url}?socket={stack.rasa_url}",
                token=stack.token,
                project_dir=PROJECT_ROOT,
                journeys_dir=journeys_dir,
                database_url=env["DATABASE_URL"],
                tracker_store_url=env["TRACKER_STORE_URL"],
                env=env,
                fake_graph=fake_graph,
                log_dir=log_dir,
            )


@pytest.fixture(scope="session")
def running_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """One assistant shared by the end-to-end tests of a run."""
    with started_bot(tmp_path_factory.mktemp("running_bot")) as bot:
        yield bot


@pytest.fixture
def postgres_url() -> str:
    """The local PostgreSQL server (trust auth), or a skip that says why."""
    if not service_reachable("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    return "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def redis_url() -> str:
    if not service_reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"
