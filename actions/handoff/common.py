"""What the callback form, its submit and the live handover share: keys, store, texts and records.

Created lazily (like actions.runtime), so rasa_sdk's package scan needs no settings or database.
Name and number are sealed in the slots (see bot.handoff.seal).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timezone
from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import content, message_id, session_started_at, store, write
from bot.channels import channel_of
from bot.content import ContentError, JourneyBook
from bot.content.handoff import HandoffSection
from bot.content.select import Button
from bot.handoff import context, texts
from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore
from bot.settings import database_url, handoff_key, load_env
from bot.store.records import TurnRecord

logger = logging.getLogger(__name__)

FORM = "handoff_form"
SLOTS = ("handoff_name", "handoff_phone", "handoff_moment", "handoff_reason", "handoff_consent")
# What a form answer is stored as in the touchpoint turns: the name and number are not kept there.
_TURN_TEXT = {"handoff_name": "[naam]", "handoff_phone": "[telefoon]"}


@cache
def sealer() -> Sealer:
    load_env()
    return Sealer(handoff_key())


@cache
def handoff_store() -> HandoffStore:
    load_env()
    return HandoffStore(database_url(), os.environ.get("PSEUDONYM_KEY", ""), sealer())


def reset() -> None:
    """Drop the cached store and key, so tests can point the next call elsewhere."""
    if handoff_store.cache_info().currsize:
        handoff_store().close()
    handoff_store.cache_clear()
    sealer.cache_clear()


def channel(tracker: Tracker) -> str:
    return channel_of(tracker.get_latest_input_channel())


def where(book: JourneyBook, tracker: Tracker) -> Any:
    return texts.situation(
        book,
        phase=tracker.get_slot("journey_phase"),
        persona=tracker.get_slot("persona"),
        address=tracker.get_slot("address"),
        channel=channel(tracker),
        product=tracker.get_slot("product"),
    )


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str,
    buttons: tuple[Button, ...] | None = None,
    **values: str,
) -> None:
    try:
        book = content().current()
        reply = texts.render(book, where(book, tracker), key, buttons=buttons, **values)
    except (ContentError, LookupError):
        logger.exception("handoff content could not be loaded")
        dispatcher.utter_message(text=content().error_text())
        return
    dispatcher.utter_message(
        text=reply.text, buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons]
    )


def section() -> HandoffSection:
    found = texts.section(content().current())
    if found is None:
        raise LookupError("journeys/common.yml has no handoff section")
    return found


def known_phone(tracker: Tracker) -> str | None:
    return context.known_phone(channel(tracker), (tracker.latest_message or {}).get("metadata"))


async def record(tracker: Tracker, asked: str | None, outcome: str, content_id: str) -> None:
    """The answer as a touchpoint turn (off the event loop); a name or number is stored as a placeholder."""
    latest = tracker.latest_message or {}
    text = str(latest.get("text") or "")
    current = await asyncio.get_running_loop().run_in_executor(None, store)
    turn = current.prepare_turn(
        TurnRecord(
            sender_id=tracker.sender_id,
            session_started_at=session_started_at(tracker),
            channel=channel(tracker),
            persona=tracker.get_slot("persona"),
            phase=tracker.get_slot("journey_phase"),
            intent=str((latest.get("intent") or {}).get("name") or "nlu_fallback"),
            confidence=(latest.get("intent") or {}).get("confidence"),
            content_id=content_id,
            text=_TURN_TEXT.get(asked or "", text),
            outcome=outcome,
            at=datetime.now(timezone.utc),
            typed=not text.startswith("/"),
        ),
        message_id(tracker),
    )
    await write(turn)


def reset_events() -> list[EventType]:
    return [SlotSet(name, None) for name in SLOTS] + [
        SlotSet("handoff_retries", 0),
        SlotSet("handoff_phone_typed", False),
        SlotSet("handoff_offered", False),
    ]
