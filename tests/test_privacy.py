"""Pseudonymisation and masking: what the touchpoint store may keep about a visitor."""

from __future__ import annotations

import hashlib
import hmac
import re
import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.privacy import is_bsn, mask, pseudonymise
from bot.settings import PROJECT_ROOT

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


# Issue 9, item 5: each of these was stored visible.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3511 EN", "[postcode]"),
        ("7811 DE", "[postcode]"),
        ("9725 AL", "[postcode]"),
        ("06 - 12345678", "[telefoon]"),
        ("010 - 123 45 67", "[telefoon]"),
        ("06/12345678", "[telefoon]"),
        ("06.12.34.56.78", "[telefoon]"),
        ("+31 (0)6 12 34 56 78", "[telefoon]"),
        ("0031 6 12 34 56 78", "[telefoon]"),
        ("NL91-ABNA-0417-1643-00", "[iban]"),
        ("NL91 ABNA 041 716 4300", "[iban]"),
        ("BSN 111222333", "BSN [bsn]"),
        ("jan.de.vries+nps@mail.zonwarmte.example.nl", "[e-mail]"),
    ],
)
def test_the_formats_of_the_issue_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


def _documented_examples() -> list[tuple[str, str]]:
    doc = (PROJECT_ROOT / "docs" / "PRIVACY-MASKING.md").read_text()
    table = doc.split("<!-- masking-examples:start -->")[1].split("<!-- masking-examples:end -->")[0]
    rows = [line.strip().strip("|").split("|") for line in table.strip().splitlines()[2:]]
    return [(typed.strip(), stored.strip()) for typed, stored in rows]


def test_the_documented_table_has_both_masked_and_kept_examples() -> None:
    examples = _documented_examples()
    assert len(examples) >= 20
    assert any(typed == stored for typed, stored in examples)
    assert any(typed != stored for typed, stored in examples)


@pytest.mark.parametrize(("typed", "stored"), _documented_examples())
def test_the_documented_examples_hold(typed: str, stored: str) -> None:
    assert mask(typed) == stored


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("111222333", True),
        ("123456782", True),
        ("123456789", False),
        ("100234567", False),
        ("000000000", False),
    ],
)
def test_the_bsn_eleven_test(digits: str, valid: bool) -> None:
    assert is_bsn(digits) is valid


# Property-based: generate the formats people type and check nothing of them survives.

LETTER_PAIRS = st.tuples(
    st.sampled_from(string.ascii_uppercase), st.sampled_from(string.ascii_uppercase)
).map("".join)
SEPARATORS = st.sampled_from(["", " ", "-", " - ", "/", ".", "  "])


def _digits(count: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=string.digits, min_size=count, max_size=count)


def _split(draw: st.DrawFn, digits: str, separators: st.SearchStrategy[str]) -> str:
    """The digits with a drawn separator (or none) after each one."""
    return "".join(digit + draw(separators) for digit in digits[:-1]) + digits[-1]


@st.composite
def postcodes(draw: st.DrawFn) -> str:
    number = draw(st.integers(min_value=1000, max_value=9999))
    letters = draw(LETTER_PAIRS.filter(lambda pair: pair not in {"SA", "SD", "SS"}))
    return f"{number}{draw(st.sampled_from(['', ' ']))}{letters}"


@given(postcodes(), st.sampled_from(["{}", "ik woon op {} in Utrecht", "adres: Dorpsstraat 3, {} Ede"]))
def test_every_issued_postcode_in_capitals_is_masked(postcode: str, sentence: str) -> None:
    assert mask(sentence.format(postcode)) == sentence.format("[postcode]")


@given(postcodes())
def test_a_postcode_written_solid_in_lower_case_is_masked(postcode: str) -> None:
    assert mask(postcode.replace(" ", "").lower()) == "[postcode]"


@st.composite
def national_phones(draw: st.DrawFn) -> str:
    area = draw(st.sampled_from(["06", "010", "020", "030", "0413", "085"]))
    subscriber = _split(draw, draw(_digits(10 - len(area))), SEPARATORS)
    return draw(st.sampled_from([area, f"({area})"])) + draw(SEPARATORS) + subscriber


