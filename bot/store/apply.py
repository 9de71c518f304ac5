"""Applying prepared records to the tables: how turns add up to a touchpoint.

A touchpoint is keyed by (sender_key, session_started_at). Its phases_visited lists phases in the
order first seen, first_phase/last_phase follow the turns in time, and its outcome follows the
ranking below. When a sender's next session starts, an earlier touchpoint still "answered" or
"fallback" becomes "dropped": the visitor left without closing or being handed over.

Updates read the touchpoint and write it back, so the row is locked first (SELECT ... FOR
UPDATE on PostgreSQL; SQLite's write lock is taken by the store's BEGIN IMMEDIATE): two turns
of one session written at once, by two threads or two action servers, never lose an update.

Under the same lock every turn also refreshes what the analytics report reads (revision 0006), as
`derive` defines it over the touchpoint's turns in time order. A turn after all stored ones (nearly
every turn) goes to `_append`, which reads only the latest turn and its session row: as cheap at
turn 100 as at turn 1. Any other turn (late, from the spool or a slower writer) is re-derived by
`_refresh_sessions`, which renumbers the sessions as if it had come in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from bot.phases import PHASES
from bot.store.models import SESSION_GAP_MINUTES, SessionProduct, Touchpoint, TouchpointSession, Turn
from bot.store.records import StoredNps, StoredRecord, StoredTurn

# What counts as reaching a decision, an order, and a completed session (docs/ANALYTICS.md).
DECISION_INTENTS: tuple[str, ...] = ("quote_request", "visit_request")
ORDER_INTENTS: tuple[str, ...] = ("order",)
COMPLETED_OUTCOMES: tuple[str, ...] = ("completed", "handoff")
SESSION_GAP = timedelta(minutes=SESSION_GAP_MINUTES)
_PHASE_INDEX = {phase: index for index, phase in enumerate(PHASES)}
# The write-time fields of a turn, in the order `derive` returns them.
TURN_FIELDS = ("session_no", "next_phase", "next_step", "session_engaged", "went_further")
# A touchpoint_sessions row besides its key (`derive` adds "number").
SESSION_FIELDS = ("started_at", "ended_at", "turns", "engaged", "completed", "decided", "ordered",
                  "entry_phase", "last_phase", "phases")  # fmt: skip
# Where a turn's `typed` is unknown (rows from before revision 0003), a text starting with this was a button.
BUTTON_PREFIX = "/"

# A later turn's outcome replaces an earlier one of the same or lower rank: a handoff stays a handoff,
# a closed conversation stays completed, and otherwise the latest answer or fallback counts.
_OUTCOME_RANK = {"dropped": 0, "answered": 0, "fallback": 0, "completed": 1, "handoff": 2}
# Still open when the sender's next session starts: the visitor left without closing.
_OPEN_OUTCOMES = ("answered", "fallback")


def _touchpoint(session: Session, record: StoredRecord, outcome: str) -> Touchpoint:
    """The session's touchpoint, locked, created (and the sender's open earlier ones dropped) on first sight.

    Two writers creating it at once: one insert fails on the unique key and the store retries,
    finding (and locking) the other's row.
    """
    found = session.scalars(
        select(Touchpoint)
        .where(
            Touchpoint.sender_key == record.sender_key,
            Touchpoint.session_started_at == record.session_started_at,
        )
        .with_for_update()
    ).one_or_none()
    if found is not None:
        return found
    session.execute(
        update(Touchpoint)
        .where(
            Touchpoint.sender_key == record.sender_key,
            Touchpoint.session_started_at < record.session_started_at,
            Touchpoint.outcome.in_(_OPEN_OUTCOMES),
        )
        .values(outcome="dropped")
        .execution_options(synchronize_session=False)
    )
    touchpoint = Touchpoint(
        sender_key=record.sender_key,
        session_started_at=record.session_started_at,
        channel=record.channel,
        persona=record.persona,
        phases_visited=[],
        started_at=record.at,
        ended_at=record.at,
        outcome=outcome,
    )
    session.add(touchpoint)
    session.flush()
    return touchpoint


@dataclass(frozen=True)
class TurnFacts:
    """What the session derivation needs of one turn."""

    at: datetime
    phase: str | None
    intent: str
    outcome: str
    typed: bool
    product: str | None


def _typed(typed: bool | None, button: bool) -> bool:
    """Whether the visitor typed the message; `button`: its text starts with BUTTON_PREFIX."""
    return not button if typed is None else typed


def _stored_facts(row: Row) -> TurnFacts:
    """A stored turn's facts, from a row with its columns and `button` (text starts with BUTTON_PREFIX)."""
    return TurnFacts(row.at, row.phase, row.intent, row.outcome, _typed(row.typed, row.button), row.product)


