"""bot.dialogue on the shipped journeys: the answer fits the product, the phase and the visitor."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.content import JourneyBook
from bot.content.loader import load_content
from bot.dialogue import Memory, Visit, answer, fallback
from bot.settings import PROJECT_ROOT
from bot.understanding import FALLBACK_INTENT, Reading

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def book() -> JourneyBook:
    return load_content(PROJECT_ROOT / "journeys", PROJECT_ROOT / "domain.yml").book


def visit(
    text: str, intent: str, memory: Memory | None = None, *, phases: tuple[tuple[str, float], ...] = (),
    ranking: tuple[tuple[str, float], ...] = (), channel: str = "web", persona_entity: str | None = None,
) -> Visit:  # fmt: skip
    reading = Reading(intent=intent, intent_ranking=ranking or ((intent, 0.9),), phase_ranking=phases)
    return Visit(reading=reading, text=text, channel=channel, now=NOW, memory=memory or Memory(),
                 persona_entity=persona_entity)  # fmt: skip


def test_a_battery_savings_question_gets_the_battery_answer(book: JourneyBook) -> None:
    result = answer(book, visit("Hoeveel kan ik besparen met een thuisbatterij?", "savings"))
    assert result.memory.product == "thuisbatterij"
    assert "product=thuisbatterij" in (result.content_id or "")
    assert "batterij" in result.replies[0].text.lower()


def test_a_heat_pump_question_for_an_old_house_is_about_heat_pumps(book: JourneyBook) -> None:
    result = answer(book, visit("Is een warmtepomp geschikt voor ons huis uit 1965?", "suitability"))
    assert "product=warmtepomp" in (result.content_id or "")
    assert "warmtepomp" in result.replies[0].text.lower()


def test_a_follow_up_keeps_the_product_and_moves_on_in_the_journey(book: JourneyBook) -> None:
    first = answer(book, visit("hoe werkt een warmtepomp eigenlijk?", "how_it_works"))
    follow = answer(book, visit("en wat kost dat?", "price", first.memory, phases=(("consideration", 0.6),)))
    assert first.memory.phase == "orientation"
    assert (follow.memory.product, follow.memory.phase) == ("warmtepomp", "consideration")
    assert "product=warmtepomp" in (follow.content_id or "")


def test_another_product_named_replaces_the_remembered_one(book: JourneyBook) -> None:
    first = answer(book, visit("wat kost een warmtepomp", "price"))
    second = answer(book, visit("en zonnepanelen?", "price", first.memory))
    both = answer(book, visit("panelen en een thuisbatterij samen", "price", second.memory))
    assert (first.memory.product, second.memory.product, both.memory.product) == (
        "warmtepomp", "zonnepanelen", None)  # fmt: skip


def test_an_invoice_question_after_installation_is_aftercare_with_its_own_reply(book: JourneyBook) -> None:
    text = "er staat een verkeerd bedrag op de factuur van de installatie van vorige maand"
    result = answer(book, visit(text, "payment", phases=(("aftercare", 0.8), ("purchase", 0.1))))
    assert result.memory.phase == "aftercare"
    assert "phase=aftercare" in (result.content_id or "")
    # No sales pitch after a purchase.
    assert all(button.payload not in ("/quote_request", "/price") for button in result.replies[0].buttons)


def test_moving_back_in_the_journey(book: JourneyBook) -> None:
    owner = Memory(phase="use", owned_products=("zonnepanelen",))
    result = answer(book, visit("hoe werkt een thuisbatterij?", "how_it_works", owner,
                                phases=(("orientation", 0.7),)))  # fmt: skip
    assert result.memory.phase == "orientation"
    assert result.memory.owned_products == ("zonnepanelen",)


def test_no_sales_buttons_in_service_phases(book: JourneyBook) -> None:
    result = answer(book, visit("mijn omvormer geeft een foutcode", "malfunction"))
    topics = answer(book, visit("wat kost dat nou", "price", result.memory, phases=(("aftercare", 0.6),)))
    sales = {"/price", "/quote_request", "/visit_request", "/financing", "/order"}
    assert topics.memory.phase == "aftercare"
    assert not {button.payload for reply in topics.replies for button in reply.buttons} & sales


def test_a_persona_with_a_question_answers_the_question_and_records_the_persona(book: JourneyBook) -> None:
    text = "Ik ben voorzitter van een VvE met 36 appartementen. We willen zonnepanelen op het platte dak."
    parse = visit(text, "inform_customer_type", ranking=(("inform_customer_type", 0.5), ("suitability", 0.35)),
                  phases=(("orientation", 0.75),))  # fmt: skip
    result = answer(book, parse)
    assert result.intent == "suitability"
    assert result.memory.persona == "vve_board"
    assert result.content_id and result.content_id.startswith("business/orientation/suitability")


def test_the_persona_question_comes_only_where_it_matters_and_the_question_is_then_answered(
    book: JourneyBook,
) -> None:
    savings = answer(book, visit("wat levert het op", "savings"))
    assert [r.content_id.split("/")[1] for r in savings.replies] == ["orientation"]  # no persona question
    price = answer(book, visit("wat kost het ongeveer", "price"))
    assert price.replies[-1].content_id.startswith("general/persona_question")
    assert price.memory.pending_intent == "price"
    reply = answer(book, visit('/inform_customer_type{"persona":"mkb_owner"}', "inform_customer_type",
                               price.memory, persona_entity="mkb_owner"))  # fmt: skip
    assert reply.intent == "price" and reply.memory.persona == "mkb_owner"
    assert reply.content_id and reply.content_id.startswith("business/consideration/price")
    assert reply.memory.pending_intent is None and reply.memory.persona_asked


def test_asking_again_gives_the_next_phrasing_also_with_two(book: JourneyBook) -> None:
    memory = Memory()
    texts = []
    for _ in range(3):
        result = answer(book, visit("hoe werkt het?", "how_it_works", memory))
        texts.append(result.replies[0].text)
        memory = result.memory
    assert texts[0] != texts[1]
    assert memory.reply_counts["how_it_works"] == 3


def test_a_formal_visitor_is_remembered_as_formal(book: JourneyBook) -> None:
    result = answer(
        book, visit("Geachte heer/mevrouw, kunt u mij vertellen wat een warmtepomp kost?", "price")
    )
    later = answer(book, visit("ok", "affirm", result.memory))
    assert result.memory.address == "formal" and later.memory.address == "formal"


def test_two_close_topics_get_a_clarifying_question_with_both_as_buttons(book: JourneyBook) -> None:
    parse = visit("kost dat iets en krijg ik er iets voor terug", FALLBACK_INTENT,
                  ranking=((FALLBACK_INTENT, 0.3), ("price", 0.3), ("subsidy", 0.28)))  # fmt: skip
    result = fallback(book, parse)
    assert result.outcome == "fallback" and str(result.content_id).startswith("general/clarify")
    assert [button.payload for button in result.replies[0].buttons] == ["/price", "/subsidy"]
    assert all(0 < len(button.title) <= 20 for button in result.replies[0].buttons)


def test_a_product_name_alone_asks_what_about_it(book: JourneyBook) -> None:
    parse = visit("warmtepomp", FALLBACK_INTENT, ranking=((FALLBACK_INTENT, 0.3), ("how_it_works", 0.2)))
    result = fallback(book, parse)
    assert result.outcome == "fallback" and result.memory.phase is None
    assert "warmtepomp" in result.replies[0].text.lower()


def test_a_customer_after_installation_stays_in_service_when_the_situation_is_unclear(
    book: JourneyBook,
) -> None:
    owner = Memory(phase="aftercare", owned_products=("warmtepomp",))
    parse = visit("kan ik die factuur in termijnen betalen?", "payment", owner,
                  phases=(("purchase", 0.45), ("aftercare", 0.3), ("decision", 0.2)))  # fmt: skip
    assert answer(book, parse).memory.phase == "aftercare"


def test_adding_to_an_order_of_an_owned_product_is_not_refused_as_a_sale(book: JourneyBook) -> None:
    ordered = Memory(phase="purchase", owned_products=("zonnepanelen",))
    result = answer(book, visit("kan ik nog een extra paneel bijbestellen?", "change_order", ordered))
    assert not (result.content_id or "").startswith("general/already_owned")


def test_a_persona_statement_that_fell_back_still_answers_the_question(book: JourneyBook) -> None:
    text = "Ik ben voorzitter van een VvE met 36 appartementen. We willen zonnepanelen op het platte dak."
    parse = visit(text, FALLBACK_INTENT, phases=(("orientation", 0.7),),
                  ranking=((FALLBACK_INTENT, 0.8), ("inform_customer_type", 0.3), ("suitability", 0.29)))  # fmt: skip
    result = fallback(book, parse)
    assert result.intent == "suitability" and result.memory.persona == "vve_board"
    # The same when the topic is first and the persona statement second (as the model parses it).
    parse = visit(text, FALLBACK_INTENT, phases=(("orientation", 0.62),),
                  ranking=((FALLBACK_INTENT, 0.2), ("suitability", 0.2), ("inform_customer_type", 0.19)))  # fmt: skip
    assert fallback(book, parse).intent == "suitability"


def test_a_product_name_alone_is_a_question_to_ask_back_even_when_nlu_guesses(book: JourneyBook) -> None:
    result = answer(book, visit("warmtepomp?", "how_it_works", phases=(("orientation", 0.7),)))
    assert result.outcome == "fallback" and result.memory.phase is None
    assert result.memory.product == "warmtepomp"


def test_a_business_in_a_compound_word_is_recognised(book: JourneyBook) -> None:
    result = answer(book, visit("Ik heb een autoschadebedrijf, valt dat onder de EIA?", "subsidy"))
    assert result.memory.persona == "mkb_owner"
    assert (result.content_id or "").startswith("business/")


def test_gibberish_keeps_the_phase(book: JourneyBook) -> None:
    memory = Memory(phase="delivery")
    result = fallback(book, visit("asdf qwerty", FALLBACK_INTENT, memory,
                                  ranking=((FALLBACK_INTENT, 0.3), ("greet", 0.1))))  # fmt: skip
    assert result.memory.phase == "delivery" and result.outcome == "fallback"


def test_a_battery_question_from_someone_with_panels_is_about_the_battery(book: JourneyBook) -> None:
    text = "Dag, ik heb al zonnepanelen liggen sinds 2019 (niet via jullie) en twijfel over een thuisbatterij. Hoe werkt zo'n ding?"
    result = answer(book, visit(text, "how_it_works", phases=(("orientation", 0.8),)))
    assert result.memory.product == "thuisbatterij"
    assert "product=thuisbatterij" in (result.content_id or "")


def test_the_menu_for_a_prospect_offers_no_order_or_service_topics(book: JourneyBook) -> None:
    prospect = Memory(phase="orientation")
    unclear = visit("hmm tja", FALLBACK_INTENT, prospect, ranking=((FALLBACK_INTENT, 0.9),))
    titles = [b.title for b in fallback(book, unclear).replies[0].buttons]
    assert "Ik oriënteer me" in titles and "Medewerker spreken" in titles
    assert not {"Mijn bestelling", "Storing of service", "App en opbrengst"} & set(titles)
    # A first message keeps every choice: where the visitor stands is not known yet.
    first = visit("hmm tja", FALLBACK_INTENT, ranking=((FALLBACK_INTENT, 0.9),))
    assert "Storing of service" in [b.title for b in fallback(book, first).replies[0].buttons]
