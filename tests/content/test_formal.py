"""The u-form that formal visitors get from the je-form content, through formal_rewrites in common.yml."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import yaml

from bot.content import JourneyBook
from bot.content.loader import load_content
from bot.content.select import Situation
from bot.dialogue import Memory, Visit, answer
from bot.settings import PROJECT_ROOT
from bot.understanding import Reading

JOURNEYS = PROJECT_ROOT / "journeys"
INFORMAL = re.compile(r"(?<![\w-])(?:je|jij|jou|jouw|jezelf)(?![\w-])", re.IGNORECASE)
FORMAL = re.compile(r"(?<![\w-])(?:u|uw)(?![\w-])", re.IGNORECASE)


@pytest.fixture(scope="module")
def shipped() -> JourneyBook:
    return load_content(JOURNEYS, PROJECT_ROOT / "domain.yml").book


def test_every_je_form_text_has_a_u_form() -> None:
    loaded = load_content(JOURNEYS, PROJECT_ROOT / "domain.yml")
    assert [str(issue) for issue in loaded.warnings if "no u-form" in issue.message] == []


# Real texts (or sentences of them) from consumer.yml and common.yml; each exercises another kind of rule.
EXAMPLES = [
    (  # inversion, possessive before a *highlighted* noun
        "Ook als huurder kun je besparen! Met *stekkerpanelen* op je balkon wek je zelf stroom op, zonder "
        "verbouwing. Voor dakpanelen of een warmtepomp: vraag het je *verhuurder*.",
        "Ook als huurder kunt u besparen! Met *stekkerpanelen* op uw balkon wekt u zelf stroom op, zonder "
        "verbouwing. Voor dakpanelen of een warmtepomp: vraag het uw *verhuurder*.",
    ),
    (
        "Huur je? Dan beslist je verhuurder of woningcorporatie over panelen op het dak en een warmtepomp.",
        "Huurt u? Dan beslist uw verhuurder of woningcorporatie over panelen op het dak en een warmtepomp.",
    ),
    (  # dank je wel, jouw, krijg jij
        "Dank je wel, wat fijn om te horen! Een buur of familielid mag ons gewoon bellen en jouw naam noemen; "
        "dan krijg jij een bedankje van ons.",
        "Dank u wel, wat fijn om te horen! Een buur of familielid mag ons gewoon bellen en uw naam noemen; "
        "dan krijgt u een bedankje van ons.",
    ),
    (  # "ik wil je" keeps "wil" (ik), while "wil je" becomes "wilt u" elsewhere
        "Ik wil je goed helpen, maar ik twijfel wat je bedoelt. Gaat het om een van deze twee?",
        "Ik wil u goed helpen, maar ik twijfel wat u bedoelt. Gaat het om een van deze twee?",
    ),
    (
        "Dat product heb je al, dus ik ga je er niets meer over verkopen. Heb je een vraag over het gebruik, "
        "de opbrengst, onderhoud of garantie? Daar help ik je graag mee.",
        "Dat product heeft u al, dus ik ga u er niets meer over verkopen. Heeft u een vraag over het gebruik, "
        "de opbrengst, onderhoud of garantie? Daar help ik u graag mee.",
    ),
    (
        "Je warmtepomp volg en bedien je in de app van de fabrikant, die de monteur bij de oplevering met je "
        "instelt.",
        "Uw warmtepomp volgt en bedient u in de app van de fabrikant, die de monteur bij de oplevering met u "
        "instelt.",
    ),
    (  # "mis je gegevens" is a question, not "miss your data"
        "In de app zie je per dag, maand en jaar hoeveel je panelen opwekken. Mis je gegevens van een paar uur "
        "of dagen?",
        "In de app ziet u per dag, maand en jaar hoeveel uw panelen opwekken. Mist u gegevens van een paar uur "
        "of dagen?",
    ),
    (  # "heb je zonnepanelen": the visitor's own panels are not "uw zonnepanelen" here
        "Batterij ja of nee? Heb je zonnepanelen, gebruik je veel stroom in de avond of heb je een dynamisch "
        "contract, dan is het vaak ja, zeker na het einde van de saldering op 1 januari 2027.",
        "Batterij ja of nee? Heeft u zonnepanelen, gebruikt u veel stroom in de avond of heeft u een dynamisch "
        "contract, dan is het vaak ja, zeker na het einde van de saldering op 1 januari 2027.",
    ),
    (  # capitals inside a noun survive (DigiD)
        "Nu je warmtepomp er is, kun je de ISDE-subsidie aanvragen bij RVO, binnen 24 maanden na de "
        "installatie. Je hebt nodig: de eindfactuur, je betaalbewijs, de meldcode van de warmtepomp en je DigiD.",
        "Nu uw warmtepomp er is, kunt u de ISDE-subsidie aanvragen bij RVO, binnen 24 maanden na de "
        "installatie. U heeft nodig: de eindfactuur, uw betaalbewijs, de meldcode van de warmtepomp en uw DigiD.",
    ),
    (
        "Hoi! 👋 Ik ben de digitale assistent van *ZonWarmte*. Vraag me alles over *zonnepanelen*, "
        "*thuisbatterijen* en *warmtepompen*.",
        "Goedendag! 👋 Ik ben de digitale assistent van *ZonWarmte*. Vraag me alles over *zonnepanelen*, "
        "*thuisbatterijen* en *warmtepompen*.",
    ),
    (  # imperative stays, object after a third person
        "Fijn, welkom als klant! Onderteken je offerte online via de link in je mail. Je hebt daarna 14 dagen "
        "bedenktijd, en binnen een paar werkdagen belt de planning je voor een installatiedatum.",
        "Fijn, welkom als klant! Onderteken uw offerte online via de link in uw mail. U heeft daarna 14 dagen "
        "bedenktijd, en binnen een paar werkdagen belt de planning u voor een installatiedatum.",
    ),
    (  # "bij je thuis" is a place, not a possession
        "Een adviseur komt graag bij je thuis, op een moment dat jou uitkomt.",
        "Een adviseur komt graag bij u thuis, op een moment dat u uitkomt.",
    ),
    (  # "combineer je werk": je is the subject, werk the object
        "Een verhuizing, verbouwing of nieuwe auto is hét moment om naar je energie te kijken. Zo combineer je "
        "werk, bijvoorbeeld panelen leggen als het dak toch open gaat.",
        "Een verhuizing, verbouwing of nieuwe auto is hét moment om naar uw energie te kijken. Zo combineert u "
        "werk, bijvoorbeeld panelen leggen als het dak toch open gaat.",
    ),
    (
        "Dank je voor je eerlijkheid, en het spijt me dat we niet aan je verwachtingen hebben voldaan. Wil je "
        "dat een collega je belt om het recht te zetten?",
        "Dank u voor uw eerlijkheid, en het spijt me dat we niet aan uw verwachtingen hebben voldaan. Wilt u "
        "dat een collega u belt om het recht te zetten?",
    ),
    (
        "Van het gas af of je CO2-uitstoot omlaag: dat kan stap voor stap.",
        "Van het gas af of uw CO2-uitstoot omlaag: dat kan stap voor stap.",
    ),
    (
        "Super, dank je! Daar doen we het voor. Wil je je ervaring delen?",
        "Hartelijk dank! Daar doen we het voor. Wilt u uw ervaring delen?",
    ),
]


@pytest.mark.parametrize(("informal", "formal"), EXAMPLES, ids=[f"example{n}" for n in range(len(EXAMPLES))])
def test_a_je_form_text_becomes_correct_u_form(shipped: JourneyBook, informal: str, formal: str) -> None:
    assert shipped.formal(informal) == formal


def _texts(node: Any, formal_only: bool) -> Iterator[str]:
    """Every reply text in a parsed content file; formal_only: just the variants written in the u-form."""
    if isinstance(node, dict):
        if isinstance(node.get("text"), list) and (not formal_only or node.get("address") == "formal"):
            yield from node["text"]
        for value in node.values():
            yield from _texts(value, formal_only)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value, formal_only)


def test_texts_already_in_the_u_form_are_left_alone(shipped: JourneyBook) -> None:
    business = yaml.safe_load((JOURNEYS / "business.yml").read_text(encoding="utf-8"))
    written_formal = [
        text
        for name in ("consumer.yml", "common.yml")
        for text in _texts(yaml.safe_load((JOURNEYS / name).read_text(encoding="utf-8")), formal_only=True)
    ]
    texts = [*_texts(business, formal_only=False), *written_formal, "Een offerte op maat is gratis."]
    assert len(texts) > 50
    assert [text for text in texts if shipped.formal(text) != text] == []


def _reply(book: JourneyBook, text: str) -> tuple[str | None, str]:
    reading = Reading(intent="how_it_works", intent_ranking=(("how_it_works", 0.9),), phase_ranking=())
    visit = Visit(
        reading=reading,
        text=text,
        channel="web",
        now=datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc),
        memory=Memory(),
        persona_entity=None,
    )
    result = answer(book, visit)
    return result.memory.address, " ".join(reply.text for reply in result.replies)


def test_a_formal_visitor_is_answered_in_the_u_form(shipped: JourneyBook) -> None:
    address, reply = _reply(shipped, "Geachte heer/mevrouw, hoe werkt een warmtepomp?")
    assert address == "formal"
    assert "warmtepomp" in reply
    assert INFORMAL.findall(reply) == []
    assert FORMAL.search(reply)


def test_an_informal_visitor_keeps_the_je_form(shipped: JourneyBook) -> None:
    address, reply = _reply(shipped, "hoe werkt een warmtepomp?")
    assert address != "formal"
    assert "warmtepomp" in reply
    assert INFORMAL.search(reply)
    assert FORMAL.findall(reply) == []


def test_general_messages_use_the_u_form_for_a_formal_consumer(shipped: JourneyBook) -> None:
    """Thanks, goodbye, the fallback and the NPS questions too, not only the journey's topics."""
    general = yaml.safe_load((PROJECT_ROOT / "journeys" / "common.yml").read_text(encoding="utf-8"))[
        "general"
    ]
    situation = Situation(
        phase="aftercare", product=None, persona="homeowner", address="formal", channel="rest"
    )
    still_informal = {
        key: text for key in general if INFORMAL.search(text := shipped.message(key, situation).text)
    }
    assert len(general) > 10 and still_informal == {}