def _completes(turn: TurnFacts) -> bool:
    return turn.outcome in COMPLETED_OUTCOMES or turn.intent in DECISION_INTENTS + ORDER_INTENTS


def _next_step(turn: TurnFacts, following: TurnFacts) -> str:
    if following.outcome == "fallback":
        return "fell_back"
    here, there = _PHASE_INDEX.get(turn.phase or ""), _PHASE_INDEX.get(following.phase or "")
    return "moved_on" if here is not None and there is not None and there > here else "continued"


def _next_phase(following: TurnFacts) -> str | None:
    return following.phase if following.phase in _PHASE_INDEX else None


def _last_step(row: dict[str, Any]) -> str:
    """What followed the last turn of a session: nothing, in a completed session or not."""
    return "closed" if row["completed"] else "left"


def _new_session(number: int, at: datetime) -> dict[str, Any]:
    return {"number": number, "started_at": at, "ended_at": at, "turns": 0, "engaged": False,
            "completed": False, "decided": False, "ordered": False, "entry_phase": None,
            "last_phase": None, "phases": 0}  # fmt: skip


def _add(row: dict[str, Any], turn: TurnFacts) -> None:
    """Count `turn`, the latest of its session so far, into the session's row."""
    row["turns"] += 1
    row["ended_at"] = turn.at
    row["engaged"] = row["engaged"] or turn.typed
    row["completed"] = row["completed"] or _completes(turn)
    row["decided"] = row["decided"] or turn.intent in DECISION_INTENTS
    row["ordered"] = row["ordered"] or turn.intent in ORDER_INTENTS
    if turn.phase in _PHASE_INDEX:
        row["entry_phase"] = row["entry_phase"] or turn.phase
        row["last_phase"] = turn.phase
        row["phases"] |= 1 << _PHASE_INDEX[turn.phase]


def derive(
    turns: Sequence[TurnFacts], first: int = 1, gap: timedelta = SESSION_GAP
) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]], set[tuple[int, str]]]:
    """A touchpoint's turns in time order → per turn its TURN_FIELDS, its sessions, (session, product)s.

    A pause longer than `gap` starts a session; phases outside PHASES count as no phase. The
    first turn starts session number `first` (the tail of a touchpoint, from a session's start).
    """
    numbers: list[int] = []
    for index, turn in enumerate(turns):
        new = index == 0 or turn.at - turns[index - 1].at > gap
        numbers.append((numbers[-1] if numbers else first - 1) + new)
    sessions: dict[int, dict[str, Any]] = {}
    products: set[tuple[int, str]] = set()
    for number, turn in zip(numbers, turns, strict=True):
        if number not in sessions:
            sessions[number] = _new_session(number, turn.at)
        _add(sessions[number], turn)
        if turn.product:
            products.add((number, turn.product))
    # Walking back through each session: the highest phase index seen after each turn.
    further: list[bool] = [False] * len(turns)
    highest = -1
    for index in range(len(turns) - 1, -1, -1):
        if index + 1 == len(turns) or numbers[index + 1] != numbers[index]:
            highest = -1
        here = _PHASE_INDEX.get(turns[index].phase or "")
        further[index] = here is not None and highest > here
        highest = max(highest, -1 if here is None else here)
    fields = []
    for index, (number, turn) in enumerate(zip(numbers, turns, strict=True)):
        last = index + 1 == len(turns) or numbers[index + 1] != number
        if last:
            step, next_phase = _last_step(sessions[number]), None
        else:
            step, next_phase = _next_step(turn, turns[index + 1]), _next_phase(turns[index + 1])
        fields.append((number, next_phase, step, sessions[number]["engaged"], further[index]))
    return fields, list(sessions.values()), products


