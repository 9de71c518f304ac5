"""What the form can know without asking: the sender's number on phone channels, the topic asked
about before, and the concrete window of a chosen moment. Plain data in, so no Rasa import here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from bot.content import JourneyBook
from bot.content.handoff import HandoffSection
from bot.content.model import GENERAL_INTENTS
from bot.handoff import form
from bot.handoff.hours import Slot, describe, next_slot

PHONE_CHANNELS = ("whatsapp", "sms")
ASAP = "zo snel mogelijk"


def known_phone(channel: str, metadata: object) -> str | None:
    """On WhatsApp and SMS the channel passes the sender's number in the message metadata (`phone`).

    Only there: a REST caller chooses its own metadata, so a number from it is never trusted.
    """
    if channel not in PHONE_CHANNELS or not isinstance(metadata, Mapping):
        return None
    raw = metadata.get("phone")
    if not isinstance(raw, str):
        return None
    digits = "".join(ch for ch in raw if ch.isdigit())
    return form.read_phone("+" + digits) if digits else None


def chosen_slot(section: HandoffSection, moment_id: str | None, now: datetime) -> Slot | None:
    moment = next((m for m in section.moments if m.id == moment_id), None)
    return None if moment is None else next_slot(section, moment, now)


def when(section: HandoffSection, moment_id: str | None, now: datetime) -> str:
    """The moment in words for the texts ({when}); "zo snel mogelijk" if no window is open soon."""
    slot = chosen_slot(section, moment_id, now)
    return describe(slot, now) if slot else ASAP


def topic_reason(events: Iterable[Mapping[str, Any]], book: JourneyBook, persona: str | None) -> str | None:
    """The topic the visitor asked about before asking for a person, as its label ("Storing")."""
    journey = book.journey_for(persona)
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and intent not in GENERAL_INTENTS and intent != "nlu_fallback":
            return book.label(intent, journey)
    return None
