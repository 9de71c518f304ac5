"""Sends bot replies through the WhatsApp Cloud API (Graph API ``/{phone_number_id}/messages``)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from rasa.core.channels.channel import OutputChannel

from bot.channels.http import RetryPolicy, masked, post_with_retry
from bot.channels.render import Button, options_of, whatsapp_messages, whatsapp_needs_numbers
from bot.channels.state import OptionMemory

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://graph.facebook.com/v19.0"


class WhatsAppOutput(OutputChannel):
    """Renders Rasa responses as WhatsApp messages; failures are logged, never raised into Rasa.

    Rasa addresses the hashed conversation id (``whatsapp:…``); the input channel binds the customer's
    real number as ``recipient``, and every message goes there.
    """

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(
        self,
        access_token: str,
        phone_number_id: str,
        options: OptionMemory,
        api_base: str = DEFAULT_API_BASE,
        retry: RetryPolicy | None = None,
        recipient: str | None = None,
    ) -> None:
        self._recipient = recipient
        self._url = f"{api_base.rstrip('/')}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._options = options
        self._retry = retry or RetryPolicy()

    def _to(self, recipient_id: str) -> str | None:
        """The phone number to send to: the bound one, or a raw number given by the caller."""
        if self._recipient is not None:
            return self._recipient
        if ":" in recipient_id:
            logger.warning("WhatsApp reply to a conversation id without a bound number dropped.")
            return None
        return recipient_id

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Send text (split at WhatsApp's 4096 characters); earlier numbered options become stale."""
        if (to := self._to(recipient_id)) is None:
            return
        await self._options.forget(to)
        await self._send(to, whatsapp_messages(to, text or ""))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[Button], **kwargs: Any
    ) -> None:
        """Send reply buttons, a list, or numbered text whose typed number the input channel maps back."""
        if (to := self._to(recipient_id)) is None:
            return
        if whatsapp_needs_numbers(buttons):
            await self._options.remember(to, options_of(buttons))
        else:
            await self._options.forget(to)
        await self._send(to, whatsapp_messages(to, text or "", buttons))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Send an image by link."""
        if (to := self._to(recipient_id)) is not None:
            await self._send(to, [_message(to, {"type": "image", "image": {"link": image}})])

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Send a Graph API message body as given (e.g. a template) to the recipient."""
        if (to := self._to(recipient_id)) is not None:
            await self._send(to, [_message(to, json_message)])

    async def _send(self, recipient_id: str, messages: list[dict[str, Any]]) -> None:
        """Post messages in order; stop at the first that fails so the customer never sees them shuffled."""
        async with httpx.AsyncClient(timeout=self._retry.timeout) as client:
            for message in messages:
                what = f"WhatsApp {message.get('type')} message to {masked(recipient_id)}"
                if not await post_with_retry(
                    self._url, what, self._retry, client=client, json=message, headers=self._headers
                ):
                    return


def _message(recipient_id: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient_id, **body}
