"""Helpers of the edge e2e tests: WhatsApp webhooks and socket.io widgets against the running bot."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any

import httpx
import socketio

from bot.conversation_ids import conversation_id
from bot.settings import conversation_key
from tests.conftest import RunningBot


def new_phone() -> str:
    return "316" + "".join(secrets.choice("0123456789") for _ in range(8))


def whatsapp_conversation(bot: RunningBot, phone: str) -> str:
    """The conversation id Rasa keeps for ``phone``, with the key the Rasa process was given."""
    return conversation_id("whatsapp", phone, conversation_key({**os.environ, **bot.env}))


def whatsapp_text(bot: RunningBot, phone: str, text: str) -> bytes:
    message = {"from": phone, "id": f"wamid.{secrets.token_hex(12)}", "type": "text", "text": {"body": text}}
    value = {"metadata": {"phone_number_id": bot.env["WHATSAPP_PHONE_NUMBER_ID"]}, "messages": [message]}
    return json.dumps({"entry": [{"changes": [{"value": value}]}]}).encode()


def deliver(bot: RunningBot, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    digest = hmac.new(bot.env["WHATSAPP_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    signed = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    return httpx.post(
        f"{bot.rest_url}/webhooks/whatsapp/webhook",
        content=body,
        headers={**signed, **(headers or {})},
        timeout=30,
    )


def whatsapp_replies(bot: RunningBot, phone: str, at_least: int, timeout: float = 60) -> list[dict[str, Any]]:
    bot.fake_graph.wait_for(lambda _: len(bot.fake_graph.messages_to(phone)) >= at_least, timeout)
    return bot.fake_graph.messages_to(phone)


def reply_text(message: dict[str, Any]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])
    return str(message["interactive"]["body"]["text"])


def chat_token(bot: RunningBot) -> str:
    """The socket.io token the demo web server issues to a new visitor, as the page fetches it."""
    page = httpx.URL(bot.web_url)
    answer = httpx.get(page.copy_with(path="/chat-token", query=None), timeout=10)
    answer.raise_for_status()
    return str(answer.json()["token"])


async def widget_session(
    bot: RunningBot, events: list[Any], expect_replies: int = 1, timeout: float = 60
) -> list[Any]:
    """Connect like the widget (token from the page's /chat-token), emit ``events``, collect replies."""
    token = chat_token(bot)
    client = socketio.AsyncClient(reconnection=False)
    replies: list[Any] = []
    confirmed: asyncio.Queue[str] = asyncio.Queue()
    client.on("session_confirm", confirmed.put)

    async def on_reply(data: Any) -> None:
        replies.append(data)

    client.on("bot_uttered", on_reply)
    await client.connect(
        bot.socket_url, socketio_path="/socket.io", transports=["polling"], auth={"token": token}
    )
    try:
        await client.emit("session_request", {"session_id": secrets.token_hex(16)})
        session_id = await asyncio.wait_for(confirmed.get(), 10)
        for name, data in events:
            if isinstance(data, dict) and data.get("session_id") == "<session>":
                data = {**data, "session_id": session_id}
            await client.emit(name, data)
        deadline = time.monotonic() + timeout
        while len(replies) < expect_replies and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await client.disconnect()
    return replies
