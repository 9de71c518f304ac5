"""The append path of the session fields (bot/store/apply.py `_append`) against the full derivation.

A turn later than every stored turn of its touchpoint updates its session from the latest turn and
the session row alone; anything else is re-derived in full. Either way the stored fields must be
exactly what `derive` gives over the touchpoint's turns in time order: random conversations,
written in order and with turns arriving late, are checked against it, and the statements one
append issues are counted to show that the append path is taken and does not grow with the session.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text

from bot.phases import PHASES
from bot.store import TouchpointStore, TurnRecord
from bot.store.apply import TurnFacts, derive
from bot.store.records import StoredTurn
from tests.store.session_helpers import products, sessions, turn_fields

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
# "bogus": a phase outside PHASES counts as no phase.
PHASE_CHOICES = (*PHASES, None, None, "bogus")
INTENTS = ("greet", "energy_costs", "price", "quote_request", "visit_request", "order", "nlu_fallback")
OUTCOMES = ("answered", "answered", "answered", "fallback", "completed", "handoff")
PRODUCT_CHOICES = (None, None, None, None, "warmtepomp", "zonnepanelen", "")
# Seconds between two turns: mostly short, sometimes the same moment, around the 30-minute gap, or long.
GAPS = (*[5, 20, 60, 240] * 4, 0, 1799, 1800, 1801, 2500, 9000)
# Turn fields by record id, touchpoint_sessions rows, session_products rows (as in session_helpers.py).
State = tuple[dict[str, Any], list[tuple[Any, ...]], list[tuple[Any, ...]]]


def random_turns(rng: random.Random, sender: str) -> list[TurnRecord]:
    """One touchpoint's turns in time order."""
    at = T0 + timedelta(seconds=rng.randrange(3600))
    found = []
    for _ in range(rng.choice((1, 2, 3, *range(5, 45)))):
        at += timedelta(seconds=rng.choice(GAPS))
        said = rng.choice(("/knop", "gewoon getypt", "/payload{}"))
        found.append(
            TurnRecord(
                sender_id=sender, session_started_at=T0, channel="web", persona=None,
                phase=rng.choice(PHASE_CHOICES), intent=rng.choice(INTENTS), confidence=0.8,
                content_id=None, text=said, outcome=rng.choice(OUTCOMES), at=at,
                product=rng.choice(PRODUCT_CHOICES), typed=rng.choice((None, None, True, False)),
            )
        )  # fmt: skip
    return found


def facts(turn: StoredTurn) -> TurnFacts:
    typed = not turn.text.startswith("/") if turn.typed is None else turn.typed
    return TurnFacts(turn.at, turn.phase, turn.intent, turn.outcome, typed, turn.product)


def expected(written: list[StoredTurn]) -> State:
    """What `derive` gives per touchpoint over the turns in time order (same moment: as written)."""
    fields: dict[str, Any] = {}
    session_rows: list[tuple[Any, ...]] = []
    product_rows: list[tuple[Any, ...]] = []
    for sender in {turn.sender_key for turn in written}:
        mine = sorted((turn for turn in written if turn.sender_key == sender), key=lambda turn: turn.at)
        turn_values, derived_sessions, derived_products = derive([facts(turn) for turn in mine])
        fields.update({turn.record_id: tuple(values) for turn, values in zip(mine, turn_values, strict=True)})
        session_rows += [
            (sender, row["number"], row["turns"], row["engaged"], row["completed"], row["decided"],
             row["ordered"], row["entry_phase"], row["last_phase"], row["phases"],
             str(row["started_at"].replace(tzinfo=None)), str(row["ended_at"].replace(tzinfo=None)))
            for row in derived_sessions
        ]  # fmt: skip
        product_rows += [(sender, number, product) for number, product in derived_products]
    return fields, sorted(session_rows), sorted(product_rows)


def stored(url: str) -> State:
    return turn_fields(url), sessions(url), products(url)


def write(store: TouchpointStore, record: TurnRecord) -> StoredTurn:
    prepared = store.prepare_turn(record)
    store.write(prepared)
    return prepared


def interleaved(conversations: list[list[TurnRecord]]) -> Iterator[TurnRecord]:
    """Round robin over the conversations, so that the touchpoints' writes alternate."""
    for index in range(max(len(turns) for turns in conversations)):
        yield from (turns[index] for turns in conversations if index < len(turns))


@contextmanager
def connection(url: str) -> Iterator[Any]:
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as sql:
            yield sql
    finally:
        engine.dispose()


