"""`journey demo-data`: realistic synthetic sessions for demos and the benchmark, marked synthetic.

Visitors enter at a phase, move on or stay, sometimes are not understood, some leave, some ask for
a quote, order or a person, service visitors answer NPS; one experiment (orientation/savings) has
an arm B that moves more visitors on. Refused on a database with real conversations unless forced.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Connection, Engine

from bot.phases import PHASES
from bot.store.apply import TURN_FIELDS, TurnFacts, derive
from bot.store.models import SessionProduct, Touchpoint, TouchpointSession, Turn

BATCH = 5000
DAYS = 56
INTENTS: dict[str, tuple[str, ...]] = {
    "need": ("energy_costs", "sustainability", "life_event"),
    "orientation": ("how_it_works", "savings", "suitability"),
    "consideration": ("compare", "price", "subsidy", "company"),
    "decision": ("quote_request", "visit_request", "financing", "quote_question"),
    "purchase": ("order", "payment", "change_order"),
    "delivery": ("planning", "preparation", "delay"),
    "use": ("app_monitoring", "settings", "performance"),
    "aftercare": ("malfunction", "maintenance", "complaint", "referral"),
}
ENTRY = {"need": 30, "orientation": 30, "consideration": 15, "decision": 5, "purchase": 3,
         "delivery": 5, "use": 6, "aftercare": 6}  # fmt: skip
CHANNELS = {"web": 60, "whatsapp": 30, "sms": 10}
PERSONAS = {None: 40, "homeowner": 25, "tenant": 8, "senior": 7, "mkb_owner": 10, "vve_board": 6,
            "facility_manager": 4}  # fmt: skip
BUSINESS = frozenset({"mkb_owner", "vve_board", "facility_manager"})
PRODUCTS = {None: 30, "zonnepanelen": 40, "thuisbatterij": 15, "warmtepomp": 15}
UNANSWERED = (
    "kunnen jullie ook een laadpaal plaatsen",
    "plaatsen jullie ook laadpalen?",
    "laadpaal installeren kan dat",
    "doen jullie ook dakisolatie",
    "isoleren jullie ook het dak?",
    "wat is jullie kvk nummer",
    "hebben jullie vacatures",
    "zijn er vacatures voor monteurs",
    "asdfgh",
)
TYPED = ("Hoeveel kan ik besparen?", "Wat kost dat ongeveer?", "Hoe werkt dat precies?", "Ok, en dan?")
EXPERIMENT = ("orientation", "savings", "demo-savings-intro")
# Chance per turn to move on to the next phase; the experiment's arm B moves visitors on more.
MOVE_ON = 0.28
ARM_B_MOVE_ON = 0.45


class DemoRefused(RuntimeError):
    """The database holds real conversations; demo data would mix with them."""


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _session(rng: random.Random, number: int, start: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    persona = _pick(rng, PERSONAS)
    journey = "business" if persona in BUSINESS else "consumer"
    product = _pick(rng, PRODUCTS)
    channel = _pick(rng, CHANNELS)
    sender = f"demo-{number:09d}"
    arm = "B" if number % 2 else "A"
    at = start
    turns: list[dict[str, Any]] = []

    def add(
        phase: str | None, intent: str, content: str | None, said: str, outcome: str, **extra: Any
    ) -> None:
        nonlocal at
        turns.append(
            {"record_id": str(uuid.uuid4()), "at": at, "phase": phase, "intent": intent,
             "confidence": round(rng.uniform(0.55, 0.99), 2), "content_id": content, "text": said,
             "outcome": outcome, "product": product, "typed": not said.startswith("/"), "experiment": None,
             "arm": None, **extra}
        )  # fmt: skip
        gap = 2400 if rng.random() < 0.03 else rng.randint(15, 240)  # now and then a pause of 40 minutes
        at += timedelta(seconds=gap)

    if channel == "web":
        add(None, "greet", "general/greet/default#1", "/greet", "answered")
        if rng.random() < 0.15:
            return _touchpoint(sender, start, channel, persona, turns), turns  # opened, nothing typed
    phase = _pick(rng, ENTRY)
    for _ in range(rng.randint(1, 12)):
        intent = rng.choice(INTENTS[phase])
        exposure = (phase, intent) == EXPERIMENT[:2]
        content = f"{journey}/{phase}/{intent}/default#{1 + (arm == 'B') if exposure else rng.randint(1, 2)}"
        extra = {"experiment": EXPERIMENT[2], "arm": arm} if exposure else {}
        if rng.random() < 0.08:
            add(phase, "nlu_fallback", "general/fallback/default#1", rng.choice(UNANSWERED), "fallback")
            continue
        said = rng.choice(TYPED) if rng.random() < 0.8 else f"/{intent}"
        add(phase, intent, content, said, "answered", **extra)
        if intent in ("quote_request", "visit_request", "order") and rng.random() < 0.6:
            break
        if rng.random() < 0.05:
            add(phase, "request_human", "general/request_human/default#1", "Ik wil iemand spreken", "handoff")
            break
        if rng.random() < 0.12:
            add(phase, "goodbye", "general/goodbye/default#1", "Bedankt, dag!", "completed")
            break
        chance = ARM_B_MOVE_ON if exposure and arm == "B" else MOVE_ON
        if rng.random() < chance and PHASES.index(phase) < len(PHASES) - 1:
            phase = PHASES[PHASES.index(phase) + 1]
    row = _touchpoint(sender, start, channel, persona, turns)
    if turns[-1]["phase"] in ("delivery", "use", "aftercare") and rng.random() < 0.5:
        score = min(10, max(0, int(rng.gauss(8.1, 1.9))))
        row.update(nps_score=score, nps_at=turns[-1]["at"], nps_phase=turns[-1]["phase"])
    return row, turns


def _touchpoint(sender: str, start: datetime, channel: str, persona: str | None,
                turns: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    phases = [t["phase"] for t in turns if t["phase"]]
    outcome = next(
        (t["outcome"] for t in reversed(turns) if t["outcome"] in ("handoff", "completed")), "dropped"
    )
    return {
        "sender_key": sender, "session_started_at": start, "channel": channel, "persona": persona,
        "first_phase": phases[0] if phases else None, "last_phase": phases[-1] if phases else None,
        "phases_visited": list(dict.fromkeys(phases)), "started_at": start, "ended_at": turns[-1]["at"],
        "outcome": outcome, "synthetic": True, "nps_score": None, "nps_at": None, "nps_phase": None,
    }  # fmt: skip


def sessions(
    count: int, seed: int, now: datetime, first_number: int = 0
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """`first_number` numbers the demo senders, so a second run adds new visitors."""
    rng = random.Random(seed)
    first = now - timedelta(days=DAYS)
    for number in range(count):
        start = first + timedelta(seconds=rng.uniform(0, DAYS * 86400 - 4 * 3600))
        yield _session(rng, first_number + number, start.replace(microsecond=0))


def _real_conversations(connection: Connection) -> int:
    query = select(func.count()).select_from(Touchpoint).where(Touchpoint.synthetic.is_(False))
    return int(connection.execute(query).scalar_one())


def _advance_sequences(connection: Connection) -> None:
    """Explicit ids leave PostgreSQL's sequences behind; the store's next insert must not collide."""
    if connection.dialect.name == "postgresql":
        for table in ("touchpoints", "turns"):
            connection.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            )


def generate(engine: Engine, count: int, *, seed: int = 7, force: bool = False) -> dict[str, int]:
    """Insert `count` synthetic sessions in batches; returns how many touchpoints and turns."""
    now = datetime.now(timezone.utc)
    totals = {"touchpoints": 0, "turns": 0}
    with engine.begin() as connection:
        real = _real_conversations(connection)
        if real and not force:
            raise DemoRefused(
                f"the database holds {real} real conversations; demo data would mix with them "
                "(use --force to add it anyway, or point DATABASE_URL at an empty database)"
            )
        next_tp = int(connection.execute(select(func.coalesce(func.max(Touchpoint.id), 0))).scalar_one()) + 1
        batch: dict[Any, list[dict[str, Any]]] = {model: [] for model in _MODELS}
        for touchpoint, turns in sessions(count, seed, now, first_number=next_tp):
            touchpoint["id"] = next_tp
            batch[Touchpoint].append(touchpoint)
            _add_session_fields(next_tp, turns, batch)
            next_tp += 1
            if len(batch[Turn]) >= BATCH:
                _flush(connection, batch, totals)
        _flush(connection, batch, totals)
        _advance_sequences(connection)
    return totals


# In insertion order: the sessions and products refer to their touchpoint.
_MODELS = (Touchpoint, Turn, TouchpointSession, SessionProduct)


def _add_session_fields(touchpoint_id: int, turns: list[dict[str, Any]],
                        batch: dict[Any, list[dict[str, Any]]]) -> None:  # fmt: skip
    """The write-time session fields, as the store derives them (the turns are in time order)."""
    facts = [
        TurnFacts(t["at"], t["phase"], t["intent"], t["outcome"], t["typed"], t["product"]) for t in turns
    ]
    fields, session_rows, products = derive(facts)
    batch[Turn] += [
        {**turn, **dict(zip(TURN_FIELDS, values, strict=True)), "touchpoint_id": touchpoint_id}
        for turn, values in zip(turns, fields, strict=True)
    ]
    batch[TouchpointSession] += [{**row, "touchpoint_id": touchpoint_id} for row in session_rows]
    batch[SessionProduct] += [
        {"touchpoint_id": touchpoint_id, "number": number, "product": product} for number, product in products
    ]


def _flush(connection: Connection, batch: dict[Any, list[dict[str, Any]]], totals: dict[str, int]) -> None:
    for model in _MODELS:
        if batch[model]:
            connection.execute(insert(model), batch[model])
    totals["touchpoints"] += len(batch[Touchpoint])
    totals["turns"] += len(batch[Turn])
    for rows in batch.values():
        rows.clear()