# The append path runs for nearly every message, so its statements are built once, in Core, with
# bind parameters, and run on the session's connection: no per-message statement building or ORM work.
_TURNS, _SESSIONS, _PRODUCTS = Turn.__table__, TouchpointSession.__table__, SessionProduct.__table__


def _latest_turn_statement() -> Select:
    """The touchpoint's latest turn (index ix_turns_touchpoint_at) with its session row, in one query.

    Also whether that session already has the new turn's product, and whether the touchpoint has a
    turn without a session number (written outside the store), which only a re-derivation fills in.
    """
    touchpoint = bindparam("touchpoint_id")
    latest = (
        select(_TURNS.c.id, _TURNS.c.at, _TURNS.c.phase, _TURNS.c.intent, _TURNS.c.outcome, _TURNS.c.typed,
               _TURNS.c.text.startswith(BUTTON_PREFIX).label("button"), _TURNS.c.product, _TURNS.c.session_no)
        .where(_TURNS.c.touchpoint_id == touchpoint)
        .order_by(_TURNS.c.at.desc(), _TURNS.c.id.desc())
        .limit(1)  # before the joins, so that no plan joins every turn of the touchpoint first
        .subquery("latest")
    )  # fmt: skip
    unnumbered = _TURNS.alias("unnumbered")
    in_session = and_(_SESSIONS.c.touchpoint_id == touchpoint, _SESSIONS.c.number == latest.c.session_no)
    known = and_(_PRODUCTS.c.touchpoint_id == touchpoint, _PRODUCTS.c.number == latest.c.session_no,
                 _PRODUCTS.c.product == bindparam("product"))  # fmt: skip
    return (
        select(latest, *(_SESSIONS.c[name].label(f"session_{name}") for name in SESSION_FIELDS),
               _PRODUCTS.c.product.label("known_product"),
               select(unnumbered.c.id)
               .where(unnumbered.c.touchpoint_id == touchpoint, unnumbered.c.session_no.is_(None))
               .exists().label("unnumbered"))
        .select_from(latest.outerjoin(_SESSIONS, in_session).outerjoin(_PRODUCTS, known))
    )  # fmt: skip


_LATEST_TURN = _latest_turn_statement()
# A session's turns, and its row: parameters named apart from the columns, which an UPDATE reserves.
_IN_SESSION = (_TURNS.c.touchpoint_id == bindparam("key_tp"), _TURNS.c.session_no == bindparam("key_no"))
_SESSION_KEY = (_SESSIONS.c.touchpoint_id == bindparam("key_tp"), _SESSIONS.c.number == bindparam("key_no"))
_LOWER = (_TURNS.c.phase.in_(bindparam("lower", expanding=True)), _TURNS.c.went_further.is_not(True))
_SET_NEXT = _TURNS.update().where(_TURNS.c.id == bindparam("turn_id"))  # SET: the parameters' columns
_SET_ENGAGED = _TURNS.update().where(*_IN_SESSION).values(session_engaged=True)
_SET_FURTHER = _TURNS.update().where(*_IN_SESSION, *_LOWER).values(went_further=True)
_UPDATE_SESSION = _SESSIONS.update().where(*_SESSION_KEY)


