"""The socket.io channel with a real socket.io client: rooms, per-socket sessions, limits and JWT."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt
import pytest
import socketio
from rasa.core.channels.channel import UserMessage
from sanic.exceptions import ServerError

from bot.channels.limits import MAX_BODY_BYTES, MessageLimit
from bot.channels.socketio import FixedSocketIOInput
from tests.channels.sanic_server import Recorder, serve

JWT_KEY = "jwt-key-for-the-tests-32-bytes-long"


async def answer(message: UserMessage) -> None:
    await message.output_channel.send_text_with_buttons(
        message.sender_id,
        f"Je zei: {message.text}",
        [{"title": "Offerte", "payload": "/quote_request"}],
    )


def token(**claims: Any) -> str:
    return jwt.encode({"exp": int(time.time()) + 300, **claims}, JWT_KEY, algorithm="HS256")


class Widget:
    """A socket.io client that behaves like rasa-webchat: session_request, then user_uttered."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: list[dict[str, Any]] = []
        self.confirmed: asyncio.Queue[str] = asyncio.Queue()
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("bot_uttered", self._reply)

    async def _reply(self, data: dict[str, Any]) -> None:
        self.replies.append(data)

    async def connect(self, base: str, auth: dict[str, str] | None = None, query: str = "") -> None:
        await self.client.connect(base + query, socketio_path="/socket.io", transports=["polling"], auth=auth)

    async def session(self, session_id: str) -> str:
        await self.client.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.confirmed.get(), 5)

    async def say(
        self, session_id: str, text: str, replies: int = 1, wait: float = 15, **extra: Any
    ) -> list[dict[str, Any]]:
        before = len(self.replies)
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id, **extra})
        deadline = time.monotonic() + wait
        while len(self.replies) < before + replies and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.replies[before:]


async def conversation(
    base: str, session_id: str, text: str, replies: int = 1, wait: float = 15, **connect: Any
) -> tuple[str, list[dict[str, Any]]]:
    widget = Widget()
    await widget.connect(base, **connect)
    try:
        confirmed = await widget.session(session_id)
        answered = await widget.say(confirmed, text, replies, wait, customData={"language": "nl"})
    finally:
        await widget.client.disconnect()
    return confirmed, answered


def channel(**kwargs: Any) -> FixedSocketIOInput:
    return FixedSocketIOInput(session_persistence=True, metadata_key="customData", **kwargs)


def test_replies_reach_the_widget_with_session_persistence() -> None:
    recorder = Recorder(answer)
    built = FixedSocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData", "socketio_path": "/socket.io"}
    )
    assert isinstance(built, FixedSocketIOInput) and built.name() == "socketio"
    with serve(built, recorder) as base:
        session_id, replies = asyncio.run(conversation(base, "sessie-123", "Hoeveel kan ik besparen?"))
    assert session_id == "sessie-123"
    assert replies == [
        {
            "text": "Je zei: Hoeveel kan ik besparen?",
            "quick_replies": [{"content_type": "text", "title": "Offerte", "payload": "/quote_request"}],
        }
    ]
    [message] = recorder.messages
    assert message.sender_id == "web:sessie-123" and message.input_channel == "socketio"
    assert message.metadata == {"language": "nl"}


class CoroutineRoomsServer(socketio.AsyncServer):
    """python-socketio from 5.10 on: ``enter_room`` is a coroutine, which Rasa 3.6 calls without ``await``."""

    async def enter_room(self, sid: str, room: str, namespace: str | None = None) -> None:  # type: ignore[override]
        super().enter_room(sid, room, namespace=namespace)


