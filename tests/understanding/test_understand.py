"""bot.understanding: topic and phase combined as the assistant runs them, on hand-built parses."""

from __future__ import annotations

from bot.understanding import FALLBACK_INTENT, Reading, understand

HOME = {
    "payment": "purchase",
    "price": "consideration",
    "malfunction": "aftercare",
    "subsidy": "consideration",
    "order": "purchase",
    "suitability": "orientation",
}


def reading(intent: str, *ranking: tuple[str, float], phases: tuple[tuple[str, float], ...] = ()) -> Reading:
    return Reading(intent=intent, confidence=ranking[0][1] if ranking else 1.0, intent_ranking=ranking,
                   phase_ranking=phases)  # fmt: skip


def test_the_situation_beats_the_topic_when_the_phase_classifier_is_clear() -> None:
    parse = reading("payment", ("payment", 0.9), phases=(("aftercare", 0.7), ("purchase", 0.2)))
    assert understand(parse, HOME, None).phase == "aftercare"


def test_the_home_phase_wins_when_the_phase_classifier_hesitates() -> None:
    parse = reading(
        "payment", ("payment", 0.9), phases=(("aftercare", 0.3), ("purchase", 0.25), ("use", 0.2))
    )
    assert understand(parse, HOME, None).phase == "purchase"


def test_without_a_phase_reading_the_topic_gives_its_home_phase() -> None:
    assert understand(reading("price", ("price", 0.8)), HOME, None).phase == "consideration"


def test_the_current_phase_is_kept_when_it_is_nearly_as_likely() -> None:
    parse = reading("price", ("price", 0.8), phases=(("decision", 0.42), ("aftercare", 0.4)))
    assert understand(parse, HOME, "aftercare").phase == "aftercare"
    assert understand(parse, HOME, None).phase == "decision"


def test_general_intents_keep_the_phase() -> None:
    for intent in ("affirm", "thanks", "give_score", "out_of_scope"):
        parse = reading(intent, (intent, 0.95), phases=(("none", 0.9),))
        assert understand(parse, HOME, "delivery").phase == "delivery"
        assert understand(parse, HOME, None).phase is None


def test_a_persona_statement_with_a_question_answers_the_question() -> None:
    parse = reading(
        "inform_customer_type",
        ("inform_customer_type", 0.55),
        ("subsidy", 0.3),
        phases=(("consideration", 0.8), ("none", 0.1)),
    )
    understood = understand(parse, HOME, None)
    assert (understood.intent, understood.phase) == ("subsidy", "consideration")


def test_a_bare_persona_statement_stays_one() -> None:
    parse = reading("inform_customer_type", ("inform_customer_type", 0.9), ("subsidy", 0.05),
                    phases=(("none", 0.85),))  # fmt: skip
    assert understand(parse, HOME, "need").intent == "inform_customer_type"
    assert understand(parse, HOME, "need").phase == "need"


def test_two_close_topics_ask_which_one_was_meant() -> None:
    parse = reading(FALLBACK_INTENT, (FALLBACK_INTENT, 0.3), ("price", 0.31), ("subsidy", 0.29),
                    phases=(("consideration", 0.45),))  # fmt: skip
    understood = understand(parse, HOME, "orientation")
    assert understood.clarify == ("price", "subsidy")
    assert understood.phase == "orientation"  # neither topic nor situation clear: the phase stays


def test_an_unclear_topic_in_a_clear_situation_still_moves_the_phase() -> None:
    parse = reading(FALLBACK_INTENT, (FALLBACK_INTENT, 0.3), ("price", 0.15), ("subsidy", 0.1),
                    phases=(("aftercare", 0.75),))  # fmt: skip
    assert understand(parse, HOME, "decision").phase == "aftercare"


def test_gibberish_gets_no_clarification_and_no_phase() -> None:
    parse = reading(FALLBACK_INTENT, (FALLBACK_INTENT, 0.3), ("price", 0.12), ("greet", 0.1),
                    phases=(("need", 0.3),))  # fmt: skip
    understood = understand(parse, HOME, None)
    assert understood.clarify is None and understood.phase is None


def test_button_payloads_ignore_the_phase_classifier() -> None:
    parse = Reading.from_parse(
        {
            "text": "/payment",
            "intent": {"name": "payment", "confidence": 1.0},
            "journey_phase_ranking": [{"name": "need", "confidence": 0.9}],
        }
    )
    assert parse.phase_ranking == ()
    assert understand(parse, HOME, "aftercare").phase in {"aftercare", "purchase"}


def test_from_parse_tolerates_missing_and_malformed_parts() -> None:
    assert Reading.from_parse({}).intent == FALLBACK_INTENT
    odd = Reading.from_parse(
        {"intent": "x", "intent_ranking": "no", "journey_phase_ranking": [None, {"name": None}]}
    )
    assert odd.intent == FALLBACK_INTENT and odd.intent_ranking == () and odd.phase_ranking == ()


def test_a_weak_guess_of_an_order_does_not_move_a_newcomer_past_the_purchase() -> None:
    """ "moet ik toestemming vragen ofzo" (a tenant) read as `order` at 0.22: not a purchase."""
    tenant = reading(
        "order", ("order", 0.22), ("suitability", 0.1), phases=(("none", 0.64), ("purchase", 0.12))
    )
    understood = understand(tenant, HOME, None)
    assert (understood.intent, understood.phase) == (FALLBACK_INTENT, None)
    vve = reading("order", ("order", 0.30), phases=(("purchase", 0.32), ("orientation", 0.25)))
    assert understand(vve, HOME, "orientation").intent == FALLBACK_INTENT
    assert understand(vve, HOME, "orientation").phase == "orientation"


def test_a_clear_topic_or_situation_or_an_earlier_purchase_is_acted_on() -> None:
    sure_topic = reading("payment", ("payment", 0.5), phases=(("aftercare", 0.42), ("purchase", 0.27)))
    assert understand(sure_topic, HOME, None).intent == "payment"
    sure_situation = reading("order", ("order", 0.3), phases=(("purchase", 0.6),))
    assert understand(sure_situation, HOME, None).phase == "purchase"
    weak_but_bought = reading("order", ("order", 0.3), phases=(("purchase", 0.3),))
    assert understand(weak_but_bought, HOME, "delivery").intent == "order"
