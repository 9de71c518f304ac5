"""The u-form for visitors who write formally, from the je-form texts, by rules marketers edit.

Writing every text twice would double the content and still miss combinations (a product
variant for a formal senior on WhatsApp). Instead common.yml lists phrase pairs ("heb je" →
"heeft u", "jouw" → "uw"), applied in order on whole words; `journey validate` warns about any
je-form word a rule does not cover, so the list stays complete as texts change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words that betray the je-form once the rules have run.
INFORMAL_WORDS = re.compile(r"(?<![\w-])(?:je|jij|jou|jouw|jouwe|jezelf|jullie zelf)(?![\w-])", re.IGNORECASE)


def _case_like(model: str, text: str) -> str:
    return text[:1].upper() + text[1:] if model[:1].isupper() else text


class FormalRewriter:
    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._rules = [
            (re.compile(r"(?<![\w-])" + re.escape(informal) + r"(?![\w-])", re.IGNORECASE), formal)
            for informal, formal in pairs
            if informal.strip()
        ]

    def __call__(self, text: str) -> str:
        for pattern, formal in self._rules:
            text = pattern.sub(lambda match, formal=formal: _case_like(match.group(), formal), text)
        return text

    def leftovers(self, text: str) -> list[str]:
        """je-form words still there after rewriting, with a little context for the marketer."""
        rewritten = self(text)
        return [rewritten[max(0, m.start() - 15) : m.end() + 15] for m in INFORMAL_WORDS.finditer(rewritten)]
