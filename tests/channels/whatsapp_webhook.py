"""Building, signing and posting WhatsApp Cloud API webhooks against a served WhatsAppInput."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from rasa.core.channels.channel import UserMessage

from bot.channels.http import RetryPolicy
from bot.channels.whatsapp import WhatsAppInput
from tests.channels.fake_graph import FakeGraphServer
from tests.channels.sanic_server import Recorder

SECRET = "test-app-secret"
VERIFY = "test-verify-token"
NUMBER_ID = "109876543210"
PHONE = "31612345678"
PATH = "/webhooks/whatsapp/webhook"
UNSUPPORTED = "Sorry, alleen tekst graag."
CONVERSATION_KEY = "conversation-key-for-tests"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "journeys"


def channel(graph: FakeGraphServer, **overrides: Any) -> WhatsAppInput:
    settings: dict[str, Any] = {
        "verify_token": VERIFY,
        "app_secret": SECRET,
        "access_token": "test-access-token",
        "phone_number_id": NUMBER_ID,
        "api_base": graph.url,
        "unsupported_text": UNSUPPORTED,
        "retry": RetryPolicy(attempts=2, base_delay=0.01),
        "conversation_key": CONVERSATION_KEY,
    }
    return WhatsAppInput(**{**settings, **overrides})


def envelope(*messages: dict[str, Any], statuses: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": NUMBER_ID}}
    if messages:
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def message(kind: str, content: dict[str, Any] | None = None, phone: str = PHONE) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": phone,
        "id": f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": kind,
    }
    body[kind] = content if content is not None else {"id": "media-1"}
    return body


def text(words: str, phone: str = PHONE) -> dict[str, Any]:
    return message("text", {"body": words}, phone)


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, payload: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": signature(body), **(headers or {})}
    return httpx.post(url + PATH, content=body, headers={"Content-Type": "application/json", **headers})


def settle(url: str, recorder: Recorder, seen: int) -> list[UserMessage]:
    """Send a sentinel message and wait for it: whatever came before it has been handled by then."""
    assert post(url, envelope(text("sentinel"))).status_code == 200
    messages = recorder.wait_for(seen + 1)
    assert messages[-1].text == "sentinel"
    return messages[:-1]
