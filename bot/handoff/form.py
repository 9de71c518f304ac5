"""Reading the callback form's answers as people type them: name, phone number, moment, consent.

Every function takes raw text (already capped by the channel at MAX_MESSAGE_CHARS) and returns the
clean value or None; the form asks again at most twice, then gives up politely.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from bot.content.select import normalise

MAX_NAME_CHARS = 80
MAX_REASON_CHARS = 300
MAX_RETRIES = 2
_TAG = re.compile(r"<[^>]{0,200}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Letters (any script), spaces, apostrophes, hyphens and dots: "Jan-Willem de Vries", "A. Öztürk".
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.-]{1,2}[^\W\d_]+)*\.?$")
_NAME_INTRO = re.compile(r"^(?:ik ben|ik heet|mijn naam is|naam is|met|dit is)\s+", re.IGNORECASE)
_YES = frozenset(
    {
        "ja",
        "ja graag",
        "jazeker",
        "ja hoor",
        "ja prima",
        "ja bel me",
        "graag",
        "prima",
        "goed",
        "ok",
        "oke",
        "okay",
        "akkoord",
        "dat is goed",
        "is goed",
        "prima zo",
        "klopt",
        "yes",
        "ja dit nummer",
        "dit nummer",
        "ja dat klopt",
        "zeker",
        "doe maar",
        "ja akkoord",
    }
)
_NO = frozenset(
    {
        "nee",
        "nee niet bellen",
        "niet bellen",
        "nee dank je",
        "nee bedankt",
        "liever niet",
        "no",
        "niet",
        "ander nummer",
        "een ander nummer",
        "nee ander nummer",
        "nee een ander nummer",
    }
)


def clean_text(text: str) -> str:
    """No markup, no control characters, single spaces: what may be shown to a colleague or a CRM."""
    text = html.unescape(_TAG.sub(" ", text))
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", text))
    return " ".join(text.replace("<", " ").replace(">", " ").split())


def _plain(text: str) -> str:
    return re.sub(r"[^\w ]+", "", normalise(clean_text(text))).strip()


# "ach laat maar, ik bel zelf wel": a word of hesitation before the stop phrase.
_LEAD_IN = re.compile(r"^(?:(?:ach|och|oh|o|nou|ok|oke|okay|sorry|hmm+|eh+|ehm|pff+|ja|nee)\s+)+")


def is_stop(text: str, phrases: Iterable[str]) -> bool:
    """The visitor ends the questions ("laat maar", "nee laat maar zitten", "ach laat maar, ...")."""
    plain = _plain(text)
    candidates = {plain, _LEAD_IN.sub("", plain)} - {""}
    return any(
        said == _plain(phrase) or said.startswith(_plain(phrase) + " ")
        for said in candidates
        for phrase in phrases
        if _plain(phrase)
    )


def read_name(text: str) -> str | None:
    """A person's name, 1-80 characters of letters; "Ik ben Jan" gives "Jan"; digits or a question are not."""
    name = _NAME_INTRO.sub("", clean_text(text)).strip(" ,.!")
    if not name or len(name) > MAX_NAME_CHARS or not _NAME.match(name):
        return None
    return name[0].upper() + name[1:]


def read_phone(text: str) -> str | None:
    """The number in international form (+31612345678), from 06-12345678, 0031 6 …, +32 …; else None.

    Dutch numbers are ten digits starting with 0; international ones 8-15 digits after + or 00.
    Letters in the answer make it no phone number ("bel me op het werk").
    """
    raw = clean_text(text)
    if len(raw) > 40 or re.search(r"[^\d\s+()./-]", raw):
        return None
    digits = re.sub(r"\D", "", raw)
    plus = raw.lstrip().startswith("+")
    if not plus and digits.startswith("00"):
        digits, plus = digits[2:], True
    if plus:
        if digits.startswith("310"):
            digits = "31" + digits[3:]  # +31 (0)6 …
        if not 8 <= len(digits) <= 15 or digits.startswith("0"):
            return None
        if digits.startswith("31") and len(digits) != 11:
            return None
        return "+" + digits
    if len(digits) == 10 and digits.startswith("0") and digits[1] != "0":
        return "+31" + digits[1:]
    return None


def phone_end(phone: str) -> str:
    """The last four digits, the only part of the number the assistant repeats."""
    return re.sub(r"\D", "", phone)[-4:]


def read_yes_no(text: str) -> bool | None:
    said = _plain(text)
    if said in _YES:
        return True
    if said in _NO:
        return False
    return None


def read_reason(text: str) -> str | None:
    reason = clean_text(text)[:MAX_REASON_CHARS].strip()
    return reason or None


def read_moment(text: str, moments: Iterable[tuple[str, str, Iterable[str]]]) -> str | None:
    """The id of the moment the visitor chose: its id (button payload), its title or one of its words."""
    said, choices = _plain(text), list(moments)
    if not said:
        return None
    for moment_id, title, _words in choices:
        if said in (_plain(moment_id), _plain(title)):
            return moment_id
    for moment_id, _title, words in choices:
        if any(_plain(word) and re.search(rf"\b{re.escape(_plain(word))}\b", said) for word in words):
            return moment_id
    return None
