"""WhatsApp Cloud API input channel: verified, signed, de-duplicated webhooks into Rasa.

Meta calls ``/webhooks/whatsapp/webhook``: GET once to verify the subscription, POST for every
message or status. A POST is only trusted with a valid ``X-Hub-Signature-256`` over the raw body,
answered 200 at once (Meta retries slow or failed deliveries) and handled in the background.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import required_credentials
from bot.channels.http import BackgroundTasks, RetryPolicy, read_limited
from bot.channels.limits import MAX_BODY_BYTES, ContentNotices, MessageLimit, apply_limits
from bot.channels.render import choose_option
from bot.channels.state import OptionMemory, RedisLink, SeenMessages
from bot.channels.whatsapp_output import DEFAULT_API_BASE, WhatsAppOutput
from bot.content import ContentRepository
from bot.conversation_ids import conversation_id, phone_digits
from bot.settings import conversation_key as configured_conversation_key

logger = logging.getLogger(__name__)

FALLBACK_UNSUPPORTED_TEXT = "Sorry, ik kan alleen tekst lezen. Wil je je vraag typen?"
_IGNORED_TYPES = frozenset({"reaction", "system"})
_REQUIRED = ("verify_token", "app_secret", "access_token", "phone_number_id")


@dataclass(frozen=True)
class Inbound:
    """One customer message; ``text`` None means a type the bot cannot read (media, location, ...)."""

    message_id: str
    phone: str
    text: str | None
    typed: bool = False


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_messages(payload: dict[str, Any], phone_number_id: str) -> list[Inbound]:
    """Extract customer messages from a webhook body; statuses and foreign numbers are skipped."""
    inbound: list[Inbound] = []
    for entry in _list(payload.get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            target = _dict(value.get("metadata")).get("phone_number_id")
            if target and str(target) != phone_number_id:
                logger.warning("WhatsApp messages for another phone number id ignored.")
                continue
            inbound.extend(m for m in map(_parse_one, _list(value.get("messages"))) if m is not None)
    return inbound


def _parse_one(raw: Any) -> Inbound | None:
    raw = _dict(raw)
    message_id, phone = raw.get("id"), raw.get("from")
    kind = raw.get("type") if isinstance(raw.get("type"), str) else None
    if not (isinstance(message_id, str) and message_id and isinstance(phone, str) and phone_digits(phone)):
        logger.warning("WhatsApp message without id or sender ignored.")
        return None
    if kind in _IGNORED_TYPES:
        return None
    if kind == "text":
        return Inbound(message_id, phone, _text(_dict(raw.get("text")).get("body")), typed=True)
    if kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        reply = _dict(interactive.get(str(interactive.get("type"))))
        return Inbound(message_id, phone, _text(reply.get("id")))
    if kind == "button":
        return Inbound(message_id, phone, _text(_dict(raw.get("button")).get("payload")))
    return Inbound(message_id, phone, None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


class WhatsAppInput(InputChannel):
    """Receives WhatsApp Cloud API webhooks; replies go out through :class:`WhatsAppOutput`."""

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build from credentials.yml; REDIS_URL (environment) lets several workers share state."""
        required = required_credentials(credentials, _REQUIRED, "WhatsApp")
        credentials = credentials or {}
        return cls(
            **required,
            api_base=str(credentials.get("api_base") or DEFAULT_API_BASE),
            redis_url=os.environ.get("REDIS_URL"),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        access_token: str,
        phone_number_id: str,
        api_base: str = DEFAULT_API_BASE,
        redis_url: str | None = None,
        unsupported_text: str | None = None,
        content: ContentRepository | None = None,
        retry: RetryPolicy | None = None,
        conversation_key: str | None = None,
        limit: MessageLimit | None = None,
    ) -> None:
        """``unsupported_text`` None: answer media with the content's ``unsupported_message``.

        ``conversation_key`` None: the key of bot.settings.conversation_key (CONVERSATION_KEY).
        """
        self.verify_token = verify_token
        self._app_secret = app_secret.encode()
        self._access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_base = api_base
        self._unsupported_text = unsupported_text
        self._notices = ContentNotices(content)
        self._key = conversation_key or configured_conversation_key()
        self.limit = limit or MessageLimit(notices=self._notices)
        self._retry = retry
        redis = RedisLink(redis_url)
        self.seen = SeenMessages(redis, "whatsapp:seen:")
        self.options = OptionMemory(redis, "whatsapp:options:")
        self._tasks = BackgroundTasks("WhatsApp message handling")

    def get_output_channel(self, recipient: str | None = None) -> WhatsAppOutput:
        """Replies go through the business number; ``recipient`` binds the customer's real number.

        Unbound (Rasa's external events), the recipient id is a hashed conversation id, which cannot
        be sent to: the output logs that and sends nothing.
        """
        return WhatsAppOutput(
            self._access_token, self.phone_number_id, self.options, self.api_base, self._retry, recipient
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health), GET /webhook (Meta's verification), POST /webhook (messages)."""
        webhook = Blueprint("whatsapp_webhook", __name__)
        apply_limits(webhook, self.limit)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            token = request.args.get("hub.verify_token") or ""
            challenge = request.args.get("hub.challenge")
            if (
                request.args.get("hub.mode") == "subscribe"
                and challenge
                and hmac.compare_digest(token.encode(), self.verify_token.encode())
            ):
                return response.text(challenge)
            logger.warning("WhatsApp webhook verification refused: wrong mode, token or no challenge.")
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            body = await read_limited(request, MAX_BODY_BYTES)
            if body is None:
                logger.warning("WhatsApp webhook refused: body over %d bytes.", MAX_BODY_BYTES)
                return response.text("payload too large", status=413)
            if not self._signed(body, request.headers.get("x-hub-signature-256", "")):
                logger.warning(
                    "WhatsApp webhook refused: missing or wrong X-Hub-Signature-256 (from %s).", request.ip
                )
                return response.text("forbidden", status=403)
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
            if not isinstance(payload, dict):
                logger.warning("WhatsApp webhook refused: body is not a JSON object.")
                return response.text("bad request", status=400)
            self._tasks.spawn(self._handle(parse_messages(payload, self.phone_number_id), on_new_message))
            return response.text("", status=200)

        return webhook

    def _signed(self, body: bytes, header: str) -> bool:
        """Check Meta's HMAC-SHA256 of the raw body with the app secret, in constant time."""
        expected = "sha256=" + hmac.new(self._app_secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), header.strip().lower().encode("utf-8", "replace"))

    async def _handle(
        self, inbound: list[Inbound], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Pass new messages to Rasa in order; answer unreadable ones without bothering Rasa."""
        for message in inbound:
            if not await self.seen.first_time(message.message_id):
                logger.info("WhatsApp message delivered again; already handled.")
                continue
            output = self.get_output_channel(message.phone)
            sender = conversation_id("whatsapp", message.phone, self._key)
            if message.text is None:
                await output.send_text_message(sender, self._unsupported())
                continue
            text, cut = self.limit.cut(message.text)
            if cut:
                await output.send_text_message(sender, self.limit.notice("whatsapp"))
            elif message.typed:
                text = choose_option(text, await self.options.take(message.phone)) or text
            metadata = {"whatsapp_message_id": message.message_id}
            try:
                await on_new_message(
                    UserMessage(text, output, sender, input_channel=self.name(), metadata=metadata)
                )
            except Exception:
                logger.exception(
                    "Rasa failed on a WhatsApp message (conversation %s); going on with the next one.", sender
                )

    def _unsupported(self) -> str:
        """The reply to media and other unreadable messages; a content failure still gets a polite answer."""
        if self._unsupported_text is not None:
            return self._unsupported_text
        return self._notices.text("unsupported_message", "whatsapp", FALLBACK_UNSUPPORTED_TEXT)
