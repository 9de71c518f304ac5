"""Bursts on one conversation in the REST and socket.io channels: in order, bounded, nothing silent."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.bursts import ONE_MOMENT_TEXT, ConversationTurns
from bot.channels.rest import GuardedRestInput
from bot.settings import SettingsError, burst_max_waiting, burst_wait_seconds
from tests.channels.sanic_server import Recorder, serve
from tests.channels.test_socketio import Widget
from tests.channels.test_socketio import channel as socketio_channel

REST_PATH = "/webhooks/rest/webhook"


def held_until(gate: threading.Event, held: str, pause: float = 0.0) -> Callable[[UserMessage], object]:
    """An agent stand-in: answers every message, the one with text ``held`` only once ``gate`` is set."""

    async def reply(message: UserMessage) -> None:
        while message.text == held and not gate.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(pause)
        await message.output_channel.send_text_message(message.sender_id, f"antwoord op {message.text}")

    return reply


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_messages_of_one_conversation_reach_rasa_in_arrival_order() -> None:
    gate = threading.Event()
    rest = GuardedRestInput(turns=ConversationTurns(max_waiting=50, wait_seconds=60))
    recorder = Recorder(held_until(gate, "bericht 0"))
    with serve(rest, recorder) as base, httpx.Client(base_url=base, timeout=60) as client:
        results: list[httpx.Response] = []
        threads = []
        for number in range(10):
            body = {"sender": "klant-1", "message": f"bericht {number}"}
            thread = threading.Thread(target=lambda b=body: results.append(client.post(REST_PATH, json=b)))
            thread.start()
            threads.append(thread)
            wait_until(lambda n=number: rest.turns.waiting("klant-1") == n + 1)  # it has its place in line
        gate.set()
        for thread in threads:
            thread.join(60)
    assert [m.text for m in recorder.messages] == [f"bericht {number}" for number in range(10)]
    assert sorted(r.json()[0]["text"] for r in results) == sorted(
        f"antwoord op bericht {n}" for n in range(10)
    )


def test_a_message_that_cannot_have_its_turn_in_time_is_refused_with_429() -> None:
    gate = threading.Event()
    rest = GuardedRestInput(turns=ConversationTurns(max_waiting=50, wait_seconds=0.3))
    recorder = Recorder(held_until(gate, "traag"))
    with serve(rest, recorder) as base, httpx.Client(base_url=base, timeout=60) as client:
        first: list[httpx.Response] = []
        thread = threading.Thread(
            target=lambda: first.append(
                client.post(REST_PATH, json={"sender": "klant-2", "message": "traag"})
            )
        )
        thread.start()
        wait_until(lambda: len(recorder.messages) == 1)
        refused = client.post(REST_PATH, json={"sender": "klant-2", "message": "ongeduldig"})
        other = client.post(REST_PATH, json={"sender": "klant-3", "message": "ander gesprek"})
        gate.set()
        thread.join(60)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert "took longer than 0.3 s" in refused.json()["error"] and refused.json()["retry_after"] == 1
    assert other.status_code == 200 and other.json()[0]["text"] == "antwoord op ander gesprek"
    assert first[0].status_code == 200
    assert [m.text for m in recorder.messages] == [
        "traag",
        "ander gesprek",
    ]  # the refused one never reached Rasa


def test_a_burst_of_100_is_answered_or_refused_never_lost() -> None:
    rest = GuardedRestInput(turns=ConversationTurns(max_waiting=20, wait_seconds=5))
    recorder = Recorder(held_until(threading.Event(), "", pause=0.01))

    async def burst(base: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.post(REST_PATH, json={"sender": "klant-4", "message": f"tik {n}"})
                    for n in range(100)
                )
            )

    with serve(rest, recorder) as base:
        responses = asyncio.run(burst(base))
    answered = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(answered) + len(refused) == 100 and answered and refused
    assert all(r.json() and r.json()[0]["text"].startswith("antwoord op tik ") for r in answered)
    assert all("too many messages at once" in r.json()["error"] for r in refused)
    handled = [m.text for m in recorder.messages]
    assert sorted(handled) == sorted(r.json()[0]["text"].removeprefix("antwoord op ") for r in answered)
    assert rest.turns.waiting("klant-4") == 0


def test_socketio_a_slow_turn_gets_one_moment_and_is_answered_afterwards() -> None:
    gate = threading.Event()
    widget_channel = socketio_channel(turns=ConversationTurns(max_waiting=50, wait_seconds=0.3))
    recorder = Recorder(held_until(gate, "eerste"))

    async def chat(base: str) -> list[str]:
        widget = Widget()
        await widget.connect(base)
        try:
            session = await widget.session("burst-sessie")
            await widget.client.emit("user_uttered", {"message": "eerste", "session_id": session})
            await widget.say(session, "tweede", replies=1)  # the notice, while "eerste" still holds the turn
            gate.set()
            await widget.say(session, "derde", replies=3)
            return [reply["text"] for reply in widget.replies]
        finally:
            await widget.client.disconnect()

    with serve(widget_channel, recorder) as base:
        texts = asyncio.run(chat(base))
    assert texts[0] == ONE_MOMENT_TEXT
    assert texts[1:] == ["antwoord op eerste", "antwoord op tweede", "antwoord op derde"]
    assert [m.text for m in recorder.messages] == ["eerste", "tweede", "derde"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("BURST_MAX_WAITING", "0"), ("BURST_MAX_WAITING", "veel"), ("BURST_WAIT_SECONDS", "-1")],
)
def test_burst_settings_are_checked(name: str, value: str) -> None:
    reader = burst_max_waiting if name == "BURST_MAX_WAITING" else burst_wait_seconds
    with pytest.raises(SettingsError, match=name):
        reader({name: value})
    assert burst_max_waiting({}) == 20 and burst_wait_seconds({"BURST_WAIT_SECONDS": "2.5"}) == 2.5
