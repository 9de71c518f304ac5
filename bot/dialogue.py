"""What the assistant says to one message and what it remembers: the journey rules in one place.

The Rasa action only translates the tracker into a `Visit` and the `Answer` back into events,
so these rules are tested without a Rasa server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.content import JourneyBook, Reply
from bot.nps import should_ask

CLOSING_INTENTS = frozenset({"thanks", "goodbye"})
HANDOFF_INTENTS = frozenset({"request_human"})
# Phases in which the visitor has ordered: products named here count as owned.
OWNING_PHASES = frozenset({"purchase", "delivery", "use", "aftercare"})


@dataclass(frozen=True)
class Visit:
    """Everything known about the visitor when one message arrives."""

    intent: str
    text: str
    channel: str
    turn: int
    now: datetime
    phase: str | None = None
    persona: str | None = None
    persona_entity: str | None = None
    persona_asked: bool = False
    owned_products: tuple[str, ...] = ()
    last_nps_at: datetime | None = None


@dataclass
class Answer:
    """The messages to send and the memory to keep after one message."""

    replies: list[Reply]
    phase: str | None
    persona: str | None
    persona_asked: bool
    owned_products: tuple[str, ...]
    outcome: str
    nps_due: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def content_id(self) -> str | None:
        return self.replies[0].content_id if self.replies else None


def _persona(book: JourneyBook, visit: Visit) -> str | None:
    """An explicit choice (button) beats a keyword in the text, which beats what we knew."""
    if visit.persona_entity:
        return visit.persona_entity
    return book.detect_persona(visit.text) or visit.persona


def _say(book: JourneyBook, key: str, persona: str | None, visit: Visit) -> Reply:
    return book.message(key, persona=persona, channel=visit.channel, turn=visit.turn)


def _owned(book: JourneyBook, visit: Visit, phase: str | None, mentioned: list[str]) -> tuple[str, ...]:
    if phase not in OWNING_PHASES:
        return visit.owned_products
    return tuple(dict.fromkeys([*visit.owned_products, *mentioned]))


def answer(book: JourneyBook, visit: Visit) -> Answer:
    """Choose the reply for a recognised intent and update phase, persona and owned products."""
    persona = _persona(book, visit)
    intent_phase = book.phase_of(visit.intent)
    phase = intent_phase or visit.phase
    mentioned = book.detect_products(visit.text)
    owned = _owned(book, visit, intent_phase, mentioned)
    result = Answer(
        replies=[],
        phase=phase,
        persona=persona,
        persona_asked=visit.persona_asked,
        owned_products=owned,
        outcome="answered",
    )
    if intent_phase is None:
        return _general(book, visit, result)
    journey = book.journey_for(persona)
    if intent_phase in book.sales_phases and mentioned and set(mentioned) <= set(visit.owned_products):
        result.replies.append(_say(book, "already_owned", persona, visit))
        result.notes.append("sales content withheld: the visitor already owns " + ", ".join(mentioned))
        return result
    reply = book.reply(
        visit.intent,
        journey_id=journey,
        persona=persona,
        channel=visit.channel,
        owned_products=owned,
        turn=visit.turn,
    )
    if reply is None:
        result.replies.append(_say(book, "fallback", persona, visit))
        result.outcome = "fallback"
        return result
    result.replies.append(reply)
    if persona is None and not visit.persona_asked and book.persona_matters(visit.intent, journey):
        result.replies.append(_say(book, "persona_question", None, visit))
        result.persona_asked = True
    return result


def _general(book: JourneyBook, visit: Visit, result: Answer) -> Answer:
    if visit.intent in CLOSING_INTENTS:
        result.outcome = "completed"
        result.nps_due = should_ask(
            visit.phase,
            visit.last_nps_at,
            visit.now,
            ask_after_phases=book.nps_ask_after_phases,
            cooldown_days=book.nps_cooldown_days,
        )
        if result.nps_due:
            # The NPS form speaks next; a goodbye first would end the chat before the question.
            return result
    elif visit.intent in HANDOFF_INTENTS:
        result.outcome = "handoff"
    result.replies.append(_say(book, visit.intent, result.persona, visit))
    return result


def fallback(book: JourneyBook, visit: Visit) -> Answer:
    """The visitor was not understood: offer the phases as choices rather than guess."""
    persona = _persona(book, visit)
    return Answer(
        replies=[_say(book, "fallback", persona, visit)],
        phase=visit.phase,
        persona=persona,
        persona_asked=visit.persona_asked,
        owned_products=visit.owned_products,
        outcome="fallback",
    )
