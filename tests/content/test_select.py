"""Reply selection against the valid fixture set."""

from __future__ import annotations

import pytest

from bot.content import Button, JourneyBook, Reply
from bot.content.model import IntentContent, Variant
from bot.content.select import Situation, choose_variant, specificity

SAVINGS = "savings"


def savings(
    book: JourneyBook,
    *,
    persona: str | None = None,
    channel: str = "web",
    owned_products: tuple[str, ...] = (),
    seen: int = 0,
) -> Reply:
    reply = book.reply(
        SAVINGS,
        Situation(persona=persona, channel=channel),
        journey_id="consumer",
        owned_products=owned_products,
        seen=seen,
    )
    assert reply is not None
    return reply


@pytest.mark.parametrize(
    ("persona", "channel", "content_id", "text"),
    [
        (
            "senior",
            "whatsapp",
            "consumer/orientation/savings/persona=senior&channel=whatsapp#1",
            "U bespaart gemiddeld 400 euro per jaar.",
        ),
        (
            "senior",
            "web",
            "consumer/orientation/savings/persona=senior#1",
            "U bespaart met zonnepanelen gemiddeld 400 euro per jaar.",
        ),
        (
            "mkb",
            "whatsapp",
            "consumer/orientation/savings/channel=whatsapp#1",
            "Gemiddeld 400 euro per jaar besparing.",
        ),
        (
            None,
            "sms",
            "consumer/orientation/savings/default#1",
            "Zonnepanelen besparen gemiddeld 400 euro per jaar.",
        ),
    ],
)
def test_most_specific_variant_wins(
    book: JourneyBook, persona: str | None, channel: str, content_id: str, text: str
) -> None:
    reply = savings(book, persona=persona, channel=channel)
    assert (reply.content_id, reply.text) == (content_id, text)


def test_phrasings_rotate_with_how_often_the_visitor_got_them(book: JourneyBook) -> None:
    texts = [savings(book, seen=seen).text for seen in range(4)]
    assert texts[0] != texts[1]
    assert texts[0] == texts[2] and texts[1] == texts[3]
    assert savings(book, seen=3).content_id.endswith("/default#2")


def test_intent_buttons_for_a_visitor_who_owns_nothing(book: JourneyBook) -> None:
    assert [button.title for button in savings(book).buttons] == [
        "Prijs zonnepanelen",
        "Prijs warmtepomp",
        "Vraag een offerte",
        "Dak geschikt?",
    ]


def test_sales_buttons_for_owned_products_are_hidden(book: JourneyBook) -> None:
    reply = savings(book, owned_products=("zonnepanelen",))
    assert Button("Prijs zonnepanelen", "/price") not in reply.buttons
    # Sales without a product, and sales for products not owned, stay.
    assert [button.title for button in reply.buttons] == [
        "Prijs warmtepomp",
        "Vraag een offerte",
        "Dak geschikt?",
    ]


def test_variant_buttons_replace_the_intent_buttons(book: JourneyBook) -> None:
    reply = savings(book, persona="senior", channel="whatsapp", seen=1)
    assert reply.text == "Reken op zo'n 400 euro per jaar."
    assert reply.buttons == (Button("Bel mij", "/request_human"),)


def test_persona_variant_of_one_journey_and_fallback_to_consumer(book: JourneyBook) -> None:
    reply = book.reply("energy_costs", Situation(persona="vve_board", channel="web"), journey_id="business")
    assert reply is not None and reply.content_id == "business/need/energy_costs/persona=vve_board#1"
    fallback = book.reply(SAVINGS, Situation(channel="web"), journey_id="nonexistent")
    assert fallback is not None and fallback.content_id.startswith("consumer/orientation/")


def test_reply_is_none_for_intents_outside_the_journeys(book: JourneyBook) -> None:
    assert book.reply("greet", Situation(channel="web"), journey_id="consumer") is None


def test_message_uses_the_same_variant_rules(book: JourneyBook) -> None:
    greet = book.message("greet", Situation(persona="senior", channel="web"), seen=5)
    assert greet == Reply(
        "general/greet/persona=senior#1",
        "Goedendag! Waarmee kan ik u helpen?",
        (Button("Energierekening", "/energy_costs"),),
    )
    assert book.message("greet", Situation(channel="web"), seen=1).content_id == "general/greet/default#2"
    sms = book.message("fallback", Situation(persona="senior", channel="sms"))
    assert (sms.content_id, sms.text) == ("general/fallback/channel=sms#1", "Dat begreep ik niet.")
    with pytest.raises(KeyError):
        book.message("no_such_message", Situation(channel="web"))


