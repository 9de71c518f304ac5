"""WhatsApp Cloud API input channel: verified, signed, de-duplicated webhooks into Rasa.

Meta calls ``/webhooks/whatsapp/webhook``: GET once to verify the subscription, POST for every
message or status. A POST is only trusted with a valid ``X-Hub-Signature-256`` over the raw body.
Its messages are written to the durable inbox (bot.inbox, keyed by Meta's message id) before the
200, and handled from there per conversation in the customer's order; when the inbox cannot store
them the answer is 503, so Meta delivers again (Meta does not resend what got a 200).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.channels import required_credentials
from bot.channels.handover import HandoverRelay
from bot.channels.http import RetryPolicy, read_limited
from bot.channels.limits import MAX_BODY_BYTES, ContentNotices, MessageLimit, apply_limits
from bot.channels.render import choose_option
from bot.channels.state import OptionMemory, RedisLink
from bot.channels.whatsapp_output import DEFAULT_API_BASE, WhatsAppOutput
from bot.content import ContentRepository
from bot.conversation_ids import conversation_id, phone_digits
from bot.inbox import InboxFull, InboxWorker, Received, Stored, attach, channel_inbox
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
    sent_at: datetime | None = None


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
    sent_at = _timestamp(raw.get("timestamp"))
    if kind == "text":
        return Inbound(message_id, phone, _text(_dict(raw.get("text")).get("body")), True, sent_at)
    if kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        reply = _dict(interactive.get(str(interactive.get("type"))))
        return Inbound(message_id, phone, _text(reply.get("id")), sent_at=sent_at)
    if kind == "button":
        return Inbound(message_id, phone, _text(_dict(raw.get("button")).get("payload")), sent_at=sent_at)
    return Inbound(message_id, phone, None, sent_at=sent_at)


def _timestamp(value: Any) -> datetime | None:
    """Meta's send time (Unix seconds as a string); None when missing or not plausible."""
    if not (isinstance(value, str | int) and str(value).isdigit() and len(str(value)) <= 12):
        return None
    return datetime.fromtimestamp(int(value), timezone.utc)


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
        inbox: InboxWorker | None = None,
        handover: HandoverRelay | None = None,
    ) -> None:
        """``unsupported_text`` None: answer media with the content's ``unsupported_message``.

        ``conversation_key`` None: the key of bot.settings.conversation_key (CONVERSATION_KEY).
        ``inbox`` None: the inbox in the touchpoint database (DATABASE_URL), sealed with that key.
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
        self.options = OptionMemory(RedisLink(redis_url), "whatsapp:options:")
        self.inbox = inbox or channel_inbox("WhatsApp message", self._key, self.name())
        self.handover = handover or HandoverRelay.from_env()

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
        self.handover.attach(webhook)

        async def handle(stored: Stored) -> None:
            await self._handle(stored, on_new_message)

        attach(webhook, self.inbox, handle)

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
            return await self._store(parse_messages(payload, self.phone_number_id))

        return webhook

    def _signed(self, body: bytes, header: str) -> bool:
        """Check Meta's HMAC-SHA256 of the raw body with the app secret, in constant time."""
        expected = "sha256=" + hmac.new(self._app_secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), header.strip().lower().encode("utf-8", "replace"))

    async def _store(self, inbound: list[Inbound]) -> HTTPResponse:
        """Write the messages to the inbox; only then 200. A redelivered one is recognised there."""
        received = [
            Received(
                channel=self.name(),
                provider_id=message.message_id,
                conversation_id=conversation_id("whatsapp", message.phone, self._key),
                payload={"phone": message.phone, "text": message.text, "typed": message.typed},
                sent_at=message.sent_at,
            )
            for message in inbound
        ]
        if not received:
            return response.text("", status=200)
        try:
            await self.inbox.accept(received)
        except InboxFull as problem:
            logger.warning("WhatsApp webhook refused with 503: %s.", problem)
            return response.text("busy, deliver again later", status=503)
        except SQLAlchemyError as problem:
            logger.error(
                "WhatsApp webhook refused with 503: the inbox cannot store it (%s).", type(problem).__name__
            )
            return response.text("inbox unavailable, deliver again later", status=503)
        return response.text("", status=200)

    async def _handle(self, stored: Stored, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Pass one message from the inbox to Rasa; answer unreadable ones without bothering Rasa."""
        phone, text = str(stored.payload["phone"]), stored.payload.get("text")
        output = self.get_output_channel(phone)
        sender = stored.conversation_id
        if not isinstance(text, str):
            await output.send_text_message(sender, self._unsupported())
            return
        text, cut = self.limit.cut(text)
        if cut:
            await output.send_text_message(sender, self.limit.notice("whatsapp"))
        elif stored.payload.get("typed"):
            text = choose_option(text, await self.options.take(phone)) or text
        if await self.handover.intercept(sender, text, output):
            return  # a colleague has the conversation (live handover): relayed to Chatwoot
        # The number lets the callback form confirm it instead of asking (actions/handoff.py); with
        # its "+", so the conversation store's masking recognises and masks it.
        metadata = {"whatsapp_message_id": stored.provider_id, "phone": "+" + phone_digits(phone)}
        await on_new_message(
            UserMessage(
                text,
                output,
                sender,
                input_channel=self.name(),
                message_id=stored.provider_id,
                metadata=metadata,
            )
        )

    def _unsupported(self) -> str:
        """The reply to media and other unreadable messages; a content failure still gets a polite answer."""
        if self._unsupported_text is not None:
            return self._unsupported_text
        return self._notices.text("unsupported_message", "whatsapp", FALLBACK_UNSUPPORTED_TEXT)