@st.composite
def international_phones(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["+31", "0031", "+31 (0)", "+31(0)", "+32", "+49"]))
    number = draw(st.sampled_from(["6", "20", "10"])) + draw(_digits(8))
    return prefix + draw(st.sampled_from(["", " ", "-"])) + _split(draw, number, SEPARATORS)


@given(
    st.one_of(national_phones(), international_phones()), st.sampled_from(["{}", "bel me op {} na vijven"])
)
def test_phone_numbers_with_any_common_separators_are_masked(phone: str, sentence: str) -> None:
    assert mask(sentence.format(phone)) == sentence.format("[telefoon]")


@st.composite
def dutch_ibans(draw: st.DrawFn) -> str:
    solid = "NL" + draw(_digits(2)) + draw(st.text(alphabet=string.ascii_uppercase, min_size=4, max_size=4))
    solid += draw(_digits(10))
    style = draw(st.sampled_from(["solid", "groups", "dashes", "any"]))
    if style == "solid":
        iban = solid
    elif style in ("groups", "dashes"):
        iban = (" " if style == "groups" else "-").join(solid[i : i + 4] for i in range(0, len(solid), 4))
    else:  # "NL" and the bank code stay one word each
        gaps = st.sampled_from(["", "", " ", "-"])
        iban = (
            "NL"
            + draw(gaps)
            + _split(draw, solid[2:4], gaps)
            + draw(gaps)
            + solid[4:8]
            + draw(gaps)
            + _split(draw, solid[8:], gaps)
        )
    return draw(st.sampled_from([iban, iban.lower()]))


@given(dutch_ibans())
def test_ibans_with_dashes_or_spaces_are_masked_with_their_bank_code(iban: str) -> None:
    masked = mask(f"mijn rekening is {iban}, graag")
    assert masked == "mijn rekening is [iban], graag"


@st.composite
def bsns(draw: st.DrawFn) -> str:
    first = draw(_digits(8))
    total = sum(int(digit) * weight for digit, weight in zip(first, range(9, 1, -1), strict=True))
    check = total % 11  # the last digit d must make total - d a multiple of 11
    assume(check <= 9 and first + str(check) != "0" * 9)
    digits = first + str(check)
    return draw(
        st.sampled_from(
            [digits, f"{digits[:3]} {digits[3:6]} {digits[6:]}", f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"]
        )
    )


@given(bsns())
def test_a_bsn_that_passes_the_eleven_test_is_masked(bsn: str) -> None:
    assert is_bsn(re.sub(r"\D", "", bsn))
    assert mask(f"BSN: {bsn}") == "BSN: [bsn]"


@given(_digits(9))
def test_nine_digits_that_fail_the_eleven_test_stay(digits: str) -> None:
    assume(not is_bsn(digits))
    assert mask(f"ordernummer {digits}") == f"ordernummer {digits}"


LABEL = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8)


@st.composite
def emails(draw: st.DrawFn) -> str:
    local = ".".join(draw(st.lists(LABEL, min_size=1, max_size=3)))
    if draw(st.booleans()):
        local += "+" + draw(LABEL)
    domains = draw(st.lists(LABEL, min_size=1, max_size=3))
    tld = draw(st.sampled_from(["nl", "com", "co.uk", "example"]))
    return f"{local}@{'.'.join(domains)}.{tld}"


@given(emails())
def test_email_addresses_with_subdomains_and_plus_addressing_are_masked(email: str) -> None:
    assert mask(f"mail me op {email} graag") == "mail me op [e-mail] graag"


@given(
    st.sampled_from(["offertenummer {y}-{n:04d}", "order {n}", "€ {n},00", "{n} kWh per jaar", "{n} Wp"]),
    st.integers(min_value=2000, max_value=2030),
    st.integers(min_value=1, max_value=9999),
)
def test_order_quote_numbers_amounts_and_kwh_figures_stay(pattern: str, y: int, n: int) -> None:
    text = pattern.format(y=y, n=n)
    assert mask(text) == text
