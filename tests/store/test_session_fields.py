"""The analytics session fields the store keeps at write time (revision 0006), against hand-computed values.

Every turn re-derives its touchpoint's sessions under the touchpoint's lock, so turns arriving late
or from several writers at once end up as if written in order; the window-function derivation the
report uses for other gaps (bot/analytics/derived.py) must agree with them.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.phases import PHASES
from bot.store import TouchpointStore, TurnRecord
from bot.store.models import Touchpoint, Turn
from tests.store.helpers import rows
from tests.store.session_helpers import products, sessions, turn_fields, window_fields

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)
# (minute, phase, intent, text, outcome, product); a 42-minute pause before the 5th, 74 before the 7th.
TURNS = [
    (0, None, "greet", "/greet", "answered", None),
    (1, "need", "energy_costs", "hoge rekening", "answered", None),
    (2, "orientation", "savings", "wat bespaar ik", "answered", "zonnepanelen"),
    (3, "orientation", "nlu_fallback", "laadpaal?", "fallback", None),
    (45, "consideration", "price", "/price", "answered", "warmtepomp"),
    (46, "decision", "quote_request", "offerte graag", "answered", "warmtepomp"),
    (120, "use", "settings", "/settings", "answered", None),
]
# Per turn: (session, next message's phase, what it did, session engaged, a later phase followed).
EXPECTED = [
    (1, "need", "continued", True, False),  # the greeting has no phase: the next message "continued"
    (1, "orientation", "moved_on", True, True),
    (1, "orientation", "fell_back", True, False),
    (1, None, "left", True, False),  # last of session 1, which has no quote, order, goodbye or handoff
    (2, "decision", "moved_on", True, True),  # a button, but its session has a typed message
    (2, None, "closed", True, False),  # a quote request completes the session
    (3, None, "left", False, False),  # only a button: not engaged
]
# (number, turns, engaged, completed, decided, ordered, entry, last, phase bits, start, end)
EXPECTED_SESSIONS = [
    (1, 4, True, False, False, False, "need", "orientation", 0b11, "09:00", "09:03"),
    (2, 2, True, True, True, False, "consideration", "decision", 0b1100, "09:45", "09:46"),
    (3, 1, False, False, False, False, "use", "use", 0b1000000, "11:00", "11:00"),
]


def record(sender: str, minute: int, phase: str | None, intent: str, said: str, outcome: str,
           product: str | None) -> TurnRecord:  # fmt: skip
    return TurnRecord(
        sender_id=sender, session_started_at=T0, channel="web", persona=None, phase=phase, intent=intent,
        confidence=0.9, content_id=f"consumer/{phase}/{intent}/default#1" if phase else None, text=said,
        outcome=outcome, at=T0 + timedelta(minutes=minute), product=product,
    )  # fmt: skip


def by_sender(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Per sender key, the turns' fields in time order."""
    fields = turn_fields(url)
    found: dict[str, list[tuple[object, ...]]] = {}
    for row in sorted(rows(url, Turn), key=lambda r: (r["touchpoint_id"], r["at"], r["id"])):
        found.setdefault(str(row["touchpoint_id"]), []).append(fields[str(row["record_id"])])
    return found


def short(session_rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    return [(*row[1:10], str(row[10])[11:16], str(row[11])[11:16]) for row in session_rows]


def test_turns_written_in_order_get_their_session_and_next_step(
    store: TouchpointStore, database_url: str
) -> None:
    for turn in TURNS:
        store.record_turn(record("visitor", *turn))
    assert list(by_sender(database_url).values()) == [EXPECTED]
    assert short(sessions(database_url)) == EXPECTED_SESSIONS
    assert [row[1:] for row in products(database_url)] == [(1, "zonnepanelen"), (2, "warmtepomp")]
    assert window_fields(database_url) == turn_fields(database_url), "the report's SQL derivation agrees"


def test_turns_arriving_late_give_the_same_fields(store: TouchpointStore, database_url: str) -> None:
    """From the spool after an outage, or a slower writer: the order of arrival does not matter."""
    orders = [list(reversed(TURNS)), *(random.Random(seed).sample(TURNS, len(TURNS)) for seed in range(4))]
    for number, order in enumerate(orders):
        for turn in order:
            store.record_turn(record(f"visitor-{number}", *turn))
    assert list(by_sender(database_url).values()) == [EXPECTED] * len(orders)
    assert {tuple(short([row])[0]) for row in sessions(database_url)} == set(EXPECTED_SESSIONS)
    assert len(sessions(database_url)) == len(EXPECTED_SESSIONS) * len(orders)


def test_a_late_turn_in_a_pause_joins_two_sessions(store: TouchpointStore, database_url: str) -> None:
    store.record_turn(record("visitor", 0, "need", "energy_costs", "hoge rekening", "answered", None))
    store.record_turn(record("visitor", 40, "decision", "order", "bestellen", "answered", None))
    assert [row[1:3] for row in sessions(database_url)] == [(1, 1), (2, 1)]
    assert [f[2] for f in next(iter(by_sender(database_url).values()))] == ["left", "closed"]
    store.record_turn(record("visitor", 20, "orientation", "savings", "en besparen?", "answered", None))
    [session] = sessions(database_url)
    assert session[1:10] == (1, 3, True, True, False, True, "need", "decision", 0b1011)
    assert next(iter(by_sender(database_url).values())) == [
        (1, "orientation", "moved_on", True, True),
        (1, "decision", "moved_on", True, True),
        (1, None, "closed", True, False),
    ]


def test_concurrent_turns_of_one_touchpoint_end_as_if_written_in_order(
    make_store: Callable[..., TouchpointStore], database_url: str, tmp_path: Path
) -> None:
    """Eight writers on two stores, turns interleaved in time: every turn re-derives under the row lock
    (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so no writer works from a stale session."""
    stores = [make_store(spool_dir=tmp_path / "spool-a"), make_store(spool_dir=tmp_path / "spool-b")]
    # 48 turns 3 minutes apart, with a 43-minute pause after the 24th: two sessions in the end.
    turns = [
        (k * 3 + (40 if k >= 24 else 0), PHASES[k % 8], "nlu_fallback" if k % 7 == 3 else f"i{k}",
         f"bericht {k}", "fallback" if k % 7 == 3 else "answered", "warmtepomp" if k == 30 else None)
        for k in range(48)
    ]  # fmt: skip
    start = threading.Barrier(8)

    def write(worker: int) -> None:
        start.wait()
        for turn in turns[worker::8]:
            stores[worker % 2].record_turn(record("visitor", *turn))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(8)))

    assert not stores[0].spool.pending() and not stores[1].spool.pending()
    assert len(rows(database_url, Turn)) == 48 and len(rows(database_url, Touchpoint)) == 1
    assert [row[1:3] for row in sessions(database_url)] == [(1, 24), (2, 24)]
    assert [row[1:] for row in products(database_url)] == [(2, "warmtepomp")]
    fields = turn_fields(database_url)
    assert fields == window_fields(database_url)
    steps = [fields[2] for fields in next(iter(by_sender(database_url).values()))]
    assert steps.count("left") == 2 and steps[23] == "left" and steps[47] == "left"
    assert steps.count("fell_back") == sum(1 for k in range(1, 48) if k % 7 == 3 and k != 24)


def test_erasing_a_visitor_removes_their_sessions(store: TouchpointStore, database_url: str) -> None:
    for turn, sender in itertools.product(TURNS[:3], ("visitor", "other")):
        store.record_turn(record(sender, *turn))
    store.forget("visitor")
    assert len(sessions(database_url)) == 1 and len(products(database_url)) == 1
