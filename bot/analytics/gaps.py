"""Content gaps: unanswered messages grouped by similar wording, so one group is one missing answer.

The database counts each distinct (masked) message; only those few thousand rows are grouped here:
two messages fall in one group when their word sets (lower case, no accents or punctuation, no
filler words, plural and doubled vowels folded: "laadpalen" ~ "laadpaal") share at least a third
of their words (Jaccard).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.analytics.model import Gap
from bot.content.select import normalise
from bot.privacy import mask

SIMILAR = 1 / 3
MAX_EXAMPLE = 200
_WORD = re.compile(r"[a-z0-9]+")
_FILLER = frozenset((
    "de", "het", "een", "en", "of", "ik", "je", "jij", "u", "we", "wij", "mijn", "is", "zijn",
    "ben", "was", "wat", "hoe", "kan", "kun", "kunt", "wil", "graag", "dat", "die", "dit", "er",
    "op", "in", "aan", "met", "voor", "van", "te", "om", "naar", "ook", "nog", "niet", "wel", "al",
    "mag", "jullie", "hebben", "heeft", "doen", "doet", "kunnen",
))  # fmt: skip


_DOUBLE = re.compile(r"([aeiou])\1")


def stem(word: str) -> str:
    """A rough Dutch stem: no plural -en/-s, doubled vowels single (so 'palen' and 'paal' meet)."""
    for suffix in ("en", "s"):
        if len(word) > 4 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return _DOUBLE.sub(r"\1", word)


def words(message: str) -> frozenset[str]:
    found = [stem(word) for word in _WORD.findall(normalise(message)) if word not in _FILLER]
    return frozenset(found) or frozenset(_WORD.findall(normalise(message)))


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return a == b
    return len(a & b) / len(a | b) >= SIMILAR


def group_gaps(counted: Sequence[tuple[str, int]], limit: int) -> list[Gap]:
    """`counted`: (message, count), most frequent first; the example is each group's most frequent one."""
    groups: list[tuple[frozenset[str], str, int, int]] = []
    for message, count in counted:
        key = words(message)
        for index, (group_key, example, total, wordings) in enumerate(groups):
            if _similar(key, group_key):
                groups[index] = (group_key, example, total + count, wordings + 1)
                break
        else:
            groups.append((key, message, count, 1))
    ranked = sorted(groups, key=lambda g: (-g[2], g[1]))[:limit]
    return [
        Gap(example=mask(example)[:MAX_EXAMPLE], count=total, wordings=n) for _, example, total, n in ranked
    ]
