"""Pseudonymisation and masking: what the touchpoint store may keep about a visitor."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.privacy import mask, pseudonymise

KEY = "a-development-key-of-32-characters"


def test_pseudonym_is_stable_for_one_key() -> None:
    assert pseudonymise("whatsapp:+31612345678", KEY) == pseudonymise("whatsapp:+31612345678", KEY)


def test_pseudonym_is_the_hmac_sha256_hex_digest() -> None:
    expected = hmac.new(KEY.encode(), b"visitor-1", hashlib.sha256).hexdigest()
    assert pseudonymise("visitor-1", KEY) == expected
    assert len(expected) == 64


def test_pseudonym_depends_on_the_key_and_the_sender() -> None:
    assert pseudonymise("visitor-1", KEY) != pseudonymise("visitor-1", KEY + "x")
    assert pseudonymise("visitor-1", KEY) != pseudonymise("visitor-2", KEY)


def test_pseudonym_is_not_a_plain_hash_of_the_sender() -> None:
    """Without the key, hashing a guessed phone number must not find the visitor."""
    sender = "+31612345678"
    pseudonym = pseudonymise(sender, KEY)
    assert sender not in pseudonym
    assert pseudonym != hashlib.sha256(sender.encode()).hexdigest()


def test_pseudonymising_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError):
        pseudonymise("visitor-1", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me op jan.de.vries@example.nl", "mail me op [e-mail]"),
        ("j.jansen+offerte@zon-warmte.co.uk graag", "[e-mail] graag"),
        ("bel me op 06-12345678", "bel me op [telefoon]"),
        ("0612345678", "[telefoon]"),
        ("06 12 34 56 78 na vijven", "[telefoon] na vijven"),
        ("mijn nummer is +31 6 1234 5678.", "mijn nummer is [telefoon]."),
        ("+31612345678", "[telefoon]"),
        ("+31 (0)6 12345678", "[telefoon]"),
        ("0031 6 12345678", "[telefoon]"),
        ("kantoor 020-1234567", "kantoor [telefoon]"),
        ("(020) 123 45 67", "[telefoon]"),
        ("0413-123456 overdag", "[telefoon] overdag"),
        ("+44 20 7946 0958", "[telefoon]"),
        ("IBAN NL91ABNA0417164300", "IBAN [iban]"),
        ("NL91 ABNA 0417 1643 00 is mijn rekening", "[iban] is mijn rekening"),
        ("nl91abna0417164300", "[iban]"),
        ("DE89 3704 0044 0532 0130 00", "[iban]"),
        ("ik woon in 1234 AB Amsterdam", "ik woon in [postcode] Amsterdam"),
        ("postcode 1234AB", "postcode [postcode]"),
        ("postcode 3512 jk", "postcode [postcode]"),
        ("Jan, 06-12345678, jan@example.nl, 1234 AB", "Jan, [telefoon], [e-mail], [postcode]"),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ik wil 10 panelen",
        "ik geef jullie een 8/10",
        "in 2024 is het dak vervangen",
        "we wonen hier sinds 1998",
        "1500 en nog wat",
        "een installatie van 4000 Wp",
        "verbruik 3500 kWh per jaar",
        "de offerte was € 12.450,00",
        "afspraak op 01-02-2024 10:00 uur",
        "offertenummer 12345",
        "een 7,5 voor de monteur",
        "3 panelen en 2 batterijen",
        "Robert'); DROP TABLE turns;--",
        "",
    ],
)
def test_ordinary_text_and_numbers_stay(text: str) -> None:
    assert mask(text) == text


@given(st.text(max_size=300))
def test_masking_never_raises_and_is_idempotent(text: str) -> None:
    once = mask(text)
    assert mask(once) == once