def test_phase_of_and_rules(book: JourneyBook) -> None:
    assert book.phase_of(SAVINGS) == "orientation"
    assert book.phase_of("malfunction") == "aftercare"
    assert book.phase_of("greet") is None
    assert book.sales_phases == frozenset({"need", "orientation", "consideration", "decision", "purchase"})
    assert book.nps_ask_after_phases == frozenset({"delivery", "use", "aftercare"})
    assert book.nps_cooldown_days == 30


def test_journey_for_persona(book: JourneyBook) -> None:
    assert book.journey_for("vve_board") == "business"
    assert book.journey_for("senior") == "consumer"
    assert book.journey_for(None) == "consumer"
    assert book.journey_for("removed_persona") == "consumer"


def test_the_persona_question_only_for_topics_the_rules_name(book: JourneyBook) -> None:
    assert not book.asks_persona_for(SAVINGS)
    assert not book.asks_persona_for("greet")


def variant(**conditions: str) -> Variant:
    return Variant(text=[",".join(f"{k}={v}" for k, v in conditions.items()) or "default"], **conditions)


VARIANTS = [
    variant(),
    variant(channel="whatsapp"),
    variant(persona="senior"),
    variant(persona="senior", channel="whatsapp"),
    variant(product="thuisbatterij"),
    variant(product="thuisbatterij", channel="whatsapp"),
    variant(phase="aftercare"),
    variant(address="formal"),
]


@pytest.mark.parametrize(
    ("situation", "chosen"),
    [
        (Situation(), "default"),
        (Situation(channel="whatsapp"), "channel=whatsapp"),
        (Situation(persona="senior", channel="web"), "persona=senior"),
        (Situation(persona="senior", channel="whatsapp"), "persona=senior,channel=whatsapp"),
        # The product decides over persona and channel: a battery question gets the battery answer.
        (
            Situation(product="thuisbatterij", persona="senior", channel="whatsapp"),
            "product=thuisbatterij,channel=whatsapp",
        ),
        (Situation(product="thuisbatterij", persona="senior"), "product=thuisbatterij"),
        (Situation(product="warmtepomp"), "default"),
        # The phase decides over everything: an invoice question after installation is aftercare.
        (Situation(phase="aftercare", product="thuisbatterij", channel="whatsapp"), "phase=aftercare"),
        (Situation(phase="purchase", product="thuisbatterij"), "product=thuisbatterij"),
        (Situation(address="formal", persona="senior"), "persona=senior"),
        (Situation(address="formal", channel="whatsapp"), "address=formal"),
    ],
)
def test_the_fitting_variant_with_the_most_decisive_conditions_wins(
    situation: Situation, chosen: str
) -> None:
    content = IntentContent(replies=VARIANTS)
    assert choose_variant(content, situation).text == [chosen]


def test_specificity_orders_phase_product_persona_address_channel() -> None:
    ranked = sorted(VARIANTS, key=specificity, reverse=True)
    assert ranked[0].phase == "aftercare" and ranked[-1].conditions() == {}
    assert specificity(variant(product="x")) > specificity(
        variant(persona="y", address="formal", channel="sms")
    )


@pytest.mark.parametrize(
    ("text", "persona"),
    [
        ("Ik ben SENIOR en woon in Utrecht", "senior"),
        ("ik ben séniór", "senior"),
        ("Onze VvE-bestuur wil verduurzamen", "vve_board"),
        ("wij zijn een Vereniging  van Eigenaren", "vve_board"),  # longer keyword beats 'eigenaren'
        ("de eigenaren van mijn bedrijf", "mkb"),
        ("een seniorenwoning", None),  # whole words only
        ("ik wil zonnepanelen", None),
        # The visitor speaks of ZonWarmte's business, not their own (the persona stays as it was).
        ("Is uw bedrijf een erkend installateur, met keurmerk?", None),
        ("hoe lang bestaat jullie bedrijf al", None),
        ("Is uw bedrijf erkend? Het gaat om mijn bedrijf", "mkb"),
    ],
)
def test_detect_persona(book: JourneyBook, text: str, persona: str | None) -> None:
    assert book.detect_persona(text) == persona


def test_detect_products(book: JourneyBook) -> None:
    assert book.detect_products("Ik heb al PV-panelen en een Warmtepomp") == ["zonnepanelen", "warmtepomp"]
    assert book.detect_products("een pvc-buis en een accuboor") == []
