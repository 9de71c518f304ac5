"""The journey reply: a thin Rasa action around `bot.dialogue`, plus the turn it records."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timezone

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import content, last_nps_at, record_message
from bot import dialogue
from bot.channels import channel_of
from bot.content import ContentError, JourneyBook, Reply
from bot.understanding import Reading

logger = logging.getLogger(__name__)


def _memory(tracker: Tracker) -> dialogue.Memory:
    counts = tracker.get_slot("reply_counts")
    return dialogue.Memory(
        phase=tracker.get_slot("journey_phase"),
        persona=tracker.get_slot("persona"),
        persona_asked=bool(tracker.get_slot("persona_asked")),
        owned_products=tuple(tracker.get_slot("owned_products") or ()),
        product=tracker.get_slot("product"),
        address=tracker.get_slot("address"),
        pending_intent=tracker.get_slot("pending_intent"),
        reply_counts={str(k): int(v) for k, v in counts.items()} if isinstance(counts, dict) else {},
    )


async def nps_lookup(tracker: Tracker, book: JourneyBook) -> datetime | None:
    """The last NPS date, looked up only for a closing message in a phase where the question may come."""
    intent = Reading.from_parse(tracker.latest_message or {}).intent
    phase = tracker.get_slot("journey_phase")
    if intent not in dialogue.CLOSING_INTENTS or phase not in book.nps_ask_after_phases:
        return None
    return await last_nps_at(tracker.sender_id)


def build_visit(tracker: Tracker, now: datetime, *, last_nps: datetime | None = None) -> dialogue.Visit:
    """The visit as the journey rules see it; `last_nps` only where a closing message needs it."""
    latest = tracker.latest_message or {}
    entities = {entity.get("entity"): entity.get("value") for entity in latest.get("entities", [])}
    persona_entity = entities.get("persona")
    return dialogue.Visit(
        reading=Reading.from_parse(latest),
        text=latest.get("text") or "",
        channel=channel_of(tracker.get_latest_input_channel()),
        now=now,
        memory=_memory(tracker),
        persona_entity=persona_entity if isinstance(persona_entity, str) else None,
        last_nps_at=last_nps,
        sender_id=tracker.sender_id,
    )


def memory_events(memory: dialogue.Memory, tracker: Tracker) -> list[EventType]:
    """A SlotSet for each remembered value that changed this turn, and none for the others.

    Every event stays in the conversation: Rasa reads, sends and featurises all of them on every
    later message, so eight unchanged slots a turn made message 100 much slower than message 1
    (bench/RESULTS.md). None of these slots steers the policies (influence_conversation: false).
    """
    values = {
        "journey_phase": memory.phase,
        "persona": memory.persona,
        "persona_asked": memory.persona_asked,
        "owned_products": list(memory.owned_products),
        "product": memory.product,
        "address": memory.address,
        "pending_intent": memory.pending_intent,
        "reply_counts": memory.reply_counts,
    }
    return [SlotSet(slot, value) for slot, value in values.items() if tracker.get_slot(slot) != value]


def send(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for reply in replies:
        buttons = [{"title": button.title, "payload": button.payload} for button in reply.buttons]
        dispatcher.utter_message(text=reply.text, buttons=buttons)


class JourneyAction(Action, ABC):
    """Shared run(): build the visit, apply the journey rule, reply, record, remember.

    Abstract, so rasa_sdk's package scan registers only the concrete actions below.
    """

    rule: Callable[[JourneyBook, dialogue.Visit], dialogue.Answer]
    # Only the closing action sets nps_due: Rasa's rules require an action to set the same
    # slots wherever it appears, and the NPS rules branch on this slot.
    decides_nps = False

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        now = datetime.now(timezone.utc)
        try:
            book = content().current()
            last_nps = await nps_lookup(tracker, book) if self.decides_nps else None
            visit = build_visit(tracker, now, last_nps=last_nps)
            result = self.rule(book, visit)
        except ContentError:
            logger.exception("journey content could not be loaded")
            dispatcher.utter_message(text=content().error_text())
            return []
        send(dispatcher, result.replies)
        await record_message(
            tracker,
            persona=result.persona,
            phase=result.phase,
            intent=result.intent,
            content_id=result.content_id,
            outcome=result.outcome,
            at=visit.now,
            product=result.memory.product,
            experiment_arm=result.experiment_arm,
        )
        events = memory_events(result.memory, tracker)
        if self.decides_nps:
            events.append(SlotSet("nps_due", result.nps_due))
        return events


class ActionJourneyReply(JourneyAction):
    """Answer a recognised message with content for the visitor's phase, product, persona and channel."""

    def name(self) -> str:
        return "action_journey_reply"

    rule = staticmethod(dialogue.answer)


class ActionJourneyClose(JourneyAction):
    """Answer thanks or goodbye, and decide whether the NPS question comes next."""

    decides_nps = True

    def name(self) -> str:
        return "action_journey_close"

    rule = staticmethod(dialogue.answer)


class ActionJourneyFallback(JourneyAction):
    """Answer a message the assistant did not understand with the phases as choices."""

    def name(self) -> str:
        return "action_journey_fallback"

    rule = staticmethod(dialogue.fallback)
