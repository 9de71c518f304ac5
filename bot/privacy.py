"""Pseudonymisation and masking, so the touchpoint store never holds who someone is or how to reach them.

The store keys touchpoints by a keyed hash of the sender id: stable, so one visitor's sessions
can be linked, but not reversible without PSEUDONYM_KEY. Free text is masked before it is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Country code, check digits, then 11 to 30 letters/digits, optionally in groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}[ ]?(?:[A-Z0-9]{4}[ ]?){2,7}[A-Z0-9]{1,4}\b", re.IGNORECASE)
# +31 6 1234 5678, 0031 20 123 4567, +44 (0)20 7946 0958: a country prefix and 8 to 15 digits.
_PHONE_INTERNATIONAL = re.compile(r"(?:\+|\b00)[1-9](?:[\s.()-]{0,2}\d){7,14}(?!\d)")
# 06-12345678, 020-1234567, (020) 123 45 67, 0413 123456: ten digits starting with 0.
# Not a date such as 01-02-2024 followed by a time, which also has ten digits.
_PHONE_NATIONAL = re.compile(
    r"(?<![\w+])\(?(?!\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})0[1-9](?:[\s.()-]{0,2}\d){8}(?![\d:])"
)
# 1234 AB, 1234AB, 1234 ab; the letter pair decides (see _postcode).
_POSTCODE = re.compile(r"\b[1-9]\d{3} ?[A-Za-z]{2}\b")
# Pairs that follow a number in ordinary text ("in 2024 is", "1500 en", "4000 wp"), and the unused SA, SD, SS.
_NOT_POSTCODE_LETTERS = re.compile(
    r"sa|sd|ss|en|is|in|op|al|om|te|de|ik|je|we|ze|uw|of|na|nu|zo|af|ja|er|ok|kw|wp|pv|km|kg|cm|mm|jr",
    re.IGNORECASE,
)

# Order matters: an IBAN holds digit runs the phone patterns would otherwise take.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL, "[e-mail]"),
    (_IBAN, "[iban]"),
    (_PHONE_INTERNATIONAL, "[telefoon]"),
    (_PHONE_NATIONAL, "[telefoon]"),
)


def pseudonymise(sender_id: str, key: str) -> str:
    """HMAC-SHA256 of the sender id: the same visitor always maps to the same key, without the raw id."""
    if not key:
        raise ValueError("a pseudonymisation key is required")
    return hmac.new(key.encode("utf-8"), sender_id.encode("utf-8"), hashlib.sha256).hexdigest()


def _postcode(match: re.Match[str]) -> str:
    return match.group() if _NOT_POSTCODE_LETTERS.fullmatch(match.group()[-2:]) else "[postcode]"


def mask(text: str) -> str:
    """Replace e-mail addresses, phone numbers, IBANs and postcodes with placeholders."""
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    return _POSTCODE.sub(_postcode, text)