def _append(session: Session, touchpoint_id: int, new: TurnFacts) -> tuple[Any, ...] | None:
    """The TURN_FIELDS of a turn later than every stored turn of its touchpoint, as `derive` would give.

    Such a turn changes only its own session: the session row, the latest turn's next step, and
    session_engaged / went_further of the session's turns; those are written here, without reading
    the session's turns. None, with nothing written: not a plain append, for `_refresh_sessions`.
    """
    connection = session.connection()
    latest = connection.execute(
        _LATEST_TURN, {"touchpoint_id": touchpoint_id, "product": new.product}
    ).first()
    if latest is None:
        number, stored = 1, None
    elif (latest.at >= new.at  # late, or at the same moment (derive orders those by id)
          or latest.session_no is None or latest.session_turns is None or latest.unnumbered):  # fmt: skip
        return None
    elif new.at - latest.at > SESSION_GAP:
        number, stored = latest.session_no + 1, None  # the latest turn's session is left as it was
    else:
        number = latest.session_no
        stored = {"number": number, **{name: latest._mapping[f"session_{name}"] for name in SESSION_FIELDS}}
    row = _new_session(number, new.at) if stored is None else dict(stored)
    _add(row, new)
    key = {"key_tp": touchpoint_id, "key_no": number}
    if stored is None:
        connection.execute(_SESSIONS.insert(), {"touchpoint_id": touchpoint_id, **row})
    else:
        _extend_session(connection, key, latest, new, stored)
        connection.execute(_UPDATE_SESSION, {**key, **{name: row[name] for name in SESSION_FIELDS}})
    if new.product and (stored is None or latest.known_product is None):
        connection.execute(_PRODUCTS.insert(), {"touchpoint_id": touchpoint_id, "number": number,
                                                "product": new.product})  # fmt: skip
    return number, None, _last_step(row), row["engaged"], False


def _extend_session(connection: Connection, key: dict[str, int], latest: Row, new: TurnFacts,
                    before: dict[str, Any]) -> None:  # fmt: skip
    """Update the earlier turns of the session `new` joins (`key`; `before`: its row without `new`)."""
    step = {"next_phase": _next_phase(new), "next_step": _next_step(_stored_facts(latest), new)}
    connection.execute(_SET_NEXT, {"turn_id": latest.id, **step})
    if new.typed and not before["engaged"]:  # session_engaged is stored on every turn of the session
        connection.execute(_SET_ENGAGED, key)
    # went_further is false where no later turn of the session has a higher phase, so those turns,
    # read in time order, never rise in phase and the lowest is the session's last phase: only a
    # phase above that one changes anything (for turns from there up to below the new phase).
    here, last = _PHASE_INDEX.get(new.phase or ""), _PHASE_INDEX.get(before["last_phase"] or "")
    if here is not None and last is not None and last < here:
        lower = [PHASES[index] for index in range(last, here) if before["phases"] >> index & 1]
        connection.execute(_SET_FURTHER, {**key, "lower": lower})


def _refresh_sessions(session: Session, turn: Turn) -> None:
    """Re-derive the touchpoint's sessions from the one the new turn falls in; write what changed.

    Earlier sessions cannot change: the new turn comes after the start of the session of the turn
    just before it. So a late turn reads the sessions from its own on (appends go to `_append`).
    """
    before = (
        select(Turn.session_no)
        .where(
            Turn.touchpoint_id == turn.touchpoint_id,
            or_(Turn.at < turn.at, and_(Turn.at == turn.at, Turn.id < turn.id)),
        )
        .order_by(Turn.at.desc(), Turn.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Turn.id, Turn.at, Turn.phase, Turn.intent, Turn.outcome, Turn.typed,
               Turn.text.startswith(BUTTON_PREFIX).label("button"), Turn.product,
               *(getattr(Turn, name) for name in TURN_FIELDS))
        .where(Turn.touchpoint_id == turn.touchpoint_id,
               or_(Turn.session_no >= func.coalesce(before, 1), Turn.session_no.is_(None)))
        .order_by(Turn.at, Turn.id)
    ).all()  # fmt: skip
    first = min((row.session_no for row in rows if row.session_no is not None), default=1)
    fields, sessions, products = derive([_stored_facts(row) for row in rows], first)
    changed = [
        {"turn_id": row.id, **dict(zip(TURN_FIELDS, new, strict=True))}
        for row, new in zip(rows, fields, strict=True)
        if tuple(row[-len(TURN_FIELDS) :]) != new
    ]
    if changed:
        table = Turn.__table__
        session.execute(
            table.update()
            .where(table.c.id == bindparam("turn_id"))
            .values({name: bindparam(name) for name in TURN_FIELDS}),
            changed,
        )
    others = [(row, new[0]) for row, new in zip(rows, fields, strict=True) if row.id != turn.id]
    if any(row.session_no != number for row, number in others):
        _rewrite_sessions(session, turn.touchpoint_id, first, sessions, products)
        return
    # Nothing renumbered: only the new turn's session changed (and maybe gained a product).
    number = next(new[0] for row, new in zip(rows, fields, strict=True) if row.id == turn.id)
    [values] = [row for row in sessions if row["number"] == number]
    key = {"touchpoint_id": turn.touchpoint_id, "number": number}
    if any(n == number for _, n in others):
        session.execute(
            update(TouchpointSession)
            .where(TouchpointSession.touchpoint_id == turn.touchpoint_id, TouchpointSession.number == number)
            .values(values)
        )
    else:
        session.execute(insert(TouchpointSession).values({**key, **values}))
    if turn.product and not any(n == number and row.product == turn.product for row, n in others):
        session.execute(insert(SessionProduct).values({**key, "product": turn.product}))


