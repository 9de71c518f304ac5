"""WhatsApp and Twilio through the durable inbox: stored before the 200, replayed once after a crash."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.inbox import InboxStore, InboxWorker
from bot.settings import PROJECT_ROOT
from tests.channels import test_twilio as twilio
from tests.channels.fake_graph import FakeGraphServer
from tests.channels.sanic_server import Recorder, serve
from tests.channels.whatsapp_webhook import CONVERSATION_KEY, channel, envelope, post, text
from tests.conftest import free_port

UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/none"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def inbox(database_url: str, **worker: Any) -> InboxWorker:
    clock = worker.pop("clock", None)
    store = InboxStore(database_url, CONVERSATION_KEY, **({"clock": clock} if clock else {}))
    return InboxWorker(store, "test message", **worker)


def settle(base: str, recorder: Recorder, seen: int) -> list[UserMessage]:
    """Send a sentinel and wait for it (generously: the first message also creates the schema)."""
    assert post(base, envelope(text("sentinel"))).status_code == 200
    messages = recorder.wait_for(seen + 1, timeout=30)
    assert messages[-1].text == "sentinel"
    return messages[:-1]


def sent(words: str, seconds_ago: float) -> dict[str, Any]:
    message = text(words)
    message["timestamp"] = str(int(time.time() - seconds_ago))
    return message


@contextmanager
def channel_process(database_url: str, graph: FakeGraphServer, log: Path, hang: bool) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "INBOX_HANG": "1" if hang else "0", "PYTHONPATH": str(PROJECT_ROOT)}
    command = [
        sys.executable,
        "-m",
        "tests.channels.inbox_server",
        database_url,
        str(port),
        str(log),
        graph.url,
    ]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/webhooks/whatsapp/", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the channel process did not start"
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


def logged(log: Path, at_least: int, timeout: float = 20) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= at_least or time.monotonic() > deadline:
            return [json.loads(line)["text"] for line in lines]
        time.sleep(0.1)


def test_a_crash_between_acknowledge_and_reply_replays_each_message_once(
    graph: FakeGraphServer, inbox_database: str, tmp_path: Path
) -> None:
    first_run, second_run = tmp_path / "first.log", tmp_path / "second.log"
    with channel_process(inbox_database, graph, first_run, hang=True) as base:
        for words in ("hang eerst", "twee", "drie"):
            assert post(base, envelope(text(words))).status_code == 200
        assert logged(first_run, 1) == ["hang eerst"]
        # SIGKILL: no shutdown code runs; three messages were acknowledged, none answered.
    with channel_process(inbox_database, graph, second_run, hang=False) as base:
        assert logged(second_run, 3) == ["hang eerst", "twee", "drie"]
        assert post(base, envelope(text("sentinel"))).status_code == 200
        assert logged(second_run, 4)[3:] == ["sentinel"]
    store = InboxStore(inbox_database, CONVERSATION_KEY)
    try:
        assert store.counts() == {"done": 4}
    finally:
        store.close()


def test_a_message_cut_off_at_shutdown_is_replayed_at_the_next_start(
    graph: FakeGraphServer, inbox_database: str
) -> None:
    async def stalls(message: UserMessage) -> None:
        if message.text == "hang even":
            await asyncio.sleep(3600)

    stalled = Recorder(stalls)
    with serve(channel(graph, inbox=inbox(inbox_database, drain_seconds=0.3)), stalled) as base:
        assert post(base, envelope(text("hang even"))).status_code == 200
        stalled.wait_for(1, timeout=30)
    restarted = Recorder()
    with serve(channel(graph, inbox=inbox(inbox_database)), restarted) as base:
        assert [m.text for m in settle(base, restarted, 1)] == ["hang even"]
    assert [m.text for m in stalled.messages] == ["hang even"]


def test_shutdown_waits_for_the_messages_in_hand(graph: FakeGraphServer, inbox_database: str) -> None:
    async def slow(message: UserMessage) -> None:
        await asyncio.sleep(0.2)

    recorder = Recorder(slow)
    worker = inbox(inbox_database, drain_seconds=30)
    with serve(channel(graph, inbox=worker), recorder) as base:
        for number in range(5):
            assert post(base, envelope(text(f"bericht {number}"))).status_code == 200
    assert [m.text for m in recorder.messages] == [f"bericht {number}" for number in range(5)]
    assert worker.store.counts() == {"done": 5}


def test_messages_that_arrive_out_of_order_are_handled_in_the_order_sent(
    graph: FakeGraphServer, inbox_database: str
) -> None:
    gate = threading.Event()

    async def held(message: UserMessage) -> None:
        while message.text == "eerste" and not gate.is_set():
            await asyncio.sleep(0.01)

    recorder = Recorder(held)
    with serve(channel(graph, inbox=inbox(inbox_database)), recorder) as base:
        assert post(base, envelope(sent("eerste", 60))).status_code == 200
        recorder.wait_for(1, timeout=30)
        assert post(base, envelope(sent("later verstuurd", 10))).status_code == 200
        assert post(base, envelope(sent("eerder verstuurd", 20))).status_code == 200
        gate.set()
        handled = settle(base, recorder, 3)
    assert [m.text for m in handled] == ["eerste", "eerder verstuurd", "later verstuurd"]


def test_a_redelivery_a_day_later_is_recognised(graph: FakeGraphServer, inbox_database: str) -> None:
    clock = Clock()
    recorder = Recorder()
    message = text("Wat kost een warmtepomp?")
    with serve(channel(graph, inbox=inbox(inbox_database, clock=clock)), recorder) as base:
        assert post(base, envelope(message)).status_code == 200
        assert len(recorder.wait_for(1, timeout=30)) == 1
        clock.now += timedelta(days=1)
        assert post(base, envelope(message)).status_code == 200
        assert [m.text for m in settle(base, recorder, 1)] == ["Wat kost een warmtepomp?"]


def test_a_message_sent_over_a_week_ago_is_recorded_but_not_answered(
    graph: FakeGraphServer, inbox_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    worker = inbox(inbox_database)
    recorder = Recorder()
    with serve(channel(graph, inbox=worker), recorder) as base:
        assert post(base, envelope(sent("van vorige week", 8 * 24 * 3600))).status_code == 200
        assert settle(base, recorder, 0) == []
    assert worker.store.counts() == {"stale": 1, "done": 1}
    assert "sent longer ago than the inbox remembers" in caplog.text


def test_a_failed_attempt_is_retried_before_the_next_message(
    graph: FakeGraphServer, inbox_database: str
) -> None:
    attempts: list[str] = []

    async def fails_once(message: UserMessage) -> None:
        attempts.append(message.text or "")
        if message.text == "faalt eerst" and attempts.count("faalt eerst") == 1:
            raise RuntimeError("Rasa had a bad moment")

    recorder = Recorder(fails_once)
    worker = inbox(inbox_database, retry_seconds=0.2, sweep_seconds=0.1)
    with serve(channel(graph, inbox=worker), recorder) as base:
        assert post(base, envelope(sent("faalt eerst", 2))).status_code == 200
        assert post(base, envelope(sent("daarna", 1))).status_code == 200
        recorder.wait_for(3, timeout=30)
    assert attempts == ["faalt eerst", "faalt eerst", "daarna"]
    assert worker.store.counts() == {"done": 2}


def test_an_inbox_that_cannot_store_refuses_so_the_provider_delivers_again(
    graph: FakeGraphServer, inbox_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    message = envelope(text("Is er iemand?"))
    with serve(channel(graph, inbox=inbox(UNREACHABLE_DATABASE)), Recorder()) as base:
        assert post(base, message).status_code == 503
    with serve(twilio.channel(graph, inbox=inbox(UNREACHABLE_DATABASE)), Recorder()) as base:
        assert twilio.post(base, twilio.sms("Is er iemand?")).status_code == 503
    assert "the inbox cannot store it" in caplog.text
    recorder = Recorder()
    with serve(channel(graph, inbox=inbox(inbox_database)), recorder) as base:  # Meta tries again
        assert post(base, message).status_code == 200
        assert [m.text for m in recorder.wait_for(1, timeout=30)] == ["Is er iemand?"]


def test_a_twilio_retry_with_the_same_message_sid_is_handled_once_even_after_a_restart(
    graph: FakeGraphServer,
) -> None:
    form = twilio.sms("Wanneer komt de monteur?")
    first, restarted = Recorder(), Recorder()
    with serve(twilio.channel(graph), first) as base:
        assert [twilio.post(base, form).status_code for _ in range(2)] == [204, 204]
    with serve(twilio.channel(graph), restarted) as base:
        assert twilio.post(base, form).status_code == 204
        assert twilio.post(base, twilio.sms("sentinel")).status_code == 204
        restarted.wait_for(1, timeout=30)
    assert [m.text for m in first.messages] == ["Wanneer komt de monteur?"]
    assert first.messages[0].message_id == form["MessageSid"]
    assert [m.text for m in restarted.messages] == ["sentinel"]
