"""A small fixed data set, written through the real store, whose every figure is computed by hand.

Seven visitors (S1..S7), eight sessions (S4's touchpoint has a 50-minute pause, so two sessions);
the expected figures are derived in the comments next to the tests (test_figures.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.store import TouchpointStore, TurnRecord

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone.utc)  # a Monday
JOURNEYS = ("business", "consumer")
C = "consumer"

# sender: (session start, channel, persona, [(minute, phase, intent, content_id, text, outcome, product,
# experiment arm, confidence)]), nps (score, phase) or None
SESSIONS = {
    "S1": (T0, "web", "homeowner", [
        (0, None, "greet", "general/greet/default#1", "/greet", "answered", None, None, 1.0),
        (1, "need", "energy_costs", f"{C}/need/energy_costs/default#1", "mijn rekening is hoog", "answered",
         None, None, 0.9),
        (2, "orientation", "savings", f"{C}/orientation/savings/default#1", "wat bespaar ik", "answered",
         "zonnepanelen", "A", 0.9),
        (3, "consideration", "price", f"{C}/consideration/price/default#1",
         "wat kost dat, mail me op jan@example.nl", "answered", "zonnepanelen", None, 0.3),
        (4, "decision", "quote_request", f"{C}/decision/quote_request/default#1", "ik wil een offerte",
         "answered", "zonnepanelen", None, 0.9),
    ], None),
    "S2": (T0 + timedelta(hours=1), "whatsapp", None, [
        (0, "need", "energy_costs", f"{C}/need/energy_costs/default#1", "hoge rekening", "answered", None, None, 0.9),
        (1, "need", "nlu_fallback", "general/fallback/default#1", "kunnen jullie een laadpaal plaatsen",
         "fallback", None, None, 0.2),
        (2, "orientation", "savings", f"{C}/orientation/savings/default#2", "en besparen?", "answered", None,
         "B", 0.9),
    ], None),
    "S3": (T0 + timedelta(hours=2), "web", None, [
        (0, None, "greet", "general/greet/default#1", "/greet", "answered", None, None, 1.0),
    ], None),
    "S4": (T0 + timedelta(hours=3), "web", "tenant", [
        (0, "orientation", "how_it_works", f"{C}/orientation/how_it_works/default#1", "hoe werkt het",
         "answered", None, None, 0.9),
        (50, "orientation", "savings", f"{C}/orientation/savings/default#2", "wat levert het op", "answered",
         None, "B", 0.9),
        (51, "consideration", "subsidy", f"{C}/consideration/subsidy/default#1", "subsidie?", "answered",
         None, None, 0.9),
        (52, "consideration", "goodbye", "general/goodbye/default#1", "doei", "completed", None, None, 0.9),
    ], None),
    "S5": (T0 + timedelta(hours=5), "sms", "senior", [
        (0, "aftercare", "malfunction", f"{C}/aftercare/malfunction/default#1", "storing", "answered",
         "warmtepomp", None, 0.9),
        (1, "aftercare", "thanks", "general/thanks/default#1", "dank je", "completed", "warmtepomp", None, 0.9),
    ], (9, "aftercare")),
    "S6": (T0 + timedelta(hours=6), "web", "homeowner", [
        (0, "use", "app_monitoring", f"{C}/use/app_monitoring/default#1", "app doet raar", "answered",
         "thuisbatterij", None, 0.9),
        (1, "use", "nlu_fallback", "general/fallback/default#1", "Kunnen jullie ook laadpalen plaatsen?",
         "fallback", "thuisbatterij", None, 0.2),
    ], (3, "use")),
    "S7": (T0 + timedelta(days=7), "whatsapp", "homeowner", [
        (0, "use", "settings", f"{C}/use/settings/default#1", "instellingen", "answered", "thuisbatterij",
         None, 0.9),
        (1, "aftercare", "maintenance", f"{C}/aftercare/maintenance/default#1", "onderhoud", "answered",
         "thuisbatterij", None, 0.9),
        (2, "aftercare", "request_human", "general/request_human/default#1", "mens graag", "handoff",
         "thuisbatterij", None, 0.9),
    ], (7, "aftercare")),
}  # fmt: skip


def load(store: TouchpointStore, sessions: dict = SESSIONS) -> None:
    for sender, (start, channel, persona, turns, answer) in sessions.items():
        for minute, phase, intent, content_id, text, outcome, product, arm, confidence in turns:
            store.record_turn(
                TurnRecord(
                    sender_id=sender,
                    session_started_at=start,
                    channel=channel,
                    persona=persona,
                    phase=phase,
                    intent=intent,
                    confidence=confidence,
                    content_id=content_id,
                    text=text,
                    outcome=outcome,
                    at=start + timedelta(minutes=minute),
                    product=product,
                    typed=not text.startswith("/"),
                    experiment="intro" if arm else None,
                    arm=arm,
                )
            )
        if answer is not None:
            score, phase = answer
            last = start + timedelta(minutes=turns[-1][0] + 1)
            store.record_nps(sender, start, score, "reden", phase, channel, persona, last)
