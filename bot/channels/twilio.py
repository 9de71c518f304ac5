"""Twilio (SMS) channel that checks ``X-Twilio-Signature`` and never shows intent payloads.

Rasa 3.6's own Twilio channel accepts unsigned requests, re-raises errors (``debug_mode``) and renders
buttons as ``1: Title (/payload)``. Here buttons become "1. Title" lines and a typed "1" is mapped back
to that option's payload for the sender's next message. Each message is written to the durable inbox
(bot.inbox, keyed by ``MessageSid``, so Twilio's retries are recognised) before the 204 and handled
from there; when the inbox cannot store it the answer is 503 (Twilio then tries its fallback URL or
retries, if configured).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError
from twilio.request_validator import RequestValidator

from bot.channels import required_credentials
from bot.channels.http import RetryPolicy, masked, post_with_retry, read_limited
from bot.channels.limits import MAX_BODY_BYTES, MessageLimit, apply_limits
from bot.channels.render import Button, choose_option, options_of, sms_messages
from bot.channels.state import OptionMemory, RedisLink
from bot.conversation_ids import conversation_id, phone_digits
from bot.inbox import InboxFull, InboxWorker, Received, Stored, attach, channel_inbox
from bot.settings import conversation_key as configured_conversation_key

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.twilio.com"
_REQUIRED = ("account_sid", "auth_token", "twilio_number")


class SignedTwilioOutput(OutputChannel):
    """Sends SMS through Twilio's Messages API; failures are logged, never raised into Rasa.

    Rasa addresses the hashed conversation id (``sms:…``); messages go to the bound ``recipient``.
    """

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        options: OptionMemory,
        api_base: str = DEFAULT_API_BASE,
        retry: RetryPolicy | None = None,
        recipient: str | None = None,
    ) -> None:
        self._recipient = recipient
        self._url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._auth = (account_sid, auth_token)
        self._number = twilio_number
        self._options = options
        self._retry = retry or RetryPolicy()

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send plain text; numbered options sent earlier become stale (a "2" may now be an answer)."""
        await self._options.forget(self._to(recipient_id))
        await self._send(recipient_id, [{"Body": body} for body in sms_messages(text or "")])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[Button], **kwargs: Any
    ) -> None:
        """Send the text with numbered options and remember them for the sender's next message."""
        await self._options.remember(self._to(recipient_id), options_of(buttons))
        await self._send(recipient_id, [{"Body": body} for body in sms_messages(text or "", buttons)])

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image as MMS media."""
        await self._send(recipient_id, [{"MediaUrl": image}])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Skip custom payloads: printing them as JSON (Rasa's default) would confuse customers."""
        logger.warning("Custom payload not supported on SMS; skipped (keys %s).", sorted(json_message))

    def _to(self, recipient_id: str) -> str:
        """The bound number, or the recipient id itself (a raw number given by the caller)."""
        return self._recipient if self._recipient is not None else recipient_id

    async def _send(self, recipient_id: str, messages: list[dict[str, str]]) -> None:
        to = self._to(recipient_id)
        if to.startswith("sms:"):
            logger.warning("Twilio reply to a conversation id without a bound number dropped.")
            return
        async with httpx.AsyncClient(timeout=self._retry.timeout) as client:
            for message in messages:
                form = {"To": to, "From": self._number, **message}
                what = f"Twilio message to {masked(to)}"
                if not await post_with_retry(
                    self._url, what, self._retry, client=client, data=form, auth=self._auth
                ):
                    return


def parse_form(body: bytes) -> RequestParameters:
    """Twilio's form fields (undecodable bytes replaced, blank values kept, as Twilio signs them)."""
    return RequestParameters(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True))


def message_sid(params: RequestParameters) -> str:
    """Twilio's id of the message; a post without one (never from Twilio itself) gets a fresh id."""
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if sid.isalnum() and 0 < len(sid) <= 64:
        return sid
    logger.warning("Twilio message without a usable MessageSid; it cannot be recognised if delivered again.")
    return "nosid-" + uuid.uuid4().hex


def inbound_sms(params: RequestParameters) -> tuple[str, str] | None:
    """Sender and text of a message, or None for posts without both (media, status callbacks)."""
    sender, text = params.get("From"), params.get("Body")
    if not sender or not phone_digits(sender) or not text or not text.strip():
        return None
    return sender, text.replace("¡", "@")  # some carriers turn @ into ¡ (as in Rasa's channel)


