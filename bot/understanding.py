"""What one message means for the journey: the topic, where the customer stands, and how sure we are.

NLU gives two independent readings: the topic intent (DIET) and the journey phase (the phase
classifier). This module combines them with what the conversation already knows, and is the
one place the evaluation (`scripts/evaluate.py`) and the running assistant share, so the figures
measure what visitors get.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.phases import PHASES

FALLBACK_INTENT = "nlu_fallback"
# A persona statement or a greeting that carries a question: answer the question.
CARRIER_INTENTS = frozenset({"inform_customer_type", "greet"})
# The topic's home phase gets this bonus over the phase classifier's probabilities, the
# conversation's current phase this one: HOME_BONUS chosen on the development set
# (`scripts/evaluate.py --tune`), STAY_BONUS from ten test conversations (docs/conversations/):
# a customer with an installed heat pump asking "kan ik die factuur in termijnen betalen?" stays
# in aftercare, while "hoe werkt een thuisbatterij?" (a clear orientation) still moves back.
HOME_BONUS = 0.2
STAY_BONUS = 0.3
# A carrier intent yields to a topic when the phase classifier sees a phase this clearly and the
# topic is among DIET's two best intents with at least this confidence.
CARRIER_PHASE_MIN = 0.5
CARRIER_TOPIC_MIN = 0.1
# Two topics closer than this, with at least CLARIFY_MIN together, get "did you mean A or B?".
CLARIFY_MIN = 0.4
# A message whose topic is unclear still moves the visitor to a phase its situation shows this clearly.
FALLBACK_PHASE_MIN = 0.6
# Reaching a phase from the purchase on says the visitor has bought (and makes what they name
# "owned"). From before it, that takes more than a guess: a tenant's "moet ik toestemming vragen"
# read as an order at 0.22 was congratulated on the purchase (docs/conversations/2026-12-01-b.md).
PURCHASED_PHASES = frozenset({"purchase", "delivery", "use", "aftercare"})
PURCHASE_JUMP_MIN = 0.45


@dataclass(frozen=True)
class Reading:
    """Rasa's parse of one message, reduced to what the journey needs."""

    intent: str
    confidence: float = 1.0
    intent_ranking: tuple[tuple[str, float], ...] = ()
    phase_ranking: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_parse(cls, parse: Mapping[str, object]) -> Reading:
        """From Rasa's parse data (tracker.latest_message); tolerant of missing parts."""
        raw = parse.get("intent")
        intent = raw if isinstance(raw, dict) else {}
        # A button payload ("/payment") names its intent; its text says nothing about the situation.
        payload = str(parse.get("text") or "").startswith("/")
        return cls(
            intent=str(intent.get("name") or FALLBACK_INTENT),
            confidence=float(intent.get("confidence") or 0.0),
            intent_ranking=_ranking(parse.get("intent_ranking")),
            phase_ranking=() if payload else _ranking(parse.get("journey_phase_ranking")),
        )


def _ranking(raw: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, list):
        return ()
    pairs = [
        (str(entry.get("name")), float(entry.get("confidence") or 0.0))
        for entry in raw
        if isinstance(entry, dict) and entry.get("name")
    ]
    return tuple(sorted(pairs, key=lambda pair: -pair[1]))


@dataclass(frozen=True)
class Understanding:
    intent: str  # the topic to answer; may differ from Rasa's intent (a persona statement + question)
    phase: str | None  # the phase after this message (None: still unknown)
    clarify: tuple[str, str] | None = None  # two topics to offer when the message was ambiguous


def _topics(reading: Reading, home: Mapping[str, str]) -> list[tuple[str, float]]:
    return [(name, confidence) for name, confidence in reading.intent_ranking if name in home]


