"""Fixtures of the connector tests: a local Graph/Twilio API stand-in and a served WhatsApp channel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels.fake_graph import FakeGraphServer
from tests.channels.sanic_server import Recorder, serve
from tests.channels.whatsapp_webhook import CONVERSATION_KEY, channel


@pytest.fixture
def conversation_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Channels built from credentials read CONVERSATION_KEY from the environment, as in Rasa.

    Not autouse: the e2e tests here must see the environment the running Rasa was started with.
    """
    monkeypatch.setenv("CONVERSATION_KEY", CONVERSATION_KEY)
    return CONVERSATION_KEY


@pytest.fixture(autouse=True)
def inbox_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The webhook channels keep their inbox in DATABASE_URL: a fresh SQLite file per test, never var/."""
    url = f"sqlite:///{tmp_path / 'inbox.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def graph() -> Iterator[FakeGraphServer]:
    with FakeGraphServer() as server:
        yield server


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def url(graph: FakeGraphServer, recorder: Recorder) -> Iterator[str]:
    """Base URL of a WhatsAppInput served like Rasa serves it, replying to ``graph``."""
    with serve(channel(graph), recorder) as base:
        yield base
