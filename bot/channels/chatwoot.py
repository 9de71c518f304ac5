"""The Chatwoot connector: its application API (contacts, conversations, messages) and its webhook.

The live handover (docs/HANDOFF.md) opens a conversation in an API-channel inbox, posts the
visitor's messages there as incoming and reads the colleague's answers from Chatwoot's webhook at
``/webhooks/chatwoot/webhook``. A webhook call is only trusted with ``?token=<CHATWOOT_WEBHOOK_TOKEN>``
(constant-time check) and, when CHATWOOT_WEBHOOK_SECRET is set, a valid ``X-Chatwoot-Signature``
(HMAC-SHA256 of ``<timestamp>.<body>``, at most five minutes old). It answers at once; the reply
goes to the visitor's channel in a task of its own (bot.channels.handover).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.http import read_limited
from bot.channels.limits import MAX_BODY_BYTES
from bot.settings import ChatwootSettings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000
SIGNATURE_MAX_AGE_SECONDS = 300


class ChatwootError(RuntimeError):
    """Chatwoot did not do what was asked (down, slow, refused); the message names no secret."""


def _payload(data: Any) -> dict[str, Any]:
    """Chatwoot wraps some answers in ``payload``; either way a dict."""
    if isinstance(data, dict) and isinstance(data.get("payload"), dict):
        return dict(data["payload"])
    return data if isinstance(data, dict) else {}


class ChatwootClient:
    """Chatwoot's application API for one account and inbox, with an agent's ``api_access_token``."""

    def __init__(self, settings: ChatwootSettings) -> None:
        self.settings = settings
        self._base = f"{settings.url}/api/v1/accounts/{settings.account_id}"
        self._headers = {"api_access_token": settings.api_token}

    async def _call(self, method: str, path: str, **request: Any) -> tuple[int, Any]:
        try:
            async with httpx.AsyncClient(timeout=self.settings.timeout_seconds) as client:
                answer = await client.request(method, self._base + path, headers=self._headers, **request)
        except httpx.HTTPError as error:
            raise ChatwootError(f"{method} {path}: {type(error).__name__}") from None
        try:
            data = answer.json() if answer.content else {}
        except ValueError:
            data = {}
        return answer.status_code, data

    async def _ok(self, method: str, path: str, **request: Any) -> Any:
        status, data = await self._call(method, path, **request)
        if not 200 <= status < 300:
            raise ChatwootError(f"{method} {path}: HTTP {status}")
        return data

    async def contact(self, identifier: str, name: str, phone: str | None) -> tuple[int, str | None]:
        """The contact with this identifier (created in the inbox, or found): its id and source id."""
        body: dict[str, Any] = {"inbox_id": self.settings.inbox_id, "name": name, "identifier": identifier}
        if phone:
            body["phone_number"] = phone
        status, data = await self._call("POST", "/contacts", json=body)
        if 200 <= status < 300:
            found = _payload(data)
            contact = found.get("contact") if isinstance(found.get("contact"), dict) else found
            inbox = found.get("contact_inbox") if isinstance(found.get("contact_inbox"), dict) else {}
            if isinstance(contact.get("id"), int):
                source = inbox.get("source_id")
                return int(contact["id"]), source if isinstance(source, str) else None
            raise ChatwootError("POST /contacts: no contact id in the answer")
        if status != 422:  # 422: the identifier is taken, so the contact exists
            raise ChatwootError(f"POST /contacts: HTTP {status}")
        data = await self._ok("GET", "/contacts/search", params={"q": identifier})
        matches = data.get("payload") if isinstance(data, dict) else None
        for contact in matches if isinstance(matches, list) else []:
            if isinstance(contact, dict) and contact.get("identifier") == identifier:
                return int(contact["id"]), None
        raise ChatwootError("GET /contacts/search: the existing contact was not found")

    async def open_conversation(
        self, contact_id: int, source_id: str | None, attributes: dict[str, str]
    ) -> int:
        """A new open conversation in the inbox; ``attributes`` (custom) name the conversation in Rasa."""
        body: dict[str, Any] = {
            "inbox_id": self.settings.inbox_id,
            "contact_id": contact_id,
            "status": "open",
            "custom_attributes": attributes,
        }
        if source_id:
            body["source_id"] = source_id
        data = _payload(await self._ok("POST", "/conversations", json=body))
        if not isinstance(data.get("id"), int):
            raise ChatwootError("POST /conversations: no conversation id in the answer")
        return int(data["id"])

    async def post(self, conversation_id: int, text: str, *, private: bool = False) -> None:
        """The visitor's message (incoming), or a private note only colleagues see."""
        body = {
            "content": text[:MAX_MESSAGE_CHARS],
            "message_type": "outgoing" if private else "incoming",
            "private": private,
        }
        await self._ok("POST", f"/conversations/{conversation_id}/messages", json=body)


def signature_valid(secret: str, timestamp: str, body: bytes, signature: str, now: float) -> bool:
    """Chatwoot's X-Chatwoot-Signature: ``sha256=`` HMAC-SHA256 of ``<timestamp>.<body>``, fresh."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={digest}".encode(), signature.strip().encode("utf-8", "replace"))


def authorised(settings: ChatwootSettings, request: Request, body: bytes) -> bool:
    given = str(request.args.get("token") or "").encode("utf-8", "replace")
    if not hmac.compare_digest(given, settings.webhook_token.encode()):
        return False
    if settings.webhook_secret is None:
        return True
    return signature_valid(
        settings.webhook_secret,
        request.headers.get("x-chatwoot-timestamp", ""),
        body,
        request.headers.get("x-chatwoot-signature", ""),
        time.time(),
    )


async def _logged(work: Coroutine[Any, Any, None]) -> None:
    """A webhook's work after its answer: a failure is logged, never lost silently."""
    try:
        await work
    except Exception:
        logger.exception("Chatwoot webhook event not handled")


class ChatwootInput(InputChannel):
    """Chatwoot's webhook; not a channel visitors write in. Settings from the environment (CHATWOOT_*)."""

    @classmethod
    def name(cls) -> str:
        return "chatwoot"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def __init__(self, relay: Any = None) -> None:
        """``relay`` None: the handover relay from the environment (bot.channels.handover)."""
        from bot.channels.handover import HandoverRelay

        self.relay: HandoverRelay = relay or HandoverRelay.from_env()
        self._tasks: set[asyncio.Task[None]] = set()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook (Chatwoot's events)."""
        webhook = Blueprint("chatwoot_webhook", __name__)
        self.relay.attach(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.relay.enabled else "not configured"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            settings = self.relay.settings
            if settings is None:
                return response.text("live handover not configured", status=404)
            body = await read_limited(request, MAX_BODY_BYTES)
            if body is None:
                return response.text("payload too large", status=413)
            if not authorised(settings, request, body):
                logger.warning(
                    "Chatwoot webhook refused: missing or wrong token or signature (from %s).", request.ip
                )
                return response.text("forbidden", status=403)
            try:
                event = json.loads(body)
            except ValueError:
                event = None
            if not isinstance(event, dict):
                return response.text("bad request", status=400)
            work = self.relay.on_event(event, getattr(request.app.ctx, "input_channels", []))
            if work is not None:
                task = asyncio.get_running_loop().create_task(_logged(work))
                self._tasks.add(task)  # a reference, so the task is not collected before it ran
                task.add_done_callback(self._tasks.discard)
            return response.text("", status=200)

        return webhook
