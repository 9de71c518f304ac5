"""Reading callback answers as people type them, office hours, and sealing that survives masking."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.content import ContentRepository
from bot.content.handoff import HandoffSection
from bot.handoff import form, texts
from bot.handoff.hours import describe, next_slot, open_now
from bot.handoff.seal import Sealer
from bot.privacy import mask
from bot.settings import PROJECT_ROOT

BOOK = ContentRepository(PROJECT_ROOT / "journeys", PROJECT_ROOT / "domain.yml").current()
SECTION = texts.section(BOOK)
assert SECTION is not None


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("06-12345678", "+31612345678"),
        ("06 1234 5678", "+31612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("+31 (0)6 12345678", "+31612345678"),
        ("0031612345678", "+31612345678"),
        ("020 - 123 45 67", "+31201234567"),
        ("+32 470 12 34 56", "+32470123456"),
    ],
)
def test_phone_numbers_as_people_type_them(typed: str, number: str) -> None:
    assert form.read_phone(typed) == number


@pytest.mark.parametrize(
    "typed",
    [
        "123",
        "hallo",
        "bel me op het werk",
        "06-1234567",
        "0612345678901",
        "+31 6 1234",
        "",
        "1" * 5000,
        "<b>0612345678</b>x",
    ],
)
def test_what_is_not_a_phone_number(typed: str) -> None:
    assert form.read_phone(typed) is None


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Jan de Vries", "Jan de Vries"),
        ("ik ben Fatima", "Fatima"),
        ("jan-willem", "Jan-willem"),
        ("A. Öztürk", "A. Öztürk"),
        ("Mijn naam is Eva.", "Eva"),
    ],
)
def test_names(typed: str, name: str) -> None:
    assert form.read_name(typed) == name


@pytest.mark.parametrize(
    "typed",
    [
        "a" * 10_000,
        "0612345678",
        "wat kost een warmtepomp?",
        "<script>alert(1)</script>",
        "",
        "   ",
        "Jan123",
    ],
)
def test_what_is_not_a_name(typed: str) -> None:
    assert form.read_name(typed) is None


def test_script_tags_are_taken_out_of_a_reason_and_it_is_capped() -> None:
    reason = form.read_reason("<script>alert('x')</script>De <b>warmtepomp</b> lekt " + "echt " * 200)
    assert reason is not None
    assert "<" not in reason and ">" not in reason and "script" not in reason.split()[0]
    assert reason.startswith("alert('x') De warmtepomp lekt")
    assert len(reason) <= form.MAX_REASON_CHARS


@pytest.mark.parametrize(
    "typed",
    [
        "laat maar",
        "Laat maar!",
        "nee laat maar zitten",
        "STOP",
        "hoeft niet meer",
        "nee dank je",
        "ach laat maar, ik bel zelf wel. welk nummer?",
        "Oké, hoeft niet meer",
    ],
)
def test_stop_phrases_end_the_form(typed: str) -> None:
    assert form.is_stop(typed, SECTION.stop_phrases)


@pytest.mark.parametrize(
    "typed", ["Jan Stoppelaar", "06-12345678", "ochtend", "laten we het zo doen", "ja graag", "nee, morgen"]
)
def test_ordinary_answers_are_no_stop(typed: str) -> None:
    assert not form.is_stop(typed, SECTION.stop_phrases)


@pytest.mark.parametrize(
    ("typed", "moment"),
    [
        ("ochtend", "ochtend"),
        ("Ochtend (8-12 uur)", "ochtend"),
        ("liefst 's middags", "middag"),
        ("eind-middag", "eind-middag"),
        ("na 3 uur graag", "eind-middag"),
    ],
)
def test_moments_by_payload_title_or_words(typed: str, moment: str) -> None:
    choices = [(m.id, m.title, m.words) for m in SECTION.moments]
    assert form.read_moment(typed, choices) == moment


def test_a_moment_that_is_none_of_the_options() -> None:
    assert form.read_moment("om middernacht", [(m.id, m.title, m.words) for m in SECTION.moments]) is None


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("ja", True),
        ("Ja, bel me", True),
        ("akkoord", True),
        ("nee", False),
        ("Nee, niet bellen", False),
        ("misschien", None),
    ],
)
def test_yes_and_no(typed: str, answer: bool | None) -> None:
    assert form.read_yes_no(typed) is answer


def _moment(moment_id: str):  # type: ignore[no-untyped-def]
    return next(m for m in SECTION.moments if m.id == moment_id)


def test_a_morning_asked_for_on_a_tuesday_afternoon_is_wednesday_morning() -> None:
    now = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc)  # Tuesday 14:30 in Amsterdam
    slot = next_slot(SECTION, _moment("ochtend"), now)
    assert slot is not None
    assert (slot.start.isoformat(), slot.end.isoformat()) == (
        "2026-12-02T08:00:00+01:00",
        "2026-12-02T12:00:00+01:00",
    )
    assert describe(slot, now) == "morgen (woensdag 2 december) tussen 8:00 en 12:00"


def test_the_lead_time_moves_the_start_of_a_window_of_today() -> None:
    now = datetime(2026, 12, 1, 13, 30, tzinfo=timezone.utc)  # 14:30 local, lead 60 minutes
    slot = next_slot(SECTION, _moment("eind-middag"), now)
    assert slot is not None
    assert describe(slot, now) == "vandaag tussen 15:30 en 18:00"


def test_weekends_and_holidays_are_skipped() -> None:
    friday_evening = datetime(2026, 12, 24, 18, 0, tzinfo=timezone.utc)  # Thursday 19:00; 25 and 26 closed
    slot = next_slot(SECTION, _moment("ochtend"), friday_evening)
    assert slot is not None
    assert slot.start.date().isoformat() == "2026-12-28"  # Monday
    assert describe(slot, friday_evening) == "maandag 28 december tussen 8:00 en 12:00"
    assert not open_now(SECTION, friday_evening)
    assert open_now(SECTION, datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))


def test_the_business_journey_gets_the_formal_texts_and_placeholders_are_filled() -> None:
    where = texts.situation(BOOK, phase="aftercare", persona="mkb_owner", address=None, channel="web")
    reply = texts.render(
        BOOK, where, "confirmed", name="Jan", phone_end="5678", when="morgen tussen 8:00 en 12:00"
    )
    assert "u" in reply.text.split() and " je " not in f" {reply.text} "
    assert "Jan" in reply.text and "5678" in reply.text and "{" not in reply.text
    consumer = texts.situation(BOOK, phase="aftercare", persona=None, address=None, channel="web")
    assert " je " in texts.render(BOOK, consumer, "confirmed", name="Jan", phone_end="1", when="x").text


def test_an_unknown_placeholder_is_a_content_error_naming_it() -> None:
    raw = SECTION.dict()
    raw["messages"]["confirmed"]["replies"][0]["text"] = ["Tot {straks}"]
    with pytest.raises(ValidationError, match="straks"):
        HandoffSection.parse_obj(raw)


def test_office_hours_must_be_readable() -> None:
    raw = SECTION.dict()
    raw["office_hours"]["monday"] = "8 tot 6"
    with pytest.raises(ValidationError, match="08:00-18:00"):
        HandoffSection.parse_obj(raw)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_sealed_values_survive_the_conversation_stores_masking(value: str) -> None:
    sealer = Sealer("seal-test-key-" + "s" * 20)
    sealed = sealer.seal(value)
    assert mask(sealed) == sealed
    assert sealer.open(mask(sealed)) == value


def test_a_value_sealed_with_another_key_or_tampered_does_not_open() -> None:
    sealed = Sealer("one-key-" + "a" * 20).seal("+31612345678")
    assert Sealer("other-key-" + "b" * 20).open(sealed) is None
    assert Sealer("one-key-" + "a" * 20).open(sealed[:-2] + "00") is None
    assert Sealer("one-key-" + "a" * 20).open("[telefoon]") is None