def resolve_phase(home_phase: str, reading: Reading, previous: str | None, settled: bool = False) -> str:
    """The phase classifier's view, nudged towards the topic's home phase and towards staying put.

    `settled`: the visitor owns what they bought and is past the purchase; staying counts double,
    so only a clear new situation (orienting on another product) moves them back.
    """
    scores = {phase: 0.0 for phase in PHASES}
    for name, probability in reading.phase_ranking:
        if name in scores:
            scores[name] = probability
    scores[home_phase] += HOME_BONUS
    if previous in scores:
        scores[previous] += STAY_BONUS * (2 if settled else 1)
    return max(PHASES, key=lambda phase: scores[phase])


def _clarification(reading: Reading, home: Mapping[str, str]) -> tuple[str, str] | None:
    topics = _topics(reading, home)
    if len(topics) >= 2 and topics[0][1] + topics[1][1] >= CLARIFY_MIN:
        return topics[0][0], topics[1][0]
    return None


def understand(
    reading: Reading, home: Mapping[str, str], previous: str | None, settled: bool = False
) -> Understanding:
    """`home` maps each topic intent to its home phase; general intents are not in it."""
    intent = reading.intent
    if intent == FALLBACK_INTENT:
        best_two = [name for name, _ in reading.intent_ranking if name != FALLBACK_INTENT][:2]
        carried = _carried_topic(reading, home) if CARRIER_INTENTS & set(best_two) else None
        if carried is None:
            return Understanding(intent, _clear_phase(reading) or previous, _clarification(reading, home))
        intent = carried
        return Understanding(intent, resolve_phase(home[intent], reading, previous, settled))
    if intent in CARRIER_INTENTS:
        carried = _carried_topic(reading, home)
        if carried is None:
            return Understanding(intent, previous)
        intent = carried
    if intent not in home:
        return Understanding(intent, previous)
    phase = resolve_phase(home[intent], reading, previous, settled)
    topic = reading.confidence if intent == reading.intent else dict(reading.intent_ranking).get(intent, 0.0)
    if _unsupported_purchase((phase, home[intent]), reading, previous, topic):
        return Understanding(
            FALLBACK_INTENT, _clear_phase(reading) or previous, _clarification(reading, home)
        )
    return Understanding(intent, phase)


def _unsupported_purchase(
    phases: tuple[str, str], reading: Reading, previous: str | None, topic: float
) -> bool:
    """A first step past the purchase (the phase reached, or the topic's home) that neither the
    topic nor the situation reading is sure of."""
    bought = [phase for phase in phases if phase in PURCHASED_PHASES]
    if not bought or previous in PURCHASED_PHASES:
        return False
    situation = max(dict(reading.phase_ranking).get(phase, 0.0) for phase in bought)
    return topic < PURCHASE_JUMP_MIN and situation < PURCHASE_JUMP_MIN


def _clear_phase(reading: Reading) -> str | None:
    """ "ik heb sinds vorig jaar panelen en ..." says where the visitor is even when the topic is unclear."""
    name, confidence = reading.phase_ranking[0] if reading.phase_ranking else ("none", 0.0)
    return name if name in PHASES and confidence >= FALLBACK_PHASE_MIN else None


def _carried_topic(reading: Reading, home: Mapping[str, str]) -> str | None:
    """The question inside "Ik ben voorzitter van een VvE. We willen panelen op het platte dak."."""
    phase_name, phase_confidence = reading.phase_ranking[0] if reading.phase_ranking else ("none", 0.0)
    if phase_name not in PHASES or phase_confidence < CARRIER_PHASE_MIN:
        return None
    best = [name for name, _ in reading.intent_ranking if name != FALLBACK_INTENT][:2]
    topics = [(name, c) for name, c in _topics(reading, home) if name in best and c >= CARRIER_TOPIC_MIN]
    return topics[0][0] if topics else None


def top_phase(ranking: Sequence[tuple[str, float]]) -> str | None:
    """The phase classifier's own best phase, None for `none` (used in the evaluation's comparison)."""
    return next((name for name, _ in ranking[:1] if name in PHASES), None)
