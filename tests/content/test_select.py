"""Reply selection against the valid fixture set."""

from __future__ import annotations

import pytest

from bot.content import Button, JourneyBook, Reply

SAVINGS = "savings"


def savings(
    book: JourneyBook,
    *,
    persona: str | None = None,
    channel: str = "web",
    owned_products: tuple[str, ...] = (),
    turn: int = 0,
) -> Reply:
    reply = book.reply(
        SAVINGS,
        journey_id="consumer",
        persona=persona,
        channel=channel,
        owned_products=owned_products,
        turn=turn,
    )
    assert reply is not None
    return reply


@pytest.mark.parametrize(
    ("persona", "channel", "content_id", "text"),
    [
        (
            "senior",
            "whatsapp",
            "consumer/orientation/savings/persona=senior/channel=whatsapp#1",
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


def test_phrasings_rotate_with_the_turn(book: JourneyBook) -> None:
    texts = [savings(book, turn=turn).text for turn in range(4)]
    assert texts[0] != texts[1]
    assert texts[0] == texts[2] and texts[1] == texts[3]
    assert savings(book, turn=3).content_id.endswith("/default#2")


def test_intent_buttons_for_a_visitor_who_owns_nothing(book: JourneyBook) -> None:
    assert [button.title for button in savings(book).buttons] == [
        "Prijs zonnepanelen",
        "Prijs warmtepomp",
        "Vraag een offerte",
        "Is mijn dak geschikt?",
    ]


def test_sales_buttons_for_owned_products_are_hidden(book: JourneyBook) -> None:
    reply = savings(book, owned_products=("zonnepanelen",))
    assert Button("Prijs zonnepanelen", "/price") not in reply.buttons
    # Sales without a product, and sales for products not owned, stay.
    assert [button.title for button in reply.buttons] == [
        "Prijs warmtepomp",
        "Vraag een offerte",
        "Is mijn dak geschikt?",
    ]


def test_variant_buttons_replace_the_intent_buttons(book: JourneyBook) -> None:
    reply = savings(book, persona="senior", channel="whatsapp", turn=1)
    assert reply.text == "Reken op zo'n 400 euro per jaar."
    assert reply.buttons == (Button("Bel mij", "/request_human"),)


def test_persona_variant_of_one_journey_and_fallback_to_consumer(book: JourneyBook) -> None:
    reply = book.reply(
        "energy_costs",
        journey_id="business",
        persona="vve_board",
        channel="web",
        owned_products=(),
        turn=0,
    )
    assert reply is not None and reply.content_id == "business/need/energy_costs/persona=vve_board#1"
    fallback = book.reply(
        SAVINGS, journey_id="nonexistent", persona=None, channel="web", owned_products=(), turn=0
    )
    assert fallback is not None and fallback.content_id.startswith("consumer/orientation/")


def test_reply_is_none_for_intents_outside_the_journeys(book: JourneyBook) -> None:
    assert (
        book.reply("greet", journey_id="consumer", persona=None, channel="web", owned_products=(), turn=0)
        is None
    )


def test_message_uses_the_same_variant_rules(book: JourneyBook) -> None:
    greet = book.message("greet", persona="senior", channel="web", turn=5)
    assert greet == Reply(
        "general/greet/persona=senior#1",
        "Goedendag! Waarmee kan ik u helpen?",
        (Button("Energierekening", "/energy_costs"),),
    )
    assert book.message("greet", persona=None, channel="web", turn=1).content_id == "general/greet/default#2"
    sms = book.message("fallback", persona="senior", channel="sms", turn=0)
    assert (sms.content_id, sms.text) == ("general/fallback/channel=sms#1", "Dat begreep ik niet.")
    with pytest.raises(KeyError):
        book.message("no_such_message", persona=None, channel="web", turn=0)


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


def test_persona_matters_only_when_variants_differ_by_persona(book: JourneyBook) -> None:
    assert book.persona_matters(SAVINGS, "consumer")
    assert not book.persona_matters("suitability", "consumer")
    assert book.persona_matters("energy_costs", "business")
    assert not book.persona_matters("energy_costs", "consumer")
    assert book.persona_matters("greet", "consumer")


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
    ],
)
def test_detect_persona(book: JourneyBook, text: str, persona: str | None) -> None:
    assert book.detect_persona(text) == persona


def test_detect_products(book: JourneyBook) -> None:
    assert book.detect_products("Ik heb al PV-panelen en een Warmtepomp") == ["zonnepanelen", "warmtepomp"]
    assert book.detect_products("een pvc-buis en een accuboor") == []
