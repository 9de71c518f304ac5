"""Net Promoter Score: reading a 0-10 answer typed in Dutch, categories, the formula, and when to ask.

Visitors answer in their own words ("een dikke 8", "8/10", "zeven", "6, de monteur was te laat"),
so the parser looks for one score in the answer and treats the rest as the reason.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Category = Literal["promoter", "passive", "detractor"]

# Only this much of an answer is read: a score sits at the start, and a 10,000-character paste
# must not cost regex time. The reason is cut separately (the form caps it at 1000 characters).
PARSE_PREFIX_CHARS = 300

_WORDS: dict[str, int] = {
    "nul": 0,
    "een": 1,
    "één": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
    "tien": 10,
}
_ARTICLES = frozenset({"een", "één"})
# One score: optional "een dikke", the number (digits with at most two decimals, or a word), an optional
# half ("½", "en een half"), scale ("/10", "van de 10", "uit 10", "op 10") and modifier ("+", "-", "min").
# Words only on word boundaries ("geen" holds no "een"); not preceded by a minus, a digit group or a
# clock time, so "-3", "10.000" and "10:30" are no scores.
_SCORE = re.compile(
    r"(?P<lead>(?:(?<!\w)(?:een|één)\s+)?(?:(?<!\w)(?:dikke|vette|ruime|krappe|zwakke|mooie|volle)\s+)?)"
    r"(?<![\w.,/+\-−:])(?P<value>\d{1,3}(?:[.,]\d{1,2})?|" + "|".join(_WORDS) + r"|elf|twaalf|honderd)"
    r"(?!(?!½)\w|[.,:]\d)"
    r"(?P<half>\s*½|\s+en\s+een\s+half\b)?"
    r"(?P<scale>\s*(?:/|van(?:\s+de)?|uit|op(?:\s+de)?)\s*(?P<of>\d+|tien)(?!\w))?"
    r"(?P<modifier>\s*(?:\+|-(?!\s*\d)|−|\bmin\b|\bplus\b))?",
    re.IGNORECASE,
)
# "- 3" or "min 3" as the whole answer is negative; "Prima - 9" uses the dash as punctuation.
_NEGATIVE = re.compile(r"\s*(?:[-−]|min\b)\s*", re.IGNORECASE)
# "een" on its own (or before a comma) is the score 1; before other words it is an article.
_ALONE = re.compile(r"\s*(?:$|[,.;:!?])")
_NUMBER = r"(?:(?:een|één)\s+)?(?:\d+|nul|twee|drie|vier|vijf|zes|zeven|acht|negen|tien)\b"
# "7 of 8", "7-8", "tussen 7 en 8", "een 8 of een 9": two scores offered, so neither is the answer.
_RANGE_AFTER = re.compile(r"\s*(?:-|–|of|à|a|tot|en)\s*(?!een\s+half\b)" + _NUMBER, re.IGNORECASE)
_SCALE_PHRASE = re.compile(
    r"(?:op\s+)?een\s+schaal\s+van\s+(?:0|nul|1|een|één)\s*(?:tot(?:\s+en\s+met)?|t/m|-)\s*(?:10|tien)",
    re.IGNORECASE,
)
# A number followed by a unit is a quantity ("10 minuten", "2 weken", "5 euro", "10 panelen", "8%").
_UNIT_AFTER = re.compile(
    r"\s*(?:seconden?|sec|minuten|minuut|min|kwartier|uur|uren|dagen|dag|weken|week|maanden|maand|jaren|jaar"
    r"|keer|maal|euro|eur|cent|€|panelen|paneel|batterijen|batterij|kwh|kw|kwp|wp|watt|graden|°|%|procent"
    r"|m2|m²|meter|km)(?!\w)",
    re.IGNORECASE,
)
# A number after these names a time, a thing or money ("om 10", "huisnummer 8", "€ 5"), or is denied
# ("geen 10 maar een 8"). Read on the few characters before the number only.
_NAMING_BEFORE = re.compile(
    r"(?:(?<!\w)(?:geen|niet|om|rond|tegen|nummer|nr|huisnummer|code|foutcode|storingscode|stap|optie|week)\.?"
    r"|€|eur)\s*$",
    re.IGNORECASE,
)
# Words before a number that say it is the score: "cijfer 8", "ik geef (jullie) een 8", "score: 9".
_SCORE_WORD_BEFORE = re.compile(
    r"(?<!\w)(?:cijfer|score|geef|geven|beoordeling)\b[^\d]{0,20}$", re.IGNORECASE
)
_LOOKBEHIND_CHARS = 30
# Words around a score that say nothing about why: "ik geef (jullie)", "mijn cijfer is", "want".
_LEAD_IN = re.compile(
    r"^[\s,.;:!?-]*(?:ik\s+geef(?:\s+(?:jullie|u|je|jou|het))?|mijn\s+cijfer(?:\s+is)?|cijfer|score"
    r"|nou|hmm+|eh+|want|omdat|vanwege)\b",
    re.IGNORECASE,
)
_TRIM = " \t\r\n,.;:!?-–—()\"'"
_FILLER = frozenset({"denk ik", "hoor", "ofzo", "of zo", "zeker", "wel", "denk", "ongeveer", "zou ik zeggen"})


def _candidates(text: str) -> Iterable[tuple[int, re.Match[str]]]:
    """Every score-like number in the text with its rounded value, in order; quantities left out."""
    for match in _SCORE.finditer(text):
        raw = match.group("value").lower()
        if raw in _WORDS:
            value = Decimal(_WORDS[raw])
        elif raw[0].isdigit():
            value = Decimal(raw.replace(",", "."))
        else:  # elf, twaalf, honderd: recognised so they are refused, not read as "een"
            continue
        of = (match.group("of") or "10").lower()
        if match.group("half"):
            value += Decimal("0.5")
        article = raw in _ARTICLES and not match.group("scale")
        if of not in {"10", "tien"} or value > 10 or (article and not _ALONE.match(text, match.end())):
            continue
        if _NEGATIVE.fullmatch(text, 0, match.start("value")) or _is_quantity(text, match):
            continue
        yield int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)), match


def _has_article(match: re.Match[str]) -> bool:
    return bool(match.group("lead").strip())


def _at_end(text: str, match: re.Match[str]) -> bool:
    rest = text[match.end() :].strip(_TRIM).lower()
    return not rest or rest in _FILLER


def _at_start(text: str, match: re.Match[str]) -> bool:
    before = text[: match.start()]
    while (lead_in := _LEAD_IN.match(before)) is not None:
        before = before[lead_in.end() :]
    return not before.strip(_TRIM)


def _is_quantity(text: str, match: re.Match[str]) -> bool:
    """A duration, amount, count or name rather than a score: "10 minuten", "€ 5", "om 10", "geen 10"."""
    before = text[max(0, match.start() - _LOOKBEHIND_CHARS) : match.start()]
    if _NAMING_BEFORE.search(before):
        return True
    if (match.group("modifier") or "").strip().lower() == "min":
        # "een 7 min" and "zes min" are a low 7 and 6; "10 min, daarna opgelost" are ten minutes.
        return not _has_article(match) and not _at_end(text, match)
    return _UNIT_AFTER.match(text, match.end()) is not None


def _marked(text: str, match: re.Match[str]) -> bool:
    """Said like a score: with "een", "cijfer" or "/10" in front or behind, or opening or closing the answer."""
    before = text[max(0, match.start() - _LOOKBEHIND_CHARS) : match.start()]
    return (
        _has_article(match)
        or bool(match.group("scale"))
        or _SCORE_WORD_BEFORE.search(before) is not None
        or _at_start(text, match)
        or _at_end(text, match)
    )


def _find(text: str) -> tuple[int, re.Match[str]] | None:
    """The score and its match in the (normalised) prefix; None when there is none or two remain."""
    prefix = _SCALE_PHRASE.sub(" ", text[:PARSE_PREFIX_CHARS])
    found = list(_candidates(prefix))
    # "een" is an article when another number follows ("een 8"), and only means 1 on its own.
    numbers = [(score, match) for score, match in found if match.group("value").lower() not in _ARTICLES]
    pool = numbers or found
    if any(
        not match.group("scale")
        and not match.group("half")
        and _RANGE_AFTER.match(prefix, match.end("value"))
        for _, match in pool
    ):
        return None
    if len(pool) > 1:
        # Keep the one said like a score; with two of those ("7, mijn buurman gaf een 9") ask again.
        pool = [(score, match) for score, match in pool if _marked(prefix, match)]
    return pool[0] if len(pool) == 1 else None


def parse_score(text: str) -> int | None:
    """Read a 0-10 score; decimals round half up (8,5 → 9), "7+" and "een 7 min" count as 7.

    NPS needs a whole number, so a half point goes up as in Dutch school marks. Anything outside
    0-10, another scale ("4/5"), two scores ("7 of 8") or no number at all gives None.
    """
    return split_score_and_reason(text)[0]


def split_score_and_reason(text: str) -> tuple[int | None, str | None]:
    """Split "6, de monteur was te laat" into (6, "de monteur was te laat"); (None, None) without a score."""
    if not text or not text.strip():
        return None, None
    found = _find(text)
    if found is None:
        return None, None
    score, match = found
    # The match ran on a normalised prefix: cut the score from it and append the unread rest of the text.
    rest = match.string[: match.start()] + " " + match.string[match.end() :]
    if len(text) > PARSE_PREFIX_CHARS:
        rest += text[PARSE_PREFIX_CHARS:]
    return score, _reason(rest)


# "I will not (or cannot) give a score": the form stops politely instead of answering it as a topic.
# "geen idee" / "weet ik niet" are not refusals: they are asked once more, like any unreadable answer.
_DECLINE = re.compile(
    r"(?<!\w)(?:"
    r"(?:kan|kun|wil|ga)\s+(?:ik|je|jij|u)\s+(?:\w+\s+){0,3}?(?:niet|geen)\s+(?:\w+\s+){0,2}?"
    r"(?:beoordelen|zeggen|geven|invullen|scoren|antwoorden)"
    r"|(?:nog\s+)?geen\s+(?:klant|cijfer|score|mening)"
    r"|niet\s+(?:te\s+)?beoordelen|liever\s+niet|sla\s+(?:\w+\s+)?over"
    r"|geen\s+zin|niet\s+van\s+toepassing|nvt|n\.v\.t"
    r")(?!\w)",
    re.IGNORECASE,
)


def declines_to_score(text: str) -> bool:
    """The answer refuses to give a score ("Ik ben nog geen klant, dat kan ik niet beoordelen")."""
    prefix = text[:PARSE_PREFIX_CHARS]
    return split_score_and_reason(prefix)[0] is None and _DECLINE.search(prefix) is not None


def _reason(rest: str) -> str | None:
    reason = rest
    while (lead_in := _LEAD_IN.match(reason)) is not None:
        reason = reason[lead_in.end() :]
    reason = re.sub(r"\s+", " ", reason.strip(_TRIM))
    if not any(char.isalpha() for char in reason) or reason.lower() in _FILLER:
        return None
    return reason


def category(score: int) -> Category:
    """9-10 promoter, 7-8 passive, 0-6 detractor (the standard NPS bands)."""
    if not 0 <= score <= 10:
        raise ValueError(f"an NPS score is 0 to 10, got {score}")
    if score >= 9:
        return "promoter"
    return "passive" if score >= 7 else "detractor"


def nps(scores: Iterable[int | None]) -> float:
    """Percentage promoters minus percentage detractors, from -100 to 100.

    None means "not answered" and is left out of the count; 0 is a real answer (a detractor).
    Without any answer the score is undefined, so that raises ValueError rather than pretend 0.
    """
    answered = [score for score in scores if score is not None]
    if not answered:
        raise ValueError("the NPS of no answers is undefined")
    categories = [category(score) for score in answered]
    promoters = categories.count("promoter")
    detractors = categories.count("detractor")
    return 100.0 * (promoters - detractors) / len(answered)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def should_ask(
    phase: str | None,
    last_nps_at: datetime | None,
    now: datetime,
    ask_after_phases: Collection[str],
    cooldown_days: int,
) -> bool:
    """Ask only in a phase where the experience is complete, and not again within the cooldown.

    Naive datetimes are read as UTC. A last answer in the future (clock skew) counts as recent.
    """
    if phase is None or phase not in ask_after_phases:
        return False
    if last_nps_at is None:
        return True
    return _utc(now) - _utc(last_nps_at) >= timedelta(days=cooldown_days)
