"""The messages both bots get: training examples from data/nlu (speed, not understanding, is measured)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

# Intents that open a multi-turn form (callback request): the rest of a conversation would then
# be answers to the form, a different path from the per-message one this benchmark compares.
SKIPPED_INTENTS = frozenset({"request_human", "give_score"})
PER_INTENT = 6
MAX_CHARS = 300
_ENTITY = re.compile(r"\[([^\]]*)\]\((\w+)\)|\[([^\]]*)\]\{[^}]*\}")
_ENTITY_NAME = re.compile(r"\]\((\w+)\)|\]\{\s*\"entity\"\s*:\s*\"(\w+)\"")
PROBE_INTENT = "price"


@dataclass(frozen=True)
class NluData:
    intents: tuple[str, ...]
    entities: tuple[str, ...]
    examples: dict[str, list[str]]  # intent -> plain texts (entity markup removed)


def _plain(text: str) -> str:
    return _ENTITY.sub(lambda m: m.group(1) or m.group(3) or "", text).strip()


def read_nlu(directory: Path) -> NluData:
    """Intents, entity names and examples of every `nlu:` block under `directory`."""
    examples: dict[str, list[str]] = {}
    entities: set[str] = set()
    for path in sorted(directory.rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            if not isinstance(block, dict) or "intent" not in block:
                continue
            lines = str(block.get("examples") or "").splitlines()
            for line in lines:
                raw = line.strip()
                if not raw.startswith("- "):
                    continue
                for match in _ENTITY_NAME.finditer(raw):
                    entities.add(match.group(1) or match.group(2))
                examples.setdefault(str(block["intent"]), []).append(_plain(raw[2:]))
    return NluData(tuple(sorted(examples)), tuple(sorted(entities)), examples)


def messages(data: NluData) -> list[str]:
    """A fixed, interleaved list: PER_INTENT examples of every intent, round robin, short enough."""
    pools = [
        [text for text in data.examples[intent] if 0 < len(text) <= MAX_CHARS][:PER_INTENT]
        for intent in data.intents
        if intent not in SKIPPED_INTENTS
    ]
    return [pool[i] for i in range(PER_INTENT) for pool in pools if i < len(pool)]


def probe(data: NluData) -> str:
    """The message sent at the measured positions of a growing conversation, so only the length differs."""
    return next(text for text in data.examples[PROBE_INTENT] if len(text) <= MAX_CHARS)
