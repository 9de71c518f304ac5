"""The live handover in the Rasa server: relay the visitor to Chatwoot, the colleague back to the visitor.

While the conversation's `handover` slot holds a handover (set by actions.handoff.live), the
channels pass each visitor message here instead of to Rasa: it goes to Chatwoot as incoming and
the bot says nothing. Chatwoot's webhook (bot.channels.chatwoot) brings the colleague's replies,
sent through the visitor's own channel (WhatsApp: the Graph API output bound to the number kept
sealed in the slot; web: the socket.io room), and the resolution, on which the slot is cleared by
events added to the conversation under its lock, and the bot says in Dutch that it is back. The
state lives only in the conversation store, so it survives restarts and is shared by replicas.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.shared.core.events import BotUttered, SlotSet
from sanic import Blueprint, Sanic

from bot.channels import channel_of
from bot.channels.chatwoot import ChatwootClient, ChatwootError
from bot.content import ContentRepository
from bot.handoff import texts
from bot.handoff.live import SLOT, Handover, unseal
from bot.handoff.seal import Sealer
from bot.settings import ChatwootSettings, SettingsError, chatwoot, handoff_key

logger = logging.getLogger(__name__)

# Said when the content cannot be read (the texts live in journeys/common.yml, `handoff:`).
FALLBACK_TEXTS = {
    "live_ended": "Mijn collega heeft het gesprek afgerond. Ik help je weer verder: kan ik nog iets voor je doen?",
    "live_relay_failed": (
        "Je bericht kwam niet aan bij mijn collega. Ik help je zelf weer verder; "
        "bel ons gerust op werkdagen van 8 tot 18 uur via 020-123 45 67."
    ),
}
MAX_SENDER_CHARS = 200
# The conversation store and its locks: (tracker store, lock store), None while Rasa loads.
Stores = Callable[[], "tuple[Any, Any] | None"]


def _ids(conversation: dict[str, Any]) -> set[int]:
    """Chatwoot names a conversation by `id` and, in some versions' webhooks, `display_id`."""
    found = set()
    for key in ("id", "display_id"):
        value = conversation.get(key)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            found.add(int(value))
    return found


def _sender(conversation: dict[str, Any]) -> str | None:
    attributes = conversation.get("custom_attributes")
    sender = attributes.get("rasa_conversation") if isinstance(attributes, dict) else None
    return sender if isinstance(sender, str) and 0 < len(sender) <= MAX_SENDER_CHARS else None


def output_for(handover: Handover, channels: Iterable[InputChannel]) -> OutputChannel | None:
    """The visitor's channel output: WhatsApp bound to their number, or the socket.io server."""
    for channel in channels:
        if handover.channel == "whatsapp" and channel.name() == "whatsapp" and handover.phone:
            return channel.get_output_channel(handover.phone.lstrip("+"))  # type: ignore[call-arg]
        if handover.channel == "web" and channel.name() == "socketio":
            return channel.get_output_channel()
    return None


