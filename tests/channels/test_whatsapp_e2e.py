"""WhatsApp end to end: signed webhooks into the running Rasa, replies to the local fake Graph API.

The ``running_bot`` fixture starts Rasa with WHATSAPP_API_BASE pointing at its ``fake_graph``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from typing import Any

import httpx
import pytest

from bot.channels.render import whatsapp_markdown
from bot.content import ContentRepository
from bot.content.select import Situation
from bot.conversation_ids import conversation_id
from bot.settings import PROJECT_ROOT, conversation_key
from tests.channels.fake_graph import FakeGraphServer
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

QUESTION = "Hoeveel kan ik besparen met zonnepanelen?"


def new_phone() -> str:
    return "316" + "".join(secrets.choice("0123456789") for _ in range(8))


def webhook(bot: RunningBot, phone: str, kind: str, content: dict[str, Any]) -> tuple[str, bytes]:
    message_id = f"wamid.{secrets.token_hex(12)}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"phone_number_id": bot.env["WHATSAPP_PHONE_NUMBER_ID"]},
        "contacts": [{"wa_id": phone, "profile": {"name": "Test"}}],
        "messages": [
            {"from": phone, "id": message_id, "timestamp": str(int(time.time())), "type": kind, kind: content}
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return message_id, json.dumps(body).encode()


def deliver(bot: RunningBot, body: bytes, signed: bool = True) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signed:
        digest = hmac.new(bot.env["WHATSAPP_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    return httpx.post(f"{bot.rest_url}/webhooks/whatsapp/webhook", content=body, headers=headers, timeout=10)


def replies(graph: FakeGraphServer, phone: str, at_least: int, timeout: float = 60) -> list[dict[str, Any]]:
    graph.wait_for(lambda _: len(graph.messages_to(phone)) >= at_least, timeout)
    return graph.messages_to(phone)


def whatsapp_conversation(bot: RunningBot, phone: str) -> str:
    """The conversation id Rasa keeps for ``phone``, with the key the Rasa process was given."""
    return conversation_id("whatsapp", phone, conversation_key({**os.environ, **bot.env}))


def user_events(bot: RunningBot, phone: str, at_least: int = 1, timeout: float = 10) -> list[dict[str, Any]]:
    """The tracker is saved after the reply went out, so give it a moment (bounded)."""
    deadline = time.monotonic() + timeout
    while True:
        events = bot.tracker(whatsapp_conversation(bot, phone)).get("events") or []
        assert isinstance(events, list)
        found = [e for e in events if e.get("event") == "user"]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def bot_tracker_has_no_phone(bot: RunningBot, phone: str) -> bool:
    tracker = bot.tracker(whatsapp_conversation(bot, phone))
    return tracker["sender_id"] != phone and phone not in json.dumps(tracker)


def test_question_reply_duplicate_and_unsigned(running_bot: RunningBot) -> None:
    graph, phone = running_bot.fake_graph, new_phone()
    message_id, body = webhook(running_bot, phone, "text", {"body": QUESTION})
    started = time.monotonic()
    assert deliver(running_bot, body).status_code == 200
    assert time.monotonic() - started < 2, "Meta needs a quick 200; Rasa's work happens afterwards"

    [first, *_] = replies(graph, phone, 1)
    assert first["messaging_product"] == "whatsapp" and first["to"] == phone
    assert first["type"] in {"text", "interactive"}
    text = first["text"]["body"] if first["type"] == "text" else first["interactive"]["body"]["text"]
    assert text.strip() and "**" not in text
    request = next(r for r in graph.requests if r.path.endswith("/messages") and r.json.get("to") == phone)
    assert request.path == f"/{running_bot.env['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    assert request.headers["Authorization"] == f"Bearer {running_bot.env['WHATSAPP_ACCESS_TOKEN']}"
    [event] = user_events(running_bot, phone)
    assert event["text"] == QUESTION and event["input_channel"] == "whatsapp"
    assert (
        event["metadata"]["whatsapp_message_id"] == message_id and "whatsapp_phone" not in event["metadata"]
    )
    assert bot_tracker_has_no_phone(running_bot, phone)

    sent = len(graph.messages_to(phone))
    assert deliver(running_bot, body).status_code == 200  # Meta retries the same message
    _, greeting = webhook(
        running_bot,
        phone,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": "/greet", "title": "Hallo"}},
    )
    assert deliver(running_bot, greeting).status_code == 200
    replies(graph, phone, sent + 1)
    assert [e["text"] for e in user_events(running_bot, phone, at_least=2)] == [QUESTION, "/greet"]

    stranger = new_phone()
    _, unsigned = webhook(running_bot, stranger, "text", {"body": QUESTION})
    assert deliver(running_bot, unsigned, signed=False).status_code == 403  # refused before any work starts
    assert graph.messages_to(stranger) == [] and user_events(running_bot, stranger) == []


def test_media_gets_the_unsupported_message_from_the_content(running_bot: RunningBot) -> None:
    phone = new_phone()
    _, body = webhook(running_bot, phone, "image", {"id": "media-1", "mime_type": "image/jpeg"})
    assert deliver(running_bot, body).status_code == 200
    [reply] = replies(running_bot.fake_graph, phone, 1)
    content = ContentRepository(running_bot.journeys_dir, PROJECT_ROOT / "domain.yml").current()
    expected = content.message("unsupported_message", Situation(channel="whatsapp")).text
    assert reply["type"] == "text" and reply["text"]["body"] == whatsapp_markdown(expected)
    assert user_events(running_bot, phone) == []
