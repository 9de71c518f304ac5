"""The fixed socket.io channel with a real socket.io client: replies reach the session room."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput

from bot.channels.socketio import FixedSocketIOInput
from tests.channels.sanic_server import Recorder, serve


async def answer(message: UserMessage) -> None:
    await message.output_channel.send_text_with_buttons(
        message.sender_id,
        f"Je zei: {message.text}",
        [{"title": "Offerte", "payload": "/quote_request"}],
    )


async def conversation(base: str, session_id: str, text: str) -> tuple[str, list[dict[str, Any]]]:
    """Connect like rasa-webchat: session_request, then user_uttered; collect the bot's replies."""
    client = socketio.AsyncClient()
    confirmed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    replies: list[dict[str, Any]] = []
    replied = asyncio.Event()

    @client.on("session_confirm")
    async def on_confirm(data: Any) -> None:
        confirmed.set_result(data)

    @client.on("bot_uttered")
    async def on_reply(data: dict[str, Any]) -> None:
        replies.append(data)
        replied.set()

    await client.connect(base, socketio_path="/socket.io", transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": session_id})
        confirmed_id = await asyncio.wait_for(confirmed, 5)
        await client.emit(
            "user_uttered", {"message": text, "session_id": confirmed_id, "customData": {"language": "nl"}}
        )
        await asyncio.wait_for(replied.wait(), 5)
    finally:
        await client.disconnect()
    return confirmed_id, replies


def test_replies_reach_the_widget_with_session_persistence() -> None:
    recorder = Recorder(answer)
    channel = FixedSocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData", "socketio_path": "/socket.io"}
    )
    assert isinstance(channel, FixedSocketIOInput) and channel.name() == "socketio"
    with serve(channel, recorder) as base:
        session_id, replies = asyncio.run(conversation(base, "sessie-123", "Hoeveel kan ik besparen?"))
    assert session_id == "sessie-123"
    assert replies == [
        {
            "text": "Je zei: Hoeveel kan ik besparen?",
            "quick_replies": [
                {"content_type": "text", "title": "Offerte", "payload": "/quote_request"}
            ],
        }
    ]
    [message] = recorder.messages
    assert message.sender_id == "sessie-123" and message.input_channel == "socketio"
    assert message.metadata == {"language": "nl"}


def test_a_session_id_is_made_when_the_widget_sends_none() -> None:
    channel = FixedSocketIOInput(session_persistence=True)
    with serve(channel, Recorder(answer)) as base:
        session_id, replies = asyncio.run(conversation(base, "", "Hallo"))
    assert len(session_id) == 32 and replies


def test_only_the_session_request_handler_is_replaced() -> None:
    channel = FixedSocketIOInput(session_persistence=True)
    original = SocketIOInput(session_persistence=True)
    channel.blueprint(Recorder())
    original.blueprint(Recorder())
    assert channel.sio is not None and original.sio is not None
    ours, theirs = channel.sio.handlers["/"], original.sio.handlers["/"]
    assert set(ours) == set(theirs)
    assert ours["session_request"].__module__ == "bot.channels.socketio"
    assert all(
        ours[event].__module__ == "rasa.core.channels.socketio"
        for event in ours
        if event != "session_request"
    )
