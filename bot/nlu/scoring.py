"""Scores of an NLU model on a labelled set, as the running assistant would act on each message.

Pure Python: `scripts/evaluate.py` parses the messages with Rasa and hands the parses here; each
parse goes through `bot.understanding.understand` (the assistant's own rule), so the figures
are what visitors get, not what the raw classifier says.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.phases import PHASES
from bot.understanding import FALLBACK_INTENT, Reading, understand

NO_PHASE = "-"
UNCLEAR = "unclear"  # blind-set label: a person could not place it either; a fallback is right


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    phase: str | None
    products: tuple[str, ...] | None = None  # None: the set does not label products


@dataclass
class Scores:
    name: str
    messages: int
    intent_macro_f1: float
    intent_accuracy: float
    phase_accuracy: float
    phase_ci95: tuple[float, float]
    phase_messages: int
    no_phase_kept: float  # general/unclear messages that left the phase alone
    no_phase_messages: int
    unclear_fallback: float  # unclear messages answered with a clarifying question
    product_recall: float | None = None
    product_exact: float | None = None
    product_messages: int = 0
    product_false_alarms: float | None = None
    phase_confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    per_intent_f1: dict[str, float] = field(default_factory=dict)


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% confidence interval of a proportion; honest also near 0 and 1."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Macro-F1 over the gold labels (a label never predicted scores 0)."""
    labels = sorted(set(gold))
    per: dict[str, float] = {}
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        per[label] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return (sum(per.values()) / len(per) if per else 0.0), per


def score(
    name: str,
    examples: Sequence[Example],
    parses: Sequence[Mapping[str, object]],
    home: Mapping[str, str],
    detect_products: Callable[[str], list[str]] | None = None,
) -> Scores:
    """Each example is a first message: there is no earlier phase to keep."""
    understood = [understand(Reading.from_parse(p), home, None) for p in parses]
    gold_intents = [e.intent for e in examples if e.intent != UNCLEAR]
    predicted_intents = [u.intent for e, u in zip(examples, understood, strict=True) if e.intent != UNCLEAR]
    f1, per_intent = macro_f1(gold_intents, predicted_intents)
    with_phase = [
        (e.phase, u.phase or NO_PHASE) for e, u in zip(examples, understood, strict=True) if e.phase
    ]
    correct = sum(g == p for g, p in with_phase)
    without = [u for e, u in zip(examples, understood, strict=True) if not e.phase]
    unclear = [u for e, u in zip(examples, understood, strict=True) if e.intent == UNCLEAR]
    confusion: dict[str, dict[str, int]] = {}
    for expected, got in with_phase:
        row = confusion.setdefault(expected, {})
        row[got] = row.get(got, 0) + 1
    scores = Scores(
        name=name,
        messages=len(examples),
        intent_macro_f1=f1,
        intent_accuracy=sum(g == p for g, p in zip(gold_intents, predicted_intents, strict=True))
        / max(1, len(gold_intents)),
        phase_accuracy=correct / max(1, len(with_phase)),
        phase_ci95=wilson(correct, len(with_phase)),
        phase_messages=len(with_phase),
        no_phase_kept=sum(u.phase is None for u in without) / max(1, len(without)),
        no_phase_messages=len(without),
        unclear_fallback=sum(u.intent == FALLBACK_INTENT for u in unclear) / max(1, len(unclear)),
        phase_confusion=confusion,
        per_intent_f1=per_intent,
    )
    if detect_products is not None and any(e.products is not None for e in examples):
        _score_products(scores, examples, detect_products)
    return scores


def _score_products(scores: Scores, examples: Sequence[Example], detect: Callable[[str], list[str]]) -> None:
    labelled = [e for e in examples if e.products is not None]
    naming = [e for e in labelled if e.products]
    silent = [e for e in labelled if not e.products]
    found = [set(detect(e.text)) for e in naming]
    scores.product_messages = len(naming)
    if not naming:
        return
    scores.product_recall = sum(set(e.products or ()) <= f for e, f in zip(naming, found, strict=True)) / max(
        1, len(naming)
    )
    scores.product_exact = sum(set(e.products or ()) == f for e, f in zip(naming, found, strict=True)) / max(
        1, len(naming)
    )
    scores.product_false_alarms = sum(bool(detect(e.text)) for e in silent) / max(1, len(silent))


def confusion_table(scores: Scores) -> str:
    columns = [*PHASES, NO_PHASE]
    lines = [f"{'':>14}" + "".join(f"{column[:6]:>7}" for column in columns)]
    for phase in PHASES:
        row = scores.phase_confusion.get(phase, {})
        lines.append(f"{phase:>14}" + "".join(f"{row.get(column, 0):>7}" for column in columns))
    return "\n".join(lines)