class HandoverRelay:
    """One per channel instance; all state is in the conversation store."""

    def __init__(
        self,
        settings: ChatwootSettings | None,
        sealer: Sealer | None,
        *,
        stores: Stores | None = None,
        content: ContentRepository | None = None,
    ) -> None:
        """``stores`` None: the Rasa agent's tracker and lock store (the app is known once attached)."""
        self.settings = settings if sealer is not None else None
        self.sealer = sealer
        self.client = ChatwootClient(settings) if self.settings else None
        self._stores = stores
        self._content = content
        self._app: Sanic | None = None

    @classmethod
    def from_env(cls) -> HandoverRelay:
        """Off when CHATWOOT_URL is empty; a bad setting is logged and leaves it off."""
        try:
            settings = chatwoot()
            return cls(settings, Sealer(handoff_key()) if settings else None)
        except (SettingsError, ValueError) as error:
            logger.error("live handover to Chatwoot is off: %s", error)
            return cls(None, None)

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def attach(self, blueprint: Blueprint) -> None:
        """Remember the Rasa app, whose agent holds the conversation store."""

        @blueprint.listener("before_server_start")
        async def _remember(app: Sanic, _: object) -> None:
            self._app = app

    def _conversations(self) -> tuple[Any, Any] | None:
        if self._stores is not None:
            return self._stores()
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        return None if agent is None else (agent.tracker_store, agent.lock_store)

    async def current(self, sender_id: str) -> Handover | None:
        """The conversation's handover, or None; None too while the Rasa agent is not loaded."""
        stores = self._conversations()
        if not self.enabled or stores is None or self.sealer is None:
            return None
        tracker = await stores[0].retrieve(sender_id)
        return None if tracker is None else unseal(self.sealer, tracker.get_slot(SLOT))

    async def intercept(self, sender_id: str, text: str, output: OutputChannel) -> bool:
        """True when a colleague has the conversation: the text went to Chatwoot and Rasa must not see it.

        Chatwoot failing ends the handover: the visitor is told, and the bot answers this message.
        """
        if not self.enabled:
            return False
        handover = await self.current(sender_id)
        if handover is None or self.client is None:
            return False
        try:
            await self.client.post(handover.chatwoot_conversation, text)
            return True
        except ChatwootError as error:
            logger.error("visitor message not relayed to Chatwoot (%s); the bot takes over again", error)
        said = await self._end(sender_id, "live_relay_failed")
        await output.send_text_message(sender_id, said)
        return False

    def on_event(
        self, event: dict[str, Any], channels: Iterable[InputChannel]
    ) -> Coroutine[Any, Any, None] | None:
        """The work a webhook event asks for, to run after Chatwoot got its answer; None: nothing to do."""
        kind = event.get("event")
        if kind == "message_created":
            content = event.get("content")
            conversation = event.get("conversation")
            if (
                event.get("message_type") not in ("outgoing", 1)
                or event.get("private") is not False
                or not isinstance(content, str)
                or not content.strip()
                or not isinstance(conversation, dict)
            ):
                return None
            sender = _sender(conversation)
            return (
                None
                if sender is None
                else self._agent_reply(sender, _ids(conversation), content, list(channels))
            )
        if kind == "conversation_status_changed" and event.get("status") == "resolved":
            sender = _sender(event)
            return None if sender is None else self._resolved(sender, _ids(event), list(channels))
        return None

    async def _matching(self, sender_id: str, ids: set[int]) -> Handover | None:
        handover = await self.current(sender_id)
        if handover is None or (ids and handover.chatwoot_conversation not in ids):
            logger.warning("Chatwoot event for a conversation that is not handed over ignored.")
            return None
        return handover

    async def _agent_reply(
        self, sender_id: str, ids: set[int], text: str, channels: list[InputChannel]
    ) -> None:
        handover = await self._matching(sender_id, ids)
        if handover is None:
            return
        output = output_for(handover, channels)
        if output is None:
            logger.error("colleague's reply not delivered: no %s channel in this server", handover.channel)
            return
        await output.send_text_message(sender_id, text)

    async def _resolved(self, sender_id: str, ids: set[int], channels: list[InputChannel]) -> None:
        handover = await self._matching(sender_id, ids)
        if handover is None:
            return
        said = await self._end(sender_id, "live_ended")
        output = output_for(handover, channels)
        if output is not None:
            await output.send_text_message(sender_id, said)

    async def _end(self, sender_id: str, key: str) -> str:
        """Clear the handover in the conversation (under its lock) and note what the bot says."""
        stores = self._conversations()
        if stores is None:
            return FALLBACK_TEXTS[key]
        tracker_store, lock_store = stores
        async with lock_store.lock(sender_id):
            tracker = await tracker_store.retrieve(sender_id)
            if tracker is None:
                return FALLBACK_TEXTS[key]
            said = self._text(key, tracker)
            tracker.update(SlotSet(SLOT, None))
            tracker.update(BotUttered(said, metadata={"handover": key}))
            await tracker_store.save(tracker)
        return said

    def _text(self, key: str, tracker: Any) -> str:
        try:
            self._content = self._content or ContentRepository.from_env()
            book = self._content.current()
            where = texts.situation(
                book,
                phase=tracker.get_slot("journey_phase"),
                persona=tracker.get_slot("persona"),
                address=tracker.get_slot("address"),
                channel=channel_of(tracker.get_latest_input_channel()),
            )
            return texts.render(book, where, key).text
        except Exception:  # the visitor must hear that the bot is back, whatever the content does
            logger.exception("handover text %s not found in the content; the fixed text is sent", key)
            return FALLBACK_TEXTS[key]