@pytest.mark.parametrize("fixed", [True, False], ids=["ours", "rasa-stock"])
def test_with_a_coroutine_enter_room_only_the_fixed_channel_delivers_replies(
    fixed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rasa.core.channels.socketio as rasa_socketio

    from bot.channels import socketio as ours

    monkeypatch.setattr(ours if fixed else rasa_socketio, "AsyncServer", CoroutineRoomsServer)
    settings = {"session_persistence": True, "socketio_path": "/socket.io"}
    built = (FixedSocketIOInput if fixed else rasa_socketio.SocketIOInput).from_credentials(settings)
    recorder = Recorder(answer)
    with serve(built, recorder) as base:
        _, replies = asyncio.run(conversation(base, "sessie-9", "Hallo", wait=3))
    assert len(recorder.messages) == 1
    assert [reply.get("text") for reply in replies] == (["Je zei: Hallo"] if fixed else [])


@pytest.mark.parametrize("requested", ["", "a" * 65, "../etc", "web:x"])
def test_a_missing_or_odd_session_id_gets_a_new_one(requested: str) -> None:
    with serve(channel(), Recorder(answer)) as base:
        session_id, replies = asyncio.run(conversation(base, requested, "Hallo"))
    assert len(session_id) == 32 and session_id != requested and replies


def test_a_socket_cannot_speak_in_another_sockets_session() -> None:
    recorder = Recorder(answer)

    async def intrude(base: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        victim, intruder = Widget(), Widget()
        await victim.connect(base)
        await intruder.connect(base)
        await victim.session("slachtoffer")
        await intruder.session("eigen-sessie")
        stolen = await intruder.say("slachtoffer", "Wat heb ik gekocht?")
        own = await intruder.say("eigen-sessie", "Hallo")
        await victim.client.disconnect()
        await intruder.client.disconnect()
        return stolen, own + victim.replies

    with serve(channel(), recorder) as base:
        stolen, later = asyncio.run(intrude(base))
    assert stolen == [] and [r["text"] for r in later] == ["Je zei: Hallo"]
    assert [m.sender_id for m in recorder.messages] == ["web:eigen-sessie"]


def test_bad_events_are_ignored_and_the_socket_keeps_working(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder(answer)

    async def misbehave(base: str) -> list[dict[str, Any]]:
        widget = Widget()
        await widget.connect(base)
        await widget.client.emit("session_request")  # no data at all
        await asyncio.wait_for(widget.confirmed.get(), 5)
        await widget.client.emit("session_request", "geen dict")
        session_id = await asyncio.wait_for(widget.confirmed.get(), 5)
        await widget.client.emit("user_uttered")
        for data in (None, [], "tekst", {"message": 5, "session_id": session_id}, {"session_id": session_id}):
            await widget.client.emit("user_uttered", data)
        replies = await widget.say(session_id, "Hallo", customData="{niet: json")
        await widget.client.disconnect()
        return replies

    with serve(channel(), recorder) as base:
        replies = asyncio.run(misbehave(base))
    assert [r["text"] for r in replies] == ["Je zei: Hallo"]
    assert [(m.text, m.metadata) for m in recorder.messages] == [("Hallo", {})]
    assert not [record for record in caplog.records if _a_failure_of_ours(record)], caplog.text


def _a_failure_of_ours(record: logging.LogRecord) -> bool:
    """An error with a traceback, except Sanic answering a long poll whose client already left (the
    widget's disconnect races its pending GET under load: Sanic's transport is gone, not our code),
    and Sanic's "Handler produced no response" that follows it for the same request."""
    if record.exc_info is None and "Task exception" not in record.getMessage():
        return False
    error = record.exc_info[1] if record.exc_info else None
    gone = isinstance(error, AttributeError) and "is_closing" in str(error)
    no_response = isinstance(error, ServerError) and "Handler produced no response" in str(error)
    return not (record.name.startswith("sanic") and (gone or no_response))


def test_a_long_message_is_cut_and_the_widget_told_first() -> None:
    recorder = Recorder(answer)
    with serve(channel(limit=MessageLimit(max_chars=20)), recorder) as base:
        _, replies = asyncio.run(conversation(base, "lang", "x" * 500, replies=2))
    notice, reply = replies[0]["text"], replies[-1]["text"]
    assert "alleen het begin" in notice and reply == "Je zei: " + "x" * 20
    assert recorder.messages[0].text == "x" * 20


def test_a_polling_body_over_64_kb_is_refused_by_the_servers_limit() -> None:
    """The channel lowers Sanic's REQUEST_MAX_SIZE (100 MB by default) for the whole server."""
    with serve(channel(), Recorder(answer)) as base:
        opened = httpx.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=5)
        sid = opened.text.split('"sid":"')[1].split('"')[0]
        url = f"{base}/socket.io/?EIO=4&transport=polling&sid={sid}"
        small = httpx.post(url, content=b"40", timeout=5)  # connect to the namespace
        big = httpx.post(url, content=b"4" + b"x" * MAX_BODY_BYTES, timeout=5)
    assert (small.status_code, big.status_code) == (200, 413)


@pytest.mark.parametrize(
    "connect",
    [
        {},
        {"auth": {"token": "geen.jwt.token"}},
        {"auth": {"token": jwt.encode({"exp": int(time.time()) + 60}, "another-key-of-32-bytes-length!!")}},
        {"auth": {"token": jwt.encode({"exp": int(time.time()) - 60}, JWT_KEY)}},
        {"auth": {"token": jwt.encode({"sub": "zonder-exp"}, JWT_KEY)}},
    ],
    ids=["none", "garbage", "other-key", "expired", "no-exp"],
)
def test_with_a_jwt_key_a_socket_without_a_valid_token_is_refused(
    connect: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder(answer)
    with (
        serve(channel(jwt_key=JWT_KEY), recorder) as base,
        pytest.raises(socketio.exceptions.ConnectionError),
    ):
        asyncio.run(conversation(base, "sessie", "Hallo", **connect))
    assert recorder.messages == []
    # python-engineio may log "Handler produced no response" for the refused socket's pending poll
    assert not [record for record in caplog.records if record.exc_info and record.name.startswith("bot.")]


@pytest.mark.parametrize("how", ["auth", "query"])
def test_a_valid_token_lets_the_widget_in_and_its_sub_fixes_the_session(how: str) -> None:
    recorder = Recorder(answer)
    signed = token(sub="door-de-website")
    connect: dict[str, Any] = {"auth": {"token": signed}} if how == "auth" else {"query": f"?token={signed}"}
    with serve(channel(jwt_key=JWT_KEY), recorder) as base:
        session_id, replies = asyncio.run(conversation(base, "zelf-gekozen", "Hallo", **connect))
    assert session_id == "door-de-website" and replies
    assert [m.sender_id for m in recorder.messages] == ["web:door-de-website"]


def test_later_events_reach_the_room_of_the_conversation() -> None:
    built = channel()

    async def remind(base: str) -> list[dict[str, Any]]:
        widget = Widget()
        await widget.connect(base)
        await widget.session("herinnering")
        output = built.get_output_channel()
        assert output is not None
        await output.send_text_message("web:herinnering", "Nog vragen?")
        deadline = time.monotonic() + 5
        while not widget.replies and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await widget.client.disconnect()
        return widget.replies

    with serve(built, Recorder(answer)) as base:
        assert asyncio.run(remind(base)) == [{"text": "Nog vragen?"}]
