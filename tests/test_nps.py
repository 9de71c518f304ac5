"""The NPS score parser, categories, formula and the rule for when to ask."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.nps import category, declines_to_score, nps, parse_score, should_ask, split_score_and_reason

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
SERVICE = ("delivery", "use", "aftercare")


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("8", 8),
        ("0", 0),
        ("10", 10),
        (" 9 ", 9),
        ("8!", 8),
        ("8.", 8),
        ("nul", 0),
        ("één", 1),
        ("een", 1),
        ("twee", 2),
        ("drie", 3),
        ("vier", 4),
        ("vijf", 5),
        ("zes", 6),
        ("Zeven", 7),
        ("acht", 8),
        ("negen", 9),
        ("TIEN", 10),
        ("een acht", 8),
        ("8/10", 8),
        ("8 / 10", 8),
        ("8 van de 10", 8),
        ("8 van 10", 8),
        ("8 uit 10", 8),
        ("een 1 van de 10", 1),
        ("een dikke 8", 8),
        ("Een dikke 8!", 8),
        ("een ruime 7", 7),
        ("een 7 min", 7),
        ("7-", 7),
        ("7+", 7),
        ("zes min", 6),
        ("8,5", 9),
        ("8.5", 9),
        ("9,5", 10),
        ("7,4", 7),
        ("6,49", 6),
        ("7½", 8),
        ("acht en een half", 9),
        ("ik geef jullie een 8", 8),
        ("Ik geef een 9 want ik ben snel geholpen", 9),
        ("mijn cijfer is 7", 7),
        ("score: 9", 9),
        ("Hmm, een 6 denk ik", 6),
        ("6, de monteur was te laat", 6),
        ("De monteur was te laat, 6", 6),
        ("op een schaal van 0 tot 10 een 8", 8),
        ("8️⃣", 8),
        ("6 want de monteur kwam pas om 10 uur", 6),
    ],
)
def test_scores_as_people_type_them(text: str, score: int) -> None:
    assert parse_score(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "11",
        "12",
        "100",
        "-3",
        "- 3",
        "min 3",
        "10,5",
        "10.000",
        "honderd",
        "elf",
        "twaalf",
        "een 12 van de 10",
        "4/5",
        "80%",
        "7 of 8",
        "7-8",
        "tussen 7 en 8",
        "een 8 of een 9",
        "😀",
        "👍👍",
        "ik weet het niet",
        "een ruime voldoende",
        "geen idee",
        "x" * 10_000,
        "9" * 10_000,
    ],
)
def test_no_score_is_read_where_there_is_none(text: str) -> None:
    assert parse_score(text) is None


def test_a_long_answer_is_read_from_its_start_only_and_quickly() -> None:
    text = "8, " + "het ging prima maar het duurde lang " * 300
    started = time.perf_counter()
    score, reason = split_score_and_reason(text)
    assert score == 8
    assert reason is not None and reason.startswith("het ging prima")
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6, de monteur was te laat", (6, "de monteur was te laat")),
        ("De monteur was te laat, 6", (6, "De monteur was te laat")),
        ("Ik geef een 9 want ik ben snel geholpen", (9, "ik ben snel geholpen")),
        ("een dikke 8: alles netjes opgeruimd", (8, "alles netjes opgeruimd")),
        ("Een zeven, prima geholpen maar duur", (7, "prima geholpen maar duur")),
        ("8", (8, None)),
        ("een 8 denk ik", (8, None)),
        ("8 van de 10!", (8, None)),
        ("ik geef jullie een 8", (8, None)),
        ("geen idee", (None, None)),
        ("", (None, None)),
    ],
)
def test_score_and_reason_are_split(text: str, expected: tuple[int | None, str | None]) -> None:
    assert split_score_and_reason(text) == expected


@given(st.text(max_size=500))
def test_parser_never_raises_and_stays_in_range(text: str) -> None:
    score = parse_score(text)
    assert score is None or 0 <= score <= 10


# Words that are neither numbers, units, lead-ins nor filler: a reason made of them is kept whole.
REASON_WORDS = ("prima", "geholpen", "de", "monteur", "was", "vriendelijk", "snel", "duur", "netjes", "app")
UNITS = ("minuten", "min", "dagen", "weken", "maanden", "jaar", "uur", "euro", "panelen", "kWh", "kW", "%")
SCORES = st.integers(min_value=0, max_value=10)


@given(SCORES, st.lists(st.sampled_from(REASON_WORDS), max_size=8))
def test_a_leading_score_followed_by_words_is_found(score: int, words: list[str]) -> None:
    tail = " ".join(words)
    assert split_score_and_reason(f"{score}, {tail}") == (score, tail or None)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        # The examples of issue 9: the first number is a duration or a negation, not the score.
        ("10 minuten gewacht aan de telefoon, een 5", 5),
        ("na 2 weken eindelijk opgelost: 9", 9),
        ("3 dagen te laat, verder een 9", 9),
        ("geen 10 maar een 8", 8),
        # Units after a number: it is a quantity, whatever comes later.
        ("20 min gewacht, toch een 7", 7),
        ("10 min, daarna opgelost. een 8", 8),
        ("2 maanden gewacht op de monteur, 6", 6),
        ("al 1 jaar tevreden: 9", 9),
        ("pas om 9 uur gebeld, een 7", 7),
        ("5 euro te veel betaald, een 6", 6),
        ("€ 5 korting gekregen, een 8", 8),
        ("€5 korting gekregen, een 8", 8),
        ("10 panelen netjes gelegd, 9", 9),
        ("4 kWh per dag, een 7", 7),
        ("een 3 kW omvormer, ik geef een 8", 8),
        ("8% korting, dus een 9", 9),
        ("drie weken gewacht, een zes", 6),
        # Numbers that name something: a time, a house number, a code.
        ("de monteur kwam om 10, een 7", 7),
        ("huisnummer 8 werd niet gevonden, een 5", 5),
        # Number words only on word boundaries.
        ("alleen een 7", 7),
        ("alleen de planning was slecht, 6", 6),
        ("tweede keer gebeld, een 6", 6),
        ("zevende keer gebeld, 4", 4),
        ("eenvoudig geregeld, een 9", 9),
        ("Ik geef een 8 en een compliment aan de monteur", 8),
        # Marked by "een", "cijfer", "/10" or the end of the answer when two numbers remain.
        ("mijn 2 vragen zijn beantwoord, cijfer 8", 8),
        ("ik had 2 vragen en geef een 8", 8),
        ("de 2 monteurs waren top 9/10", 9),
    ],
)
def test_the_score_is_the_number_that_is_a_score(text: str, score: int) -> None:
    assert parse_score(text) == score


@pytest.mark.parametrize(
    "text",
    [
        "geen",
        "geen 10",
        "Mijn postcode is 3512 AB, huisnummer 14",
        "Mijn postcode is 3512 AB, huisnummer 8",
        "10 minuten",
        "2 weken gewacht",
        "om 9 uur",
        "€ 8",
        "8 euro",
        "8%",
        "tienduizend",
        "negentig",
        "een 6 of misschien een 7",
        "7, mijn buurman gaf een 9",
        "6 want de monteur kwam pas om 10 uur, een 7",
    ],
)
def test_no_score_or_two_scores_give_none_so_the_form_asks_again(text: str) -> None:
    assert parse_score(text) is None


def test_the_reason_keeps_the_quantity_that_was_not_the_score() -> None:
    assert split_score_and_reason("10 minuten gewacht aan de telefoon, een 5") == (
        5,
        "10 minuten gewacht aan de telefoon",
    )
    assert split_score_and_reason("na 2 weken eindelijk opgelost: 9") == (9, "na 2 weken eindelijk opgelost")


@given(SCORES, st.integers(min_value=0, max_value=10), st.sampled_from(UNITS), st.sampled_from(REASON_WORDS))
def test_a_quantity_with_a_unit_is_never_the_score(score: int, quantity: int, unit: str, word: str) -> None:
    assert parse_score(f"{quantity} {unit} {word}, een {score}") == score
    assert parse_score(f"{word} {quantity} {unit}, {score}") == score


@given(SCORES, SCORES, st.sampled_from(["{a} of {b}", "een {a} of een {b}", "tussen {a} en {b}", "{a}-{b}"]))
def test_two_offered_scores_are_not_guessed(a: int, b: int, pattern: str) -> None:
    assert parse_score(pattern.format(a=a, b=b)) is None


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "detractor"), (6, "detractor"), (7, "passive"), (8, "passive"), (9, "promoter"), (10, "promoter")],
)
def test_categories(score: int, expected: str) -> None:
    assert category(score) == expected


@pytest.mark.parametrize("score", [-1, 11])
def test_category_refuses_scores_outside_the_scale(score: int) -> None:
    with pytest.raises(ValueError):
        category(score)


def test_nps_is_percentage_promoters_minus_percentage_detractors() -> None:
    assert nps([10, 9, 8, 7, 6, 0]) == pytest.approx(100 * (2 - 2) / 6)
    assert nps([10, 10, 9, 3]) == pytest.approx(50.0)
    assert nps([10]) == 100.0
    assert nps([0, 6]) == -100.0
    assert nps([7, 8]) == 0.0


def test_nps_counts_zero_as_a_detractor_and_skips_unanswered() -> None:
    assert nps([0, 10]) == 0.0
    assert nps([None, 10, None]) == 100.0


def test_nps_of_no_answers_is_undefined() -> None:
    with pytest.raises(ValueError):
        nps([])
    with pytest.raises(ValueError):
        nps([None, None])


def test_nps_refuses_an_impossible_score() -> None:
    with pytest.raises(ValueError):
        nps([8, 11])


@pytest.mark.parametrize(
    ("phase", "last", "expected"),
    [
        ("use", None, True),
        ("aftercare", NOW - timedelta(days=31), True),
        ("delivery", NOW - timedelta(days=30), True),
        ("delivery", NOW - timedelta(days=29, hours=23), False),
        ("use", NOW - timedelta(days=1), False),
        ("consideration", None, False),
        ("need", NOW - timedelta(days=400), False),
        (None, None, False),
        ("use", NOW + timedelta(days=2), False),
    ],
)
def test_should_ask(phase: str | None, last: datetime | None, expected: bool) -> None:
    assert should_ask(phase, last, NOW, ask_after_phases=SERVICE, cooldown_days=30) is expected


def test_should_ask_reads_naive_datetimes_as_utc() -> None:
    naive_now = NOW.replace(tzinfo=None)
    assert should_ask("use", NOW - timedelta(days=31), naive_now, SERVICE, 30) is True
    assert should_ask("use", (NOW - timedelta(days=1)).replace(tzinfo=None), NOW, SERVICE, 30) is False


@pytest.mark.parametrize(
    ("text", "declines"),
    [
        ("Ik ben nog geen klant van u, dus dat kan ik niet beoordelen.", True),
        ("Dat kan ik nog niet zeggen", True),
        ("liever niet", True),
        ("Ik geef geen cijfer", True),
        ("n.v.t.", True),
        ("geen 10 maar een 8", False),  # a score is an answer
        ("geen idee", False),  # unsure, asked once more
        ("de monteur kwam niet", False),
        ("8", False),
    ],
)
def test_declining_to_score_is_recognised(text: str, declines: bool) -> None:
    assert declines_to_score(text) is declines
