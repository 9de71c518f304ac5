"""What the assistant says to one message and what it remembers: the journey rules in one place.

The Rasa action only translates the tracker into a `Visit` and the `Answer` back into events,
so these rules are tested without a Rasa server.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from bot.address import detect_address
from bot.content import JourneyBook, Reply
from bot.content.select import Button, Situation
from bot.nps import should_ask
from bot.understanding import FALLBACK_INTENT, Reading, Understanding, understand

CLOSING_INTENTS = frozenset({"thanks", "goodbye"})
HANDOFF_INTENTS = frozenset({"request_human"})
PERSONA_INTENT = "inform_customer_type"
# Phases in which the visitor has ordered: products named here count as owned.
OWNING_PHASES = frozenset({"purchase", "delivery", "use", "aftercare"})


@dataclass(frozen=True)
class Memory:
    """What the conversation remembers between messages (Rasa slots)."""

    phase: str | None = None
    persona: str | None = None
    persona_asked: bool = False
    owned_products: tuple[str, ...] = ()
    product: str | None = None
    address: str | None = None
    pending_intent: str | None = None  # the question asked just before the persona question
    reply_counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Visit:
    """One message and everything known about the visitor when it arrives."""

    reading: Reading
    text: str
    channel: str
    now: datetime
    memory: Memory = field(default_factory=Memory)
    persona_entity: str | None = None
    last_nps_at: datetime | None = None
    sender_id: str | None = None  # only for experiments: each visitor always sees the same arm

    @property
    def intent(self) -> str:
        return self.reading.intent


@dataclass
class Answer:
    """The messages to send, the memory to keep and what to record after one message."""

    replies: list[Reply]
    memory: Memory
    intent: str
    outcome: str
    nps_due: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def phase(self) -> str | None:
        return self.memory.phase

    @property
    def persona(self) -> str | None:
        return self.memory.persona

    @property
    def content_id(self) -> str | None:
        return self.replies[0].content_id if self.replies else None

    @property
    def experiment_arm(self) -> tuple[str | None, str | None]:
        """The experiment and arm of the recorded reply (the first), for the analytics report."""
        return (self.replies[0].experiment, self.replies[0].arm) if self.replies else (None, None)


def _persona(book: JourneyBook, visit: Visit) -> str | None:
    """An explicit choice (button) beats a keyword in the text, which beats what we knew."""
    if visit.persona_entity:
        return visit.persona_entity
    return book.detect_persona(visit.text) or visit.memory.persona


def _product(mentioned: list[str], remembered: str | None) -> str | None:
    """One product named: that one; several: none in particular; none: the one talked about so far."""
    if len(mentioned) == 1:
        return mentioned[0]
    return None if mentioned else remembered


class _Turn:
    """The state of one answer while it is being composed."""

    def __init__(self, book: JourneyBook, visit: Visit, understood: Understanding) -> None:
        self.book = book
        self.visit = visit
        memory = visit.memory
        self.mentioned = book.detect_products(visit.text)
        owned = memory.owned_products
        if understood.phase in OWNING_PHASES:
            owned = tuple(dict.fromkeys([*owned, *self.mentioned]))
        self.memory = replace(
            memory,
            phase=understood.phase,
            persona=_persona(book, visit),
            owned_products=owned,
            product=_product(book.asked_products(visit.text, memory.owned_products), memory.product),
            address=detect_address(visit.text) or memory.address,
            reply_counts=dict(memory.reply_counts),
        )
        self.intent = understood.intent
        self.subject = book.detect_subject(visit.text)
        self.replies: list[Reply] = []

    @property
    def situation(self) -> Situation:
        memory = self.memory
        return Situation(
            phase=memory.phase,
            subject=self.subject,
            product=memory.product,
            persona=memory.persona,
            address=memory.address,
            channel=self.visit.channel,
            visitor=self.visit.sender_id,
        )

    def _seen(self, key: str) -> int:
        count = self.memory.reply_counts.get(key, 0)
        self.memory.reply_counts[key] = count + 1
        return count

    def say(self, key: str) -> None:
        self.replies.append(self.book.message(key, self.situation, seen=self._seen(f"general/{key}")))

    def topic(self, intent: str) -> bool:
        journey = self.book.journey_for(self.memory.persona)
        reply = self.book.reply(
            intent,
            self.situation,
            journey_id=journey,
            owned_products=self.memory.owned_products,
            seen=self._seen(intent),
        )
        if reply is None:
            return False
        self.replies.append(reply)
        return True

    def answer(self, outcome: str, **extra: object) -> Answer:
        return Answer(replies=self.replies, memory=self.memory, intent=self.intent, outcome=outcome, **extra)


def _understand(book: JourneyBook, visit: Visit) -> Understanding:
    memory = visit.memory
    settled = bool(memory.owned_products) and memory.phase in OWNING_PHASES
    return understand(visit.reading, book.home_phases, memory.phase, settled)


def answer(book: JourneyBook, visit: Visit) -> Answer:
    """Answer a recognised message with content for the visitor's phase, product, persona and channel."""
    if book.only_products(visit.text):
        return fallback(book, visit)
    understood = _understand(book, visit)
    if understood.intent == FALLBACK_INTENT:
        return fallback(book, visit)  # too unsure to act on (bot.understanding._unsupported_purchase)
    turn = _Turn(book, visit, understood)
    if book.phase_of(turn.intent) is None:
        return _general(turn)
    already = set(visit.memory.owned_products)
    # Before the order only: adding a panel to an order ("bijbestellen") is not a sales pitch.
    selling = turn.memory.phase in book.sales_phases and book.phase_of(turn.intent) not in OWNING_PHASES
    if selling and turn.mentioned and set(turn.mentioned) <= already:
        turn.say("already_owned")
        result = turn.answer("answered")
        result.notes.append("sales content withheld: the visitor already owns " + ", ".join(turn.mentioned))
        return result
    if not turn.topic(turn.intent):
        turn.say("fallback")
        return turn.answer("fallback")
    memory = turn.memory
    if memory.persona is None and not memory.persona_asked and book.asks_persona_for(turn.intent):
        turn.say("persona_question")
        turn.memory = replace(turn.memory, persona_asked=True, pending_intent=turn.intent)
    return turn.answer("answered")


