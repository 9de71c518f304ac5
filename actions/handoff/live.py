"""The live handover's start: within office hours, with Chatwoot configured, a colleague takes over.

A request for a person ("ik wil een medewerker spreken", "Medewerker spreken") on the web or
WhatsApp opens a conversation in Chatwoot's API inbox with a private note of what was said so far
(masked) and the request as the visitor's first message, and puts the handover in the `handover`
slot; from then on the channels relay the visitor (bot.channels.handover) and the bot is silent.
Outside office hours, on REST and SMS, or when Chatwoot does not answer, the callback form runs.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from datetime import datetime, timezone
from functools import cache

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff.common import channel, known_phone, record, reset_events, say, sealer, section
from bot.channels.chatwoot import ChatwootClient, ChatwootError
from bot.handoff import form
from bot.handoff.hours import open_now
from bot.handoff.live import LIVE_CHANNELS, SLOT, Handover, seal, transcript, unseal
from bot.settings import ChatwootSettings, SettingsError, chatwoot, handoff_key, load_env

logger = logging.getLogger(__name__)

LIVE_INTENT = "request_human"
CALL_WORDS = re.compile(r"\b(?:bel|bellen|belt|terugbellen|teruggebeld|opbellen|telefonisch|call me)\b")


@cache
def settings() -> ChatwootSettings | None:
    """CHATWOOT_* from the environment; a bad setting is logged once and leaves the handover off."""
    load_env()
    try:
        return chatwoot()
    except SettingsError as error:
        logger.error("live handover to Chatwoot is off: %s", error)
        return None


def contact_identifier(sender_id: str) -> str:
    """The same visitor is the same Chatwoot contact, without their conversation id showing there."""
    digest = hmac.new(handoff_key().encode(), sender_id.encode(), hashlib.sha256).hexdigest()
    return f"bezoeker-{digest[:24]}"


def asks_for_a_call(text: str) -> bool:
    """A tapped "Bel mij terug" (a payload) or "bel mij even" asks for a call, not a chat with a colleague."""
    return text.startswith("/") or bool(CALL_WORDS.search(text.casefold()))


def available(tracker: Tracker, now: datetime) -> ChatwootSettings | None:
    """The Chatwoot settings when this request may go to a colleague live now, else None."""
    latest = tracker.latest_message or {}
    intent = (latest.get("intent") or {}).get("name")
    configured = settings()
    if configured is None or intent != LIVE_INTENT or channel(tracker) not in LIVE_CHANNELS:
        return None
    if asks_for_a_call(str(latest.get("text") or "")):
        return None
    if channel(tracker) == "whatsapp" and known_phone(tracker) is None:
        return None  # the colleague's replies could not reach this visitor
    return configured if open_now(section(), now) else None


async def try_start(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Hand over and return the events that end the form; None: the callback form runs instead."""
    now = datetime.now(timezone.utc)
    configured = available(tracker, now)
    if configured is None:
        return None
    done = [*reset_events(), SlotSet("requested_slot", None)]
    if unseal(sealer(), tracker.get_slot(SLOT)) is not None:
        return done  # already with a colleague (the channels relay such messages; a race, at most)
    where = channel(tracker)
    phone = known_phone(tracker) if where == "whatsapp" else None
    name = f"WhatsApp …{form.phone_end(phone)}" if phone else "Websitebezoeker"
    text = str((tracker.latest_message or {}).get("text") or "")
    client = ChatwootClient(configured)
    try:
        contact, source = await client.contact(contact_identifier(tracker.sender_id), name, phone)
        conversation = await client.open_conversation(
            contact, source, {"rasa_conversation": tracker.sender_id, "channel": where}
        )
        await client.post(conversation, transcript(tracker.events), private=True)
        if text and not text.startswith("/"):
            await client.post(conversation, text)
    except ChatwootError as error:
        logger.error("live handover not started (%s); the callback form runs instead", error)
        say(dispatcher, tracker, "live_unavailable")
        return None
    say(dispatcher, tracker, "live_started")
    await record(tracker, None, "handoff", "handoff/live_started")
    return [*done, SlotSet(SLOT, seal(sealer(), Handover(conversation, where, phone)))]


def reset() -> None:
    settings.cache_clear()