@contextmanager
def statements(store: TouchpointStore) -> Iterator[list[str]]:
    """The SQL statements the store's engine sends while inside the block."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(store._engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(store._engine, "before_cursor_execute", count)


@pytest.mark.parametrize("seed", range(4))
def test_turns_written_in_order_get_the_fields_derive_gives(
    store: TouchpointStore, database_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    conversations = [random_turns(rng, f"visitor-{seed}-{number}") for number in range(14)]
    written = [write(store, record) for record in interleaved(conversations)]
    assert stored(database_url) == expected(written), f"seed {seed}"


@pytest.mark.parametrize("seed", range(3))
def test_turns_arriving_late_get_the_fields_derive_gives(
    store: TouchpointStore, database_url: str, seed: int
) -> None:
    """A few turns held back (the spool after an outage) and written later, among appends; some
    conversations arrive in any order. The end state depends only on the turns, not their arrival."""
    rng = random.Random(1000 + seed)
    conversations = []
    for number in range(12):
        turns = random_turns(rng, f"late-{seed}-{number}")
        if number % 4 == 0:
            rng.shuffle(turns)
        else:
            for _ in range(rng.randrange(1, 4)):
                held = rng.randrange(len(turns))
                turns.insert(rng.randrange(held, len(turns)), turns.pop(held))
        conversations.append(turns)
    written = [write(store, record) for record in interleaved(conversations)]
    assert stored(database_url) == expected(written), f"seed {seed}"


def test_a_turn_without_a_session_number_is_re_derived(store: TouchpointStore, database_url: str) -> None:
    """Turns written outside the store have no session number; the next append must not skip them."""
    rng = random.Random(7)
    written = []
    for number, position in enumerate(("latest", "earlier")):
        turns: list[TurnRecord] = []
        while len(turns) < 6:
            turns += random_turns(rng, f"null-{number}")
        # One session: a minute apart.
        turns = [replace(turn, at=T0 + timedelta(minutes=minute)) for minute, turn in enumerate(turns[:6])]
        written += [write(store, record) for record in turns[:5]]
        # The latest turn, or one before it in the same session, loses its fields.
        target = written[-1] if position == "latest" else written[-3]
        with connection(database_url) as sql:
            sql.execute(
                text(
                    "UPDATE turns SET session_no = NULL, next_phase = NULL, next_step = NULL,"
                    " session_engaged = NULL, went_further = NULL WHERE record_id = :id"
                ),
                {"id": target.record_id},
            )
        written.append(write(store, turns[5]))
    assert stored(database_url) == expected(written)


def button(sender: str, second: int, phase: str | None = "need", **changes: Any) -> TurnRecord:
    """A button tap (not typed, so the session is not engaged) `second`s after T0."""
    values = {"sender_id": sender, "session_started_at": T0, "channel": "web", "persona": None,
              "phase": phase, "intent": "energy_costs", "confidence": 0.9, "content_id": None,
              "text": "/knop", "outcome": "answered", "at": T0 + timedelta(seconds=second)}  # fmt: skip
    return TurnRecord(**{**values, **changes})


# Appended after the sessions' last turn: the same kind of message to a short and a long session.
APPENDS = {
    "same phase": {"phase": "need"},
    "typed": {"text": "wat kost het?"},  # the session becomes engaged: every turn's session_engaged
    "a later phase and a product": {"phase": "decision", "product": "warmtepomp"},  # went_further
    "a completing order": {"intent": "order", "phase": None},
    "after a pause": {"seconds": 1801, "text": "ik ben terug"},  # a new session
}


@pytest.mark.parametrize("kind", APPENDS)
def test_an_append_costs_the_same_statements_at_turn_60_as_at_turn_2(
    store: TouchpointStore, database_url: str, kind: str
) -> None:
    changes = dict(APPENDS[kind])
    pause = changes.pop("seconds", 20)
    written: list[StoredTurn] = []
    sent: dict[int, list[str]] = {}
    for length in (2, 60):
        sender = f"visitor-{length}"
        # One session of button taps in "need" and "orientation", the last two "orientation", "need".
        phases = ["orientation" if (length - k) % 3 == 2 else "need" for k in range(length)]
        written += [write(store, button(sender, 20 * k, phase)) for k, phase in enumerate(phases)]
        with statements(store) as sent[length]:
            written.append(write(store, button(sender, 20 * (length - 1) + pause, **changes)))
    assert len(sent[60]) == len(sent[2]), "\n".join(sent[60])
    assert stored(database_url) == expected(written)


def test_an_append_leaves_the_earlier_steps_alone_and_a_late_turn_re_derives(
    store: TouchpointStore, database_url: str
) -> None:
    """Proof that an append does not re-derive the session: a wrong next step stored on an earlier
    turn (which a re-derivation would correct) survives it; the next late turn corrects it."""
    phases = ["need"] * 30 + ["orientation"] * 30
    written = [write(store, button("visitor", 20 * k, phase)) for k, phase in enumerate(phases)]
    marked = written[10].record_id
    with connection(database_url) as sql:
        sql.execute(text("UPDATE turns SET next_step = 'fell_back' WHERE record_id = :id"), {"id": marked})
    written.append(write(store, button("visitor", 20 * 60, "decision", text="offerte graag")))
    assert turn_fields(database_url)[marked][2] == "fell_back", "the append re-derived the session"
    fields, wanted = turn_fields(database_url), expected(written)[0]
    del fields[marked], wanted[marked]
    assert fields == wanted, "every other field is what derive gives"

    written.append(write(store, button("visitor", 20 * 45 + 5, "consideration")))  # late: between two turns
    assert turn_fields(database_url)[marked][2] == "continued"
    assert stored(database_url) == expected(written)