def _general(turn: _Turn) -> Answer:
    visit, book = turn.visit, turn.book
    pending = turn.memory.pending_intent
    turn.memory = replace(turn.memory, pending_intent=None)
    if turn.intent == PERSONA_INTENT and pending and turn.topic(pending):
        # The visitor answered the persona question: now answer the question they had asked.
        turn.intent = pending
        return turn.answer("answered")
    if turn.intent in CLOSING_INTENTS:
        due = should_ask(
            visit.memory.phase,
            visit.last_nps_at,
            visit.now,
            ask_after_phases=book.nps_ask_after_phases,
            cooldown_days=book.nps_cooldown_days,
        )
        if due:
            # The NPS form speaks next; a goodbye first would end the chat before the question.
            return turn.answer("completed", nps_due=True)
        turn.say(turn.intent)
        return turn.answer("completed")
    turn.say(turn.intent)
    return turn.answer("handoff" if turn.intent in HANDOFF_INTENTS else "answered")


def fallback(book: JourneyBook, visit: Visit) -> Answer:
    """Not understood: ask which of two close topics was meant, else offer choices rather than guess."""
    understood = _understand(book, visit)
    if book.only_products(visit.text):
        understood = replace(
            understood, phase=visit.memory.phase
        )  # a product name says nothing of the situation
    elif understood.intent != FALLBACK_INTENT:
        return answer(book, visit)  # a persona statement that carries a question: answer the question
    turn = _Turn(book, visit, understood)
    if understood.clarify is not None:
        journey = book.journey_for(turn.memory.persona)
        labels = [(intent, book.label(intent, journey)) for intent in understood.clarify]
        if all(label for _, label in labels):
            turn.say("clarify")
            base = turn.replies[-1]
            buttons = tuple(Button(title=str(label), payload=f"/{intent}") for intent, label in labels)
            turn.replies[-1] = Reply(content_id=base.content_id, text=base.text, buttons=buttons)
            return turn.answer("fallback")  # not understood yet: counted with the fallbacks
    turn.say("fallback")
    _only_buttons_for_their_stage(turn)
    return turn.answer("fallback")


def _only_buttons_for_their_stage(turn: _Turn) -> None:
    """A prospect is not offered "Mijn bestelling" or "Storing" in the menu of topics: nothing ordered yet.

    On a first message (phase unknown) every choice stays; after the order the sales buttons are
    already hidden by the content rules.
    """
    phase = turn.memory.phase
    if phase is None or phase not in turn.book.sales_phases:
        return
    reply = turn.replies[-1]
    kept = tuple(
        button
        for button in reply.buttons
        if turn.book.phase_of(button.payload.lstrip("/").split("{")[0]) not in OWNING_PHASES
    )
    turn.replies[-1] = replace(reply, buttons=kept)
