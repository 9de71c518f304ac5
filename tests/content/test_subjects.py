"""Subjects (common.yml `subjects`): a variant for saldering or netcongestie answers whoever mentions it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.content import ContentError, JourneyBook
from bot.content.loader import load_content
from bot.content.select import Situation
from bot.dialogue import Memory, Visit, answer
from bot.settings import PROJECT_ROOT
from bot.understanding import Reading
from tests.understanding.test_dialogue import NOW

JOURNEYS = PROJECT_ROOT / "journeys"
DOMAIN = PROJECT_ROOT / "domain.yml"


@pytest.fixture(scope="module")
def book() -> JourneyBook:
    return load_content(JOURNEYS, DOMAIN).book


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("En hoe zit het met de salderingsregeling, die stopt toch in 2027?", "saldering"),
        ("mag ik straks nog salderen", "saldering"),
        ("Eneco rekent nu terugleverkosten", "saldering"),
        ("onze netbeheerder meldt netcongestie", "netcongestie"),
        ("het stroomnet vol in onze wijk?", "netcongestie"),
        ("wat kost een warmtepomp", None),
    ],
)
def test_subjects_are_spotted_in_messages(book: JourneyBook, text: str, subject: str | None) -> None:
    assert book.detect_subject(text) == subject


def ask(book: JourneyBook, text: str, intent: str, phase: str, memory: Memory | None = None) -> str:
    reading = Reading(intent=intent, intent_ranking=((intent, 0.9),), phase_ranking=((phase, 0.9),))
    result = answer(
        book, Visit(reading=reading, text=text, channel="web", now=NOW, memory=memory or Memory())
    )
    return result.content_id or ""


def test_a_saldering_question_gets_the_saldering_variant_of_its_topic(book: JourneyBook) -> None:
    content_id = ask(
        book, "En hoe zit het met de salderingsregeling, die stopt toch in 2027?", "life_event", "need"
    )
    assert "subject=saldering" in content_id
    # The same topic without the subject keeps the ordinary reply.
    assert "subject=" not in ask(book, "we gaan verbouwen", "life_event", "need")


def test_netcongestie_for_a_business_answers_about_the_grid(book: JourneyBook) -> None:
    memory = Memory(persona="mkb_owner")
    text = (
        "Onze netbeheerder meldt netcongestie, we kunnen geen extra teruglevering krijgen. Wat betekent dat?"
    )
    content_id = ask(book, text, "life_event", "need", memory)
    assert content_id.startswith("business/") and "subject=netcongestie" in content_id


def test_the_subject_outweighs_the_persona_but_not_the_phase(book: JourneyBook) -> None:
    tenant = Situation(phase="need", subject="saldering", persona="tenant")
    reply = book.reply("life_event", tenant, journey_id="consumer")
    assert reply is not None and "subject=saldering" in reply.content_id


def test_an_unknown_subject_is_named_with_a_suggestion(tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(JOURNEYS, folder)
    business = folder / "business.yml"
    business.write_text(
        business.read_text(encoding="utf-8").replace("subject: netcongestie", "subject: netcongesite", 1),
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as caught:
        load_content(folder, DOMAIN)
    messages = [issue.message for issue in caught.value.errors]
    assert any(
        "subject 'netcongesite' is not in common.yml under subjects" in m and "netcongestie" in m
        for m in messages
    ), messages


@pytest.mark.parametrize(
    ("text", "intent", "phase", "subject"),
    [
        (
            "Het is een RIETEN dak. Kunnen daar wel of geen panelen op?",
            "suitability",
            "orientation",
            "rieten_dak",
        ),
        ("klopt dat van die btw op mijn eindfactuur nou of niet?", "payment", "aftercare", "btw"),
        (
            "foutcode A9-01 en geen warm water, kan er vandaag iemand komen?",
            "malfunction",
            "aftercare",
            "spoed",
        ),
        ("Er is NIEMAND gekomen vandaag, ik had er vrij voor genomen!", "delay", "delivery", "no_show"),
    ],
)
def test_specific_details_get_their_own_answer(
    book: JourneyBook, text: str, intent: str, phase: str, subject: str
) -> None:
    assert f"subject={subject}" in ask(book, text, intent, phase)