def _rewrite_sessions(session: Session, touchpoint_id: int, first: int, sessions: list[dict[str, Any]],
                      products: set[tuple[int, str]]) -> None:  # fmt: skip
    """Replace the touchpoint's sessions from number `first` on (after a late turn renumbered them)."""
    for model in (TouchpointSession, SessionProduct):
        session.execute(delete(model).where(model.touchpoint_id == touchpoint_id, model.number >= first))
    session.execute(insert(TouchpointSession), [{"touchpoint_id": touchpoint_id, **row} for row in sessions])
    if products:
        session.execute(
            insert(SessionProduct),
            [{"touchpoint_id": touchpoint_id, "number": n, "product": p} for n, p in sorted(products)],
        )


def apply_turn(session: Session, record: StoredTurn) -> None:
    """Add the turn and update its touchpoint; a turn already stored (same record id) is skipped."""
    if session.scalar(select(Turn.id).where(Turn.record_id == record.record_id)) is not None:
        return  # flushed from the spool before
    touchpoint = _touchpoint(session, record, record.outcome)
    if record.phase:
        if record.phase not in touchpoint.phases_visited:
            touchpoint.phases_visited = [*touchpoint.phases_visited, record.phase]
        touchpoint.first_phase = touchpoint.first_phase or record.phase
        if record.at >= touchpoint.ended_at:
            touchpoint.last_phase = record.phase
    if record.persona:
        touchpoint.persona = record.persona
    if _OUTCOME_RANK[record.outcome] >= _OUTCOME_RANK[touchpoint.outcome]:
        touchpoint.outcome = record.outcome
    touchpoint.started_at = min(touchpoint.started_at, record.at)
    touchpoint.ended_at = max(touchpoint.ended_at, record.at)
    typed = _typed(record.typed, record.text.startswith(BUTTON_PREFIX))
    facts = TurnFacts(record.at, record.phase, record.intent, record.outcome, typed, record.product)
    fields = _append(session, touchpoint.id, facts)
    turn = Turn(
        record_id=record.record_id,
        touchpoint_id=touchpoint.id,
        at=record.at,
        phase=record.phase,
        intent=record.intent,
        confidence=record.confidence,
        content_id=record.content_id,
        text=record.text,
        outcome=record.outcome,
        product=record.product,
        typed=record.typed,
        experiment=record.experiment,
        arm=record.arm,
        **({} if fields is None else dict(zip(TURN_FIELDS, fields, strict=True))),
    )
    session.add(turn)
    session.flush()
    if fields is None:
        _refresh_sessions(session, turn)


def apply_nps(session: Session, record: StoredNps) -> None:
    """Put the answer on the session's touchpoint; applying it twice changes nothing."""
    # NPS is asked after the visitor closed the conversation, so a touchpoint made here is completed.
    touchpoint = _touchpoint(session, record, "completed")
    touchpoint.nps_score = record.score
    touchpoint.nps_reason = record.reason
    touchpoint.nps_at = record.at
    touchpoint.nps_phase = record.phase
    if record.persona:
        touchpoint.persona = record.persona
    touchpoint.ended_at = max(touchpoint.ended_at, record.at)
