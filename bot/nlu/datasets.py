"""The blind test set and the near-duplicate guard that keeps it unseen.

The blind set (tests/blind/*.yml) was written by people who never saw data/nlu/; a training
example that is a near-copy of a blind message would make the blind figures a memory test, so
`near_duplicates` finds such pairs and the test suite fails on any.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.content.select import normalise
from bot.nlu.scoring import Example

_TOKEN = re.compile(r"[a-z0-9]+")
# Messages shorter than this are not compared: independent writers legitimately both write
# "ja", "8" or "hoi daar" — there is nothing to copy in them.
MIN_TOKENS = 4
# Two messages whose token sets overlap this much (Jaccard) are one message with a word changed.
JACCARD_LIMIT = 0.7


def tokens(text: str) -> frozenset[str]:
    """Case- and accent-folded word tokens ("Australië" and "australie" are the same)."""
    return frozenset(_TOKEN.findall(normalise(text)))


def load_blind(folder: Path) -> list[Example]:
    examples: list[Example] = []
    for path in sorted(folder.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("messages") or []:
            examples.append(
                Example(
                    text=str(entry["text"]),
                    intent=str(entry["intent"]),
                    phase=entry.get("phase") or None,
                    products=tuple(entry.get("products") or ()),
                )
            )
    return examples


@dataclass(frozen=True)
class NearDuplicate:
    kept: str  # the evaluation message
    training: str  # the training example that copies it
    overlap: float


def near_duplicates(evaluation: Sequence[str], training: Iterable[str]) -> list[NearDuplicate]:
    """Pairs with token-set Jaccard >= JACCARD_LIMIT, both at least MIN_TOKENS long."""
    index: dict[str, list[int]] = {}
    train_sets: list[tuple[str, frozenset[str]]] = []
    for text in training:
        words = tokens(text)
        if len(words) >= MIN_TOKENS:
            for word in words:
                index.setdefault(word, []).append(len(train_sets))
            train_sets.append((text, words))
    found: list[NearDuplicate] = []
    for text in evaluation:
        words = tokens(text)
        if len(words) < MIN_TOKENS:
            continue
        shared: dict[int, int] = {}
        for word in words:
            for position in index.get(word, ()):
                shared[position] = shared.get(position, 0) + 1
        for position, common in shared.items():
            other = train_sets[position][1]
            overlap = common / (len(words) + len(other) - common)
            if overlap >= JACCARD_LIMIT:
                found.append(NearDuplicate(text, train_sets[position][0], overlap))
    return found
