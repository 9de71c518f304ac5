"""A bad-input corpus over REST, socket.io and the WhatsApp webhook: no 5xx, no crash, still answering."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest

from tests.channels.edge_clients import (
    deliver,
    new_phone,
    reply_text,
    whatsapp_conversation,
    whatsapp_replies,
    whatsapp_text,
    widget_session,
)
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

JSON = {"Content-Type": "application/json"}
REST_CORPUS: list[tuple[bytes, dict[str, str]]] = [
    (b"[]", JSON),
    (b"", JSON),
    (b"null", JSON),
    (b'"tekst"', JSON),
    (b"{", JSON),
    (b'{"sender": "a"}', JSON),
    (b'{"message": "hallo"}', JSON),
    (b'{"sender": 1, "message": "hallo"}', JSON),
    (b'{"sender": "a", "message": {"tekst": 1}}', JSON),
    (b'{"sender": "a", "message": "hi", "metadata": "x"}', JSON),
    (b'{"sender": "a", "message": "hi", "input_channel": "whatsapp"}', JSON),
    (b'{"sender": "a", "message": "\xff\xfe\xfd"}', JSON),
    (b'{"sender": "whatsapp:0123", "message": "hi"}', JSON),
    (b"sender=a&message=hallo", {"Content-Type": "application/x-www-form-urlencoded"}),
    (b'{"sender": "a", "message": "hi"}', {"Content-Type": "text/plain"}),
    (json.dumps({"sender": "a", "message": "x" * 70_000}).encode(), JSON),
    (b'{"sender": "a", "message": "' + "\u202e\u0000😀".encode() + b'"}', JSON),
]


def other_visitor_is_answered(bot: RunningBot) -> None:
    sender = f"edge-{uuid.uuid4().hex[:10]}"
    assert bot.say(sender, "Hoeveel kan ik besparen met zonnepanelen?")


def test_rest_bad_bodies_get_4xx_json_and_the_bot_keeps_answering(running_bot: RunningBot) -> None:
    offset = log_size(running_bot)
    url = f"{running_bot.rest_url}/webhooks/rest/webhook"
    for body, headers in REST_CORPUS:
        answer = httpx.post(url, content=body, headers=headers, timeout=30)
        assert answer.status_code in {400, 413}, (body[:60], answer.status_code, answer.text[:200])
        assert set(answer.json()) == {"error"}
    other_visitor_is_answered(running_bot)
    log = log_since(running_bot, offset)
    assert "rest.message.received.failure" not in log and "Traceback" not in log


def test_whatsapp_webhook_bad_bodies_are_refused_or_ignored(running_bot: RunningBot) -> None:
    phone = new_phone()
    corpus = [
        b"",
        b"[]",
        b"{",
        b'{"entry": 5}',
        b'{"entry": [{"changes": [{"value": {"messages": [{"from": "abc", "id": "x", "type": "text"}]}}]}]}',
        b'{"entry": [{"changes": [{"value": {"messages": [{"from": 316, "id": 1, "type": "text"}]}}]}]}',
        whatsapp_text(running_bot, phone, ""),
        "\xff".encode("latin-1") * 100,
    ]
    for body in corpus:
        answer = deliver(running_bot, body)
        assert answer.status_code in {200, 400}, (body[:60], answer.status_code)
    assert deliver(running_bot, b"x" * (70 * 1024)).status_code == 413
    assert (
        deliver(
            running_bot, whatsapp_text(running_bot, phone, "Hallo"), {"X-Hub-Signature-256": "sha256=0"}
        ).status_code
        == 403
    )
    assert (
        deliver(running_bot, whatsapp_text(running_bot, phone, "Wat kost een warmtepomp?")).status_code == 200
    )
    assert whatsapp_replies(running_bot, phone, 1)


def log_size(bot: RunningBot) -> int:
    return (bot.log_dir / "rasa_server.log").stat().st_size


def log_since(bot: RunningBot, offset: int) -> str:
    """What the Rasa server logged after ``offset`` (the log file is kept over test runs)."""
    with (bot.log_dir / "rasa_server.log").open("rb") as log:
        log.seek(offset)
        return log.read().decode("utf-8", "replace")


def test_socketio_bad_events_are_ignored_and_the_widget_still_answered(running_bot: RunningBot) -> None:
    offset = log_size(running_bot)
    events = [
        ("user_uttered", None),
        ("user_uttered", "tekst"),
        ("user_uttered", []),
        ("user_uttered", {"message": 5, "session_id": "<session>"}),
        ("user_uttered", {"message": "hallo", "session_id": "iemand-anders"}),
        ("user_uttered", {"message": "hallo", "session_id": "<session>", "customData": "{geen json"}),
        ("session_request", "geen dict"),
        ("onbekend_event", {"x": 1}),
    ]
    replies = asyncio.run(widget_session(running_bot, events))
    assert replies, "the widget's own session was answered"
    other_visitor_is_answered(running_bot)
    log = log_since(running_bot, offset)
    assert "bot/channels/socketio.py" not in log and "FixedSocketIOInput.blueprint" not in log


def test_a_rest_caller_cannot_reach_a_whatsapp_conversation(running_bot: RunningBot) -> None:
    phone = new_phone()
    assert (
        deliver(running_bot, whatsapp_text(running_bot, phone, "Ik heb een warmtepomp gekocht")).status_code
        == 200
    )
    whatsapp_replies(running_bot, phone, 1)
    conversation = whatsapp_conversation(running_bot, phone)
    deadline = time.monotonic() + 10
    while not running_bot.tracker(conversation).get("events") and time.monotonic() < deadline:
        time.sleep(0.2)
    before = [e for e in running_bot.tracker(conversation)["events"] if e.get("event") == "user"]
    assert before

    for sender in (phone, "+" + phone, conversation, conversation.split(":")[1]):
        answer = httpx.post(
            f"{running_bot.rest_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": "Wat heb ik gekocht?"},
            timeout=30,
        )
        assert answer.status_code in {200, 400}
    after = [e for e in running_bot.tracker(conversation)["events"] if e.get("event") == "user"]
    assert [e["text"] for e in after] == [e["text"] for e in before]
    assert all(reply_text(m) for m in whatsapp_replies(running_bot, phone, 1))
    rest_tracker = running_bot.tracker(phone)
    assert rest_tracker["latest_input_channel"] == "rest"
