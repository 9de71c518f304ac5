"""Product recognition (keywords from journeys/common.yml, compounds, typos) and the form of address."""

from __future__ import annotations

import pytest

from bot.address import detect_address
from bot.content.loader import load_content
from bot.content.products import ProductMatcher
from bot.settings import PROJECT_ROOT

BOOK = load_content(PROJECT_ROOT / "journeys", PROJECT_ROOT / "domain.yml").book


@pytest.mark.parametrize(
    ("text", "products"),
    [
        ("Hoeveel kan ik besparen met een thuisbatterij?", ["thuisbatterij"]),
        ("mijn warmtepmop doet raar", ["warmtepomp"]),  # two letters swapped
        ("wij denken aan luchtwarmtepompen voor het complex", ["warmtepomp"]),  # compound, plural
        ("de zonnepaneeltjes op het schuurtje", ["zonnepanelen"]),
        ("zonnepaneelen en een accu", ["zonnepanelen", "thuisbatterij"]),
        ("een lucht-water warmtepomp", ["warmtepomp"]),
        ("de Hybride-warmtepomp maakt herrie", ["warmtepomp"]),
        ("een pvc-buis en een accuboor", []),
        ("ik wil van het gas af", []),
        ("Thuisbatterijen: wat kost dat?", ["thuisbatterij"]),
    ],
)
def test_products_named_in_a_message(text: str, products: list[str]) -> None:
    assert BOOK.detect_products(text) == products


def test_order_of_first_mention_and_short_keywords_only_as_whole_words() -> None:
    matcher = ProductMatcher([("a", ["pv"]), ("b", ["warmtepomp"])])
    assert matcher.find("warmtepomp en pv") == ["b", "a"]
    assert matcher.find("pvc") == [] and matcher.find("PV!") == ["a"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Geachte heer/mevrouw, graag een offerte.", "formal"),
        ("Kunt u mij bellen?", "formal"),
        ("Met vriendelijke groet, J. de Vries", "formal"),
        ("kun je me bellen?", "informal"),
        ("hoi! wat kost dat", "informal"),
        ("wat kost een warmtepomp", None),
        ("uw offerte", "formal"),
        ("uur later", None),  # 'u' only as a word
    ],
)
def test_form_of_address(text: str, address: str | None) -> None:
    assert detect_address(text) == address


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("ik heb al zonnepanelen liggen sinds 2019 en twijfel over een thuisbatterij", ["thuisbatterij"]),
        ("we hebben sinds vorig jaar zonnepanelen, is een warmtepomp slim?", ["warmtepomp"]),
        ("onze zonnepanelen liggen er al vijf jaar, wat kost een batterij erbij", ["thuisbatterij"]),
        ("zonnepanelen sinds 2020, nu een warmtepomp?", ["warmtepomp"]),
        ("Nee, ik bedoel dus een thuisbatterij, panelen hebben we al.", ["thuisbatterij"]),
        # Named without saying they are owned: both are asked about.
        ("Ik heb een vraag over zonnepanelen en een thuisbatterij", ["zonnepanelen", "thuisbatterij"]),
        ("hoeveel zonnepanelen liggen er gemiddeld op een dak", ["zonnepanelen"]),
        # Only the owned one named: that is what the message is about ("ik heb al een warmtepomp, ...").
        ("ik heb al een warmtepomp, hoe stel ik hem in", ["warmtepomp"]),
    ],
)
def test_a_product_the_visitor_says_they_have_is_context_not_the_question(
    text: str, asked: list[str]
) -> None:
    assert BOOK.asked_products(text) == asked


def test_a_product_owned_earlier_in_the_conversation_is_context_when_another_is_named() -> None:
    assert BOOK.asked_products("werkt dat samen met zonnepanelen en een thuisbatterij", ["zonnepanelen"]) == [
        "thuisbatterij"
    ]


@pytest.mark.parametrize(
    ("text", "persona"),
    [
        ("ik heb een bakkerij met een plat dak", "mkb_owner"),
        ("Is uw bedrijf een erkend installateur?", None),
        ("Ik ben voorzitter van een VvE. Is jullie bedrijf erkend?", "vve_board"),
        # A denial or another company says nothing about being a business.
        ("Nee, het gaat om ons eigen woonhuis hoor, geen bedrijf. en wat kost dat?", "homeowner"),
        ("Ik ben een particulier met een gewone eengezinswoning!", "homeowner"),
        ("Wij zijn geen bedrijf maar een Vereniging van Eigenaars", "vve_board"),
        ("ik heb panelen liggen van een ander bedrijf", None),
        ("niet voor mijn bedrijf", None),
    ],
)
def test_shipped_persona_keywords(text: str, persona: str | None) -> None:
    assert BOOK.detect_persona(text) == persona
