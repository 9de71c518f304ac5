"""What the live-handover tests share: content with office hours open or closed today, Chatwoot's
settings pointing at the fake, and the channels served in a real Sanic server the way Rasa mounts
them (rasa.core.channels.channel.register), with a stand-in for Rasa's agent around real stores."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from actions import handoff as handoff_actions
from actions import runtime
from bot.settings import PROJECT_ROOT
from tests.channels.sanic_server import run_app
from tests.handoff.fake_chatwoot import ACCOUNT, INBOX, TOKEN

WEBHOOK_TOKEN = "chatwoot-webhook-token-" + "w" * 16
DOMAIN = Domain.load(PROJECT_ROOT / "domain.yml")


def content_dir(tmp_path: Path, *, open_today: bool) -> Path:
    """The project's journeys with office hours all day, every day; closed today if not ``open_today``."""
    target = tmp_path / "journeys"
    shutil.copytree(PROJECT_ROOT / "journeys", target)
    common = target / "common.yml"
    data = yaml.safe_load(common.read_text(encoding="utf-8"))
    hours = data["handoff"]
    hours["office_hours"] = {
        day: "00:00-24:00"
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }
    today = datetime.now(ZoneInfo(hours["timezone"])).date().isoformat()
    hours["closed_dates"] = [] if open_today else [today]
    common.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def use_chatwoot(monkeypatch: pytest.MonkeyPatch, url: str, *, secret: str = "") -> None:
    for name, value in {
        "CHATWOOT_URL": url,
        "CHATWOOT_API_TOKEN": TOKEN,
        "CHATWOOT_ACCOUNT_ID": str(ACCOUNT),
        "CHATWOOT_INBOX_ID": str(INBOX),
        "CHATWOOT_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "CHATWOOT_WEBHOOK_SECRET": secret,
        "CHATWOOT_TIMEOUT": "2",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    handoff_actions.reset()


class StandInAgent:
    """Rasa's agent as the channels see it: real tracker and lock stores, and handle_message recorded."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(DOMAIN)
        self.lock_store = InMemoryLockStore()
        self.messages: list[UserMessage] = []
        self._changed = threading.Condition()

    async def handle_message(self, message: UserMessage) -> None:
        with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[UserMessage]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages) < count and (remaining := deadline - time.monotonic()) > 0:
                self._changed.wait(remaining)
            return list(self.messages)


@contextmanager
def serve_channels(
    channels: list[InputChannel], agent: StandInAgent
) -> Iterator[tuple[str, asyncio.AbstractEventLoop]]:
    """Serve the channels under /webhooks/ in one app; yields its base URL and its event loop."""
    Sanic.test_mode = True
    app = Sanic(f"handover_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    register(channels, app, route="/webhooks/")
    app.ctx.agent = agent
    with run_app(app) as served:
        yield served


def on_loop(loop: asyncio.AbstractEventLoop, coroutine: Any, timeout: float = 10.0) -> Any:
    """Run a coroutine on the server's loop (the stores belong to it) and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)