class SignedTwilioInput(TwilioInput):
    """Twilio webhook at /webhooks/twilio/webhook that refuses requests Twilio did not sign."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Build from credentials.yml; REDIS_URL (environment) shares numbered options across workers."""
        required = required_credentials(credentials, _REQUIRED, "Twilio")
        credentials = credentials or {}
        return cls(
            **required,
            public_url=str(credentials.get("public_url") or "") or None,
            api_base=str(credentials.get("api_base") or DEFAULT_API_BASE),
            redis_url=os.environ.get("REDIS_URL"),
        )

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        public_url: str | None = None,
        api_base: str = DEFAULT_API_BASE,
        redis_url: str | None = None,
        retry: RetryPolicy | None = None,
        conversation_key: str | None = None,
        limit: MessageLimit | None = None,
        inbox: InboxWorker | None = None,
    ) -> None:
        """``conversation_key`` None: the key of bot.settings.conversation_key (CONVERSATION_KEY).

        ``inbox`` None: the inbox in the touchpoint database (DATABASE_URL), sealed with that key.
        """
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self._key = conversation_key or configured_conversation_key()
        self.limit = limit or MessageLimit()
        self.public_url = public_url
        self.api_base = api_base
        self._validator = RequestValidator(auth_token)
        self._retry = retry
        self.options = OptionMemory(RedisLink(redis_url), "twilio:options:")
        self.inbox = inbox or channel_inbox("Twilio message", self._key, self.name())

    def get_output_channel(self, recipient: str | None = None) -> OutputChannel:
        """``recipient`` binds the customer's real number (Rasa only knows the hashed conversation id)."""
        return SignedTwilioOutput(
            str(self.account_sid),
            str(self.auth_token),
            str(self.twilio_number),
            self.options,
            self.api_base,
            self._retry,
            recipient,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes: GET / (health) and POST /webhook (signed form posts from Twilio)."""
        twilio_webhook = Blueprint("twilio_webhook", __name__)
        apply_limits(twilio_webhook, self.limit)

        async def handle(stored: Stored) -> None:
            await self._handle(stored, on_new_message)

        attach(twilio_webhook, self.inbox, handle)

        @twilio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_webhook.route("/webhook", methods=["POST"], stream=True)
        async def message(request: Request) -> HTTPResponse:
            body = await read_limited(request, MAX_BODY_BYTES)
            if body is None:
                logger.warning("Twilio webhook refused: body over %d bytes.", MAX_BODY_BYTES)
                return response.text("payload too large", status=413)
            params = parse_form(body)
            url = self.public_url or request.url
            if not self._validator.validate(url, params, request.headers.get("x-twilio-signature", "")):
                logger.warning(
                    "Twilio webhook refused: missing or wrong X-Twilio-Signature (from %s).", request.ip
                )
                return response.text("forbidden", status=403)
            inbound = inbound_sms(params)
            if inbound is None:
                logger.info("Twilio message without sender or text ignored.")
                return response.text("", status=204)
            sender, text = inbound
            received = Received(
                channel=self.name(),
                provider_id=message_sid(params),
                conversation_id=conversation_id("sms", sender, self._key),
                payload={"phone": sender, "text": text},
            )
            try:
                await self.inbox.accept([received])
            except InboxFull as problem:
                logger.warning("Twilio webhook refused with 503: %s.", problem)
                return response.text("busy, deliver again later", status=503)
            except SQLAlchemyError as problem:
                logger.error(
                    "Twilio webhook refused with 503: the inbox cannot store it (%s).", type(problem).__name__
                )
                return response.text("inbox unavailable, deliver again later", status=503)
            return response.text("", status=204)

        return twilio_webhook

    async def _handle(self, stored: Stored, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        """Pass one message from the inbox to Rasa; numbered options are resolved here, in order."""
        sender, text = str(stored.payload["phone"]), str(stored.payload["text"])
        output = self.get_output_channel(sender)
        text, cut = self.limit.cut(text)
        if cut:
            await output.send_text_message(stored.conversation_id, self.limit.notice("sms"))
        else:
            text = choose_option(text, await self.options.take(sender)) or text
        message = UserMessage(
            text,
            output,
            stored.conversation_id,
            input_channel=self.name(),
            message_id=stored.provider_id,
            metadata={"phone": sender},  # the callback form confirms it instead of asking
        )
        await on_new_message(message)
