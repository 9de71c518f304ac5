"""Pseudonymisation and masking, so the touchpoint store never holds who someone is or how to reach them.

The store keys touchpoints by a keyed hash of the sender id: stable, so one visitor's sessions
can be linked, but not reversible without PSEUDONYM_KEY. Free text is masked before it is stored.
What is masked and what stays (order and quote numbers, amounts, kWh figures) is documented,
with examples, in docs/PRIVACY-MASKING.md; tests/test_privacy.py checks every row of that table.
"""

from __future__ import annotations

import hashlib
import hmac
import re

# Local part with dots and plus-addressing, then any number of (sub)domain labels.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SEP = r"[ -]?"  # IBANs are written solid, in groups of four, or with dashes
# Dutch IBAN: NL, two check digits, a four-letter bank code and ten digits.
_IBAN_NL = re.compile(
    r"\bNL" + _SEP + r"\d" + _SEP + r"\d" + _SEP + r"[A-Z]{4}(?:" + _SEP + r"\d){10}(?!\d)", re.I
)
# Other countries: country code, check digits, then 11 to 30 letters/digits, optionally in groups of four.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}" + _SEP + r"(?:[A-Z0-9]{4}" + _SEP + r"){2,7}[A-Z0-9]{1,4}\b", re.I)
# Between the digits of a phone number: spaces, dots, dashes, slashes, brackets ("06 - 123", "(010) - 123").
_GAP = r"[\s./()-]{0,4}"
# +31 6 1234 5678, 0031 20 123 4567, +44 (0)20 7946 0958: a country prefix and 8 to 15 digits.
_PHONE_INTERNATIONAL = re.compile(r"(?:\+|\b00)[1-9](?:" + _GAP + r"\d){7,14}(?!\d)")
# 06-12345678, 010 - 123 45 67, 06/12345678, 06.12.34.56.78: ten digits starting with 0.
# Not a date such as 01-02-2024 (followed by a time or not), which also starts with a 0.
_PHONE_NATIONAL = re.compile(
    r"(?<![\w+])\(?(?!\d{1,2}([-/.])\d{1,2}\1\d{2,4}(?![-/.]?\d))0[1-9](?:" + _GAP + r"\d){8}(?![\d:])"
)
# Nine digits, solid or grouped as people copy them from a letter ("123 456 782", "1234.56.782").
_BSN = re.compile(r"(?<![\w.,-])(?:\d{9}|\d{3}[ .]\d{3}[ .]\d{3}|\d{4}\.\d{2}\.\d{3})(?![\w,]|\.\d)")
# 1234 AB, 1234AB, 1234 ab; the letters and their case decide (see _postcode).
_POSTCODE = re.compile(r"\b[1-9]\d{3}( ?)([A-Za-z]{2})\b")
_POSTCODE_WORD_BEFORE = re.compile(r"(?:postcode|pc)\W{0,3}$", re.I)
# Letter pairs never issued as postcodes.
_UNUSED_LETTERS = frozenset({"SA", "SD", "SS"})
# Pairs that follow a number in ordinary lower-case text ("in 2024 is", "1500 en", "4000 wp").
_WORD_LETTERS = frozenset(
    {"en", "is", "in", "op", "al", "om", "te", "de", "ik", "je", "we", "ze", "uw", "of", "na", "nu", "zo"}
    | {"af", "ja", "er", "ok", "kw", "wp", "pv", "km", "kg", "cm", "mm", "jr"}
)

# Order matters: an IBAN holds digit runs the phone patterns would otherwise take, and a phone
# number holds nine-digit runs the BSN pattern would otherwise take.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_EMAIL, "[e-mail]"),
    (_IBAN_NL, "[iban]"),
    (_IBAN, "[iban]"),
    (_PHONE_INTERNATIONAL, "[telefoon]"),
    (_PHONE_NATIONAL, "[telefoon]"),
)


def pseudonymise(sender_id: str, key: str) -> str:
    """HMAC-SHA256 of the sender id: the same visitor always maps to the same key, without the raw id."""
    if not key:
        raise ValueError("a pseudonymisation key is required")
    return hmac.new(key.encode("utf-8"), sender_id.encode("utf-8"), hashlib.sha256).hexdigest()


def is_bsn(digits: str) -> bool:
    """The eleven-test (elfproef) of a citizen service number: most nine-digit order numbers fail it."""
    if len(digits) != 9 or not digits.isdigit() or digits == "0" * 9:
        return False
    weighted = zip(digits[:8], range(9, 1, -1), strict=True)
    total = sum(int(digit) * weight for digit, weight in weighted) - int(digits[8])
    return total % 11 == 0


def _bsn(match: re.Match[str]) -> str:
    return "[bsn]" if is_bsn(re.sub(r"\D", "", match.group())) else match.group()


def _postcode(match: re.Match[str]) -> str:
    """Upper case or written solid ("3511 EN", "3511en") is a postcode; "1500 en" in a sentence is not."""
    space, letters = match.group(1), match.group(2)
    if letters.upper() in _UNUSED_LETTERS:
        return match.group()
    said_postcode = _POSTCODE_WORD_BEFORE.search(match.string, 0, match.start()) is not None
    if said_postcode or letters.isupper() or not space or letters.lower() not in _WORD_LETTERS:
        return "[postcode]"
    return match.group()


def mask(text: str) -> str:
    """Replace e-mail addresses, IBANs, phone numbers, BSNs and postcodes with placeholders."""
    for pattern, placeholder in _MASKS:
        text = pattern.sub(placeholder, text)
    text = _BSN.sub(_bsn, text)
    return _POSTCODE.sub(_postcode, text)
