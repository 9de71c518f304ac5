"""Recording turns and NPS answers: aggregation into touchpoints, privacy, and odd input stored safely."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta, timezone

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.privacy import pseudonymise
from bot.settings import SettingsError
from bot.store import TouchpointStore
from bot.store.models import Touchpoint, Turn
from tests.store.helpers import KEY, T0, rows, turn


def test_turns_of_one_session_make_one_touchpoint(store: TouchpointStore, database_url: str) -> None:
    store.record_turn(turn(minute=0, phase=None, intent="greet"))
    store.record_turn(turn(minute=1, phase="need", intent="energy_costs"))
    store.record_turn(turn(minute=2, phase="orientation", intent="savings", persona="senior"))
    store.record_turn(turn(minute=3, phase="need", intent="life_event"))
    store.record_turn(turn(minute=4, phase="consideration", intent="price"))

    [touchpoint] = rows(database_url, Touchpoint)
    assert touchpoint["phases_visited"] == ["need", "orientation", "consideration"]
    assert touchpoint["first_phase"] == "need"
    assert touchpoint["last_phase"] == "consideration"
    assert touchpoint["persona"] == "senior"
    assert touchpoint["channel"] == "web"
    assert touchpoint["outcome"] == "answered"
    assert touchpoint["started_at"] == T0
    assert touchpoint["ended_at"] == T0 + timedelta(minutes=4)
    turns = rows(database_url, Turn)
    assert [row["intent"] for row in turns] == [
        "greet",
        "energy_costs",
        "savings",
        "life_event",
        "price",
    ]
    assert {row["touchpoint_id"] for row in turns} == {touchpoint["id"]}
    assert turns[1]["confidence"] == pytest.approx(0.91)
    assert turns[1]["content_id"] == "consumer/need/energy_costs/default/0"


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        (["answered", "fallback"], "fallback"),
        (["fallback", "answered"], "answered"),
        (["answered", "completed", "answered"], "completed"),
        (["answered", "handoff", "completed"], "handoff"),
        (["handoff", "fallback"], "handoff"),
    ],
)
def test_touchpoint_outcome(
    store: TouchpointStore, database_url: str, outcomes: list[str], expected: str
) -> None:
    for minute, outcome in enumerate(outcomes):
        store.record_turn(turn(minute=minute, outcome=outcome))
    [touchpoint] = rows(database_url, Touchpoint)
    assert touchpoint["outcome"] == expected


def test_a_new_session_is_a_new_touchpoint_and_an_open_one_is_dropped(
    store: TouchpointStore, database_url: str
) -> None:
    store.record_turn(turn(minute=0))
    store.record_turn(turn("visitor-2", minute=0, outcome="completed", intent="thanks"))
    later = T0 + timedelta(days=2)
    store.record_turn(turn(session=later, phase="orientation", intent="savings"))
    store.record_turn(turn("visitor-2", session=later, minute=1))

    outcomes = [(row["first_phase"], row["outcome"]) for row in rows(database_url, Touchpoint)]
    assert outcomes == [
        ("need", "dropped"),
        ("need", "completed"),
        ("orientation", "answered"),
        ("need", "answered"),
    ]


def test_unknown_turn_outcome_is_a_programming_error(store: TouchpointStore) -> None:
    with pytest.raises(ValueError, match="outcome"):
        store.record_turn(turn(outcome="dropped"))


def test_sender_is_pseudonymised_and_text_masked(store: TouchpointStore, database_url: str) -> None:
    sender = "whatsapp:+31612345678"
    store.record_turn(turn(sender, text="bel me op 06-12345678 of mail jan@example.nl, NL91ABNA0417164300"))
    store.record_nps(
        sender, T0, 3, "bel 0612345678 terug", "use", "whatsapp", None, T0 + timedelta(minutes=5)
    )

    [touchpoint] = rows(database_url, Touchpoint)
    [stored_turn] = rows(database_url, Turn)
    assert touchpoint["sender_key"] == pseudonymise(sender, KEY)
    assert stored_turn["text"] == "bel me op [telefoon] of mail [e-mail], [iban]"
    assert touchpoint["nps_reason"] == "bel [telefoon] terug"
    everything = json.dumps(rows(database_url, Touchpoint) + rows(database_url, Turn), default=str)
    for secret in (sender, "+31612345678", "0612345678", "06-12345678", "jan@example.nl", "NL91ABNA"):
        assert secret not in everything


def test_nps_is_stored_with_phase_channel_and_persona(store: TouchpointStore, database_url: str) -> None:
    store.record_turn(turn(phase="use", intent="thanks", outcome="completed", channel="whatsapp"))
    answered = T0 + timedelta(minutes=2)
    store.record_nps("visitor-1", T0, 9, "  Snel geholpen!  ", "use", "whatsapp", "senior", answered)

    [touchpoint] = rows(database_url, Touchpoint)
    assert (touchpoint["nps_score"], touchpoint["nps_reason"], touchpoint["nps_phase"]) == (
        9,
        "Snel geholpen!",
        "use",
    )
    assert (touchpoint["channel"], touchpoint["persona"]) == ("whatsapp", "senior")
    assert touchpoint["nps_at"] == answered
    assert store.last_nps_at("visitor-1") == answered
    assert store.last_nps_at("visitor-2") is None


def test_nps_without_turns_still_makes_a_touchpoint(store: TouchpointStore, database_url: str) -> None:
    store.record_nps("visitor-1", T0, 0, None, None, "sms", None, T0)
    [touchpoint] = rows(database_url, Touchpoint)
    assert (touchpoint["nps_score"], touchpoint["outcome"], touchpoint["phases_visited"]) == (
        0,
        "completed",
        [],
    )


def test_last_nps_at_is_the_latest_over_sessions(store: TouchpointStore) -> None:
    store.record_nps("visitor-1", T0, 8, None, "use", "web", None, T0)
    later = T0 + timedelta(days=40)
    store.record_nps("visitor-1", later, 6, None, "aftercare", "web", None, later)
    assert store.last_nps_at("visitor-1") == later


def test_nps_reason_is_capped(store: TouchpointStore, database_url: str) -> None:
    store.record_nps("visitor-1", T0, 7, "lang " * 500, "use", "web", None, T0)
    [touchpoint] = rows(database_url, Touchpoint)
    assert len(str(touchpoint["nps_reason"])) == 1000


@pytest.mark.parametrize("score", [-1, 11, 8.5, "8", True])
def test_an_impossible_nps_score_is_refused(store: TouchpointStore, score: object) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        store.record_nps("visitor-1", T0, score, None, "use", "web", None, T0)  # type: ignore[arg-type]


def test_times_in_other_zones_are_stored_as_utc(store: TouchpointStore, database_url: str) -> None:
    amsterdam = timezone(timedelta(hours=2))
    local = T0.astimezone(amsterdam)
    store.record_turn(turn(session=local))
    store.record_turn(turn(session=T0, minute=1))  # the same session, written in UTC
    [touchpoint] = rows(database_url, Touchpoint)
    assert touchpoint["session_started_at"] == T0


@pytest.mark.parametrize(
    "evil",
    [
        "Robert'); DROP TABLE turns;--",
        "' OR '1'='1",
        '"; DELETE FROM touchpoints; --',
        "\\x00 \\' %s %(text)s {text} ? :text",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 \u202e omgekeerd",
    ],
)
def test_sql_looking_text_is_stored_as_text(store: TouchpointStore, database_url: str, evil: str) -> None:
    store.record_turn(turn(text=evil, intent="out_of_scope"))
    store.record_nps("visitor-1", T0, 5, evil, "need", "web", evil, T0)
    store.record_turn(turn(minute=1))
    assert [row["text"] for row in rows(database_url, Turn)] == [evil, "mijn rekening is hoog"]
    [touchpoint] = rows(database_url, Touchpoint)
    assert touchpoint["nps_reason"] == evil.strip()
    assert touchpoint["persona"] == evil
    engine = create_engine(database_url, future=True)
    try:
        assert {"touchpoints", "turns"} <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM turns")).scalar_one() == 2
    finally:
        engine.dispose()


def test_two_stores_on_one_database_share_the_touchpoint(
    make_store: Callable[..., TouchpointStore], database_url: str
) -> None:
    """Two action-server workers write turns of the same session."""
    first, second = make_store(), make_store()
    first.record_turn(turn(minute=0))
    second.record_turn(turn(minute=1, phase="orientation"))
    first.record_turn(turn(minute=2, phase="decision"))
    [touchpoint] = rows(database_url, Touchpoint)
    assert touchpoint["phases_visited"] == ["need", "orientation", "decision"]
    out = io.StringIO()
    assert second.export("turns", "csv", out) == 3


@pytest.mark.parametrize("value", [None, "", "change-me", "too-short"])
def test_from_env_names_a_missing_or_weak_key(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    else:
        monkeypatch.setenv("PSEUDONYM_KEY", value)
    with pytest.raises(SettingsError, match="PSEUDONYM_KEY"):
        TouchpointStore.from_env()


def test_from_env_checks_the_retention_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("RETENTION_DAYS", "een halfjaar")
    with pytest.raises(SettingsError, match="RETENTION_DAYS"):
        TouchpointStore.from_env()
