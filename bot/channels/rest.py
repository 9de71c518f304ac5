"""REST channel (``/webhooks/rest/webhook``) that refuses bad bodies with a short JSON error.

Rasa's RestInput reads any body whole, answers 500 to a JSON array or an empty body, lets the caller
choose ``input_channel`` and puts every caller without a sender into the conversation ``default``.
Here a body is read up to 64 KB, must be a JSON object with a string ``sender`` (no ``:``, so it can
never be another channel's conversation id) and a string ``message``; the recorded channel is always
``rest``. With a ``token`` in credentials every call needs ``Authorization: Bearer <token>``.
A conversation's messages enter Rasa one at a time in arrival order (bot.channels.bursts); one that
cannot have its turn within BURST_WAIT_SECONDS, or finds BURST_MAX_WAITING others waiting, is refused
with 429, a reason and Retry-After, and is not recorded: the caller sees it and may send it again.
"""

from __future__ import annotations

import hmac
import json
import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.bursts import Busy, ConversationTurns
from bot.channels.http import read_limited
from bot.channels.limits import MAX_BODY_BYTES, MessageLimit, apply_limits
from bot.conversation_ids import rest_sender_problem

logger = logging.getLogger(__name__)

MIN_TOKEN_CHARS = 16
_JSON_TYPES = ("application/json",)


class BadRequest(ValueError):
    """A request the channel refuses; the message is safe to return to the caller."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_body(body: bytes, content_type: str) -> tuple[str, str, dict[str, Any] | None]:
    """Sender, message text and metadata from a REST body; BadRequest says what is wrong."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
        raise BadRequest("Content-Type must be application/json")
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("body is not valid UTF-8") from None
    except ValueError:
        raise BadRequest("body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object with sender and message")
    sender, text, metadata = payload.get("sender"), payload.get("message"), payload.get("metadata")
    problem = rest_sender_problem(sender)
    if problem:
        raise BadRequest(problem)
    if not isinstance(text, str):
        raise BadRequest("message must be a string")
    if not text.strip():
        raise BadRequest("message is empty")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest("metadata must be a JSON object")
    if payload.get("input_channel") not in (None, "rest"):
        raise BadRequest("input_channel cannot be chosen: this channel is recorded as rest")
    assert isinstance(sender, str)
    return sender, text, metadata


def error(message: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class GuardedRestInput(RestInput):
    """Rasa's REST channel with bounded, validated bodies and an optional bearer token."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """``token:`` in credentials.yml turns on the bearer token; named but empty stops Rasa."""
        credentials = credentials or {}
        if "token" not in credentials:
            return cls()
        token = str(credentials.get("token") or "")
        if len(token) < MIN_TOKEN_CHARS:
            raise RasaException(
                f"The REST channel's token (REST_TOKEN) must have at least {MIN_TOKEN_CHARS} characters"
            )
        return cls(token=token)

    def __init__(
        self,
        token: str | None = None,
        limit: MessageLimit | None = None,
        turns: ConversationTurns | None = None,
    ) -> None:
        self.token = token
        self.limit = limit or MessageLimit()
        self.turns = turns or ConversationTurns()

    def _authorised(self, request: Request) -> bool:
        if self.token is None:
            return True
        given = request.headers.get("authorization", "").encode("utf-8", "replace")
        return hmac.compare_digest(given, f"Bearer {self.token}".encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook (one message, the replies as a JSON list)."""
        webhook = Blueprint(f"rest_webhook_{type(self).__name__}", __name__)
        apply_limits(webhook, self.limit)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                logger.warning("REST call refused: missing or wrong bearer token (from %s).", request.ip)
                return error("missing or wrong Authorization: Bearer token", 401)
            body = await read_limited(request, MAX_BODY_BYTES)
            if body is None:
                logger.warning("REST call refused: body over %d bytes.", MAX_BODY_BYTES)
                return error(f"body is larger than {MAX_BODY_BYTES} bytes", 413)
            try:
                sender, text, metadata = parse_body(body, request.headers.get("content-type", ""))
            except BadRequest as problem:
                logger.info("REST call refused (%d bytes): %s.", len(body), problem)
                return error(str(problem), problem.status)
            try:
                async with self.turns.turn(sender):
                    replies = await self._handle(on_new_message, sender, text, metadata)
            except Busy as busy:
                logger.warning("REST message refused with 429 (sender %s): %s.", sender, busy)
                return response.json(
                    {"error": f"too many messages at once: {busy}", "retry_after": busy.retry_after},
                    status=429,
                    headers={"Retry-After": str(busy.retry_after)},
                )
            return response.json(replies)

        return webhook

    async def _handle(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: str,
        text: str,
        metadata: dict[str, Any] | None,
    ) -> list[dict[str, Any]]:
        """Run one message through Rasa; the notice of a cut message comes before the replies."""
        collector = CollectingOutputChannel()
        text, cut = self.limit.cut(text)
        if cut:
            await collector.send_text_message(sender, self.limit.notice("rest"))
        try:
            await on_new_message(
                UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
            )
        except CancelledError:
            logger.error("REST message of %d characters timed out (sender %s).", len(text), sender)
        except Exception:
            logger.exception("Rasa failed on a REST message of %d characters (sender %s).", len(text), sender)
        return collector.messages
