"""Recognise which product a message is about: keywords from common.yml, compounds and small typos.

Marketers add synonyms, brands and misspellings in YAML; this module makes the obvious variants
of those keywords count too, so the list does not have to spell out every plural and typo.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.content.select import normalise

_TOKEN = re.compile(r"[a-z0-9]+")
# Keywords this long also count inside a compound ("luchtwarmtepompen", "zonnepanelensysteem").
COMPOUND_MIN = 7
# Words this long also count with one typo, and with two from twice this length.
TYPO_MIN = 7
_PLURALS = ("en", "s", "tje", "tjes", "n")
_SEEN_MAX = 50_000
_FILLERS = frozenset({"de", "het", "een", "mijn", "onze", "ons", "die", "dat", "en", "of"})


# "ik heb al ...", "we hebben sinds 2019 ...", "... liggen er sinds ...": the visitor has it already.
_HAVE = frozenset({"heb", "hebben", "hebt", "heeft", "had", "hadden"})
_ALREADY = frozenset({"al", "sinds", "reeds"})
_LYING = frozenset({"liggen", "ligt", "hangen", "hangt", "staan", "staat"})


def _said_as_owned(tokens: list[str], at: int) -> bool:
    """A have-verb or "liggen" with "al"/"sinds" around the product ("panelen hebben we al"), or "sinds" right after it."""
    before, after = set(tokens[max(0, at - 4) : at]), set(tokens[at + 1 : at + 4])
    around = before | after
    if around & (_HAVE | _LYING) and around & _ALREADY:
        return True
    return tokens[at + 1 : at + 2] == ["sinds"]


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance where swapping two neighbours counts once ("warmtepmop"), stopping past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i]
        for j in range(1, len(b) + 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cost = min(cost, before[j - 2] + 1)
            current.append(cost)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


class ProductMatcher:
    """Finds product ids in text; each product's keywords are normalised once."""

    def __init__(self, products: Iterable[tuple[str, Iterable[str]]]) -> None:
        self._phrases: list[tuple[str, str]] = []  # multi-word keywords: matched as a phrase
        self._words: list[tuple[str, str]] = []
        for product_id, keywords in products:
            for keyword in keywords:
                plain = " ".join(_TOKEN.findall(normalise(keyword)))
                if not plain:
                    continue
                target = self._phrases if " " in plain else self._words
                target.append((product_id, plain))
        # "lucht-water" is two tokens once normalised: also try it written together.
        self._words += [(pid, phrase.replace(" ", "")) for pid, phrase in self._phrases]
        self._seen: dict[str, tuple[str, ...]] = {}

    def _word_fits(self, token: str, keyword: str) -> bool:
        if token == keyword or any(token == keyword + ending for ending in _PLURALS):
            return True
        if len(keyword) >= COMPOUND_MIN and keyword in token:
            return True
        if len(keyword) >= TYPO_MIN and len(token) >= TYPO_MIN:
            limit = 2 if len(keyword) >= 2 * TYPO_MIN else 1
            return _distance(token, keyword, limit) <= limit
        return False

    def only_products(self, text: str) -> bool:
        """The message is nothing but a product name ("warmtepomp?", "de accu"): there is no question yet."""
        tokens = [t for t in _TOKEN.findall(normalise(text)) if t not in _FILLERS]
        if not tokens or len(tokens) > 3:
            return False
        joined = " ".join(tokens)
        return all(self.find(token) for token in tokens) or any(
            joined == phrase for _, phrase in self._phrases
        )

    def find(self, text: str) -> list[str]:
        """Product ids in the order of their first mention."""
        first = self._first_mentions(_TOKEN.findall(normalise(text)))
        return sorted(first, key=first.__getitem__)

    def focus(self, text: str, owned: Iterable[str] = ()) -> list[str]:
        """The products a message asks about: those named, less the ones the visitor says they have.

        "ik heb al zonnepanelen sinds 2019 en twijfel over een thuisbatterij" is about the battery;
        a product named only as already owned (in this message or earlier) is context, not the question.
        """
        tokens = _TOKEN.findall(normalise(text))
        first = self._first_mentions(tokens)
        named = sorted(first, key=first.__getitem__)
        had = set(owned) | {pid for pid, at in first.items() if _said_as_owned(tokens, at)}
        asked = [pid for pid in named if pid not in had]
        return asked or named

    def _first_mentions(self, tokens: list[str]) -> dict[str, int]:
        joined = " " + " ".join(tokens) + " "
        first: dict[str, int] = {}
        for product_id, phrase in self._phrases:
            at = joined.find(" " + phrase + " ")
            if at >= 0:
                position = joined[:at].count(" ")
                first[product_id] = min(first.get(product_id, position), position)
        for position, token in enumerate(tokens):
            for product_id in self._token_products(token):
                if product_id not in first or position < first[product_id]:
                    first[product_id] = position
        return first

    def _token_products(self, token: str) -> tuple[str, ...]:
        """The products one word names; remembered, since the edit distances cost milliseconds a message."""
        found = self._seen.get(token)
        if found is None:
            found = tuple(
                dict.fromkeys(pid for pid, keyword in self._words if self._word_fits(token, keyword))
            )
            if len(self._seen) >= _SEEN_MAX:
                self._seen.clear()  # bounded: a flood of new words cannot grow it without end
            self._seen[token] = found
        return found
