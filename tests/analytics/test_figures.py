"""Every figure of the report against values computed by hand from tests/analytics/dataset.py.

Runs on a SQLite file and on a fresh PostgreSQL database (the store's fixtures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bot.analytics.model import Filters, Report
from bot.analytics.service import make_report
from bot.store import TouchpointStore
from bot.store.database import make_engine
from tests.analytics.dataset import JOURNEYS, load

MakeReport = Callable[..., Report]


@pytest.fixture
def report(store: TouchpointStore, database_url: str) -> Iterator[MakeReport]:
    load(store)
    engine = make_engine(database_url)

    def make(**filters: Any) -> Report:
        return make_report(engine, Filters(**filters), JOURNEYS)

    yield make
    engine.dispose()


def test_overview(report: MakeReport) -> None:
    # Sessions S1, S2, S3, S4a, S4b, S5, S6, S7; S3 only had the automatic /greet.
    o = report().overview
    assert (o.sessions, o.engaged, o.not_engaged, o.turns) == (8, 7, 1, 20)
    # Completed: S1 (quote), S4b (goodbye), S5 (thanks), S7 (handoff); dropped: S2, S4a, S6.
    assert (o.completed, o.dropped, o.decided, o.ordered) == (4, 3, 1, 0)
    assert (o.dropped_share, o.decision_share, o.order_share) == (42.9, 14.3, 0.0)


def test_a_pause_longer_than_the_gap_splits_a_session(report: MakeReport) -> None:
    # With a 60-minute gap S4's 50-minute pause no longer splits it: 7 sessions, S4 completed.
    o = report(gap_minutes=60).overview
    assert (o.sessions, o.engaged, o.dropped) == (7, 6, 2)


def test_funnel_and_step_conversion(report: MakeReport) -> None:
    steps = {s.phase: s for s in report().funnel}
    reached = {phase: step.sessions for phase, step in steps.items()}
    assert reached == {"need": 2, "orientation": 4, "consideration": 2, "decision": 1, "purchase": 0,
                       "delivery": 0, "use": 2, "aftercare": 2}  # fmt: skip
    assert steps["orientation"].share == 57.1  # 4 of 7 engaged
    # need→orientation: S1, S2 of 2; orientation→consideration: S1, S4b of 4; use→aftercare: S7 of 2.
    conversion = {phase: (s.to_next, s.step_conversion) for phase, s in steps.items()}
    assert conversion["need"] == (2, 100.0)
    assert conversion["orientation"] == (2, 50.0)
    assert conversion["consideration"] == (1, 50.0)
    assert conversion["decision"] == (0, 0.0)
    assert conversion["purchase"] == (0, None)
    assert conversion["use"] == (1, 50.0)
    assert conversion["aftercare"] == (None, None)
    assert [s.label for s in report().funnel][:2] == ["Behoefte", "Oriëntatie"]


def test_entry_phases_and_transitions(report: MakeReport) -> None:
    result = report()
    assert {e.phase: e.sessions for e in result.entry} == {
        "need": 2,
        "orientation": 2,
        "use": 2,
        "aftercare": 1,
    }
    moves = {(t.source, t.target): t.sessions for t in result.transitions}
    assert moves == {("need", "orientation"): 2, ("orientation", "consideration"): 2,
                     ("consideration", "decision"): 1, ("use", "aftercare"): 1}  # fmt: skip


def test_dropoff_per_phase(report: MakeReport) -> None:
    rows = {d.phase: (d.reached, d.ended_here, d.dropped, d.rate) for d in report().dropoff}
    assert rows == {
        "need": (2, 0, 0, 0.0),
        "orientation": (4, 2, 2, 50.0),  # S2 and S4a left in orientation
        "consideration": (2, 1, 0, 0.0),
        "decision": (1, 1, 0, 0.0),
        "use": (2, 1, 1, 50.0),  # S6
        "aftercare": (2, 2, 0, 0.0),
    }


def test_drop_off_per_reply(report: MakeReport) -> None:
    replies = {r.content_id: (r.shown, r.continued, r.moved_on, r.fell_back, r.left, r.closed)
               for r in report().replies}  # fmt: skip
    c = "consumer"
    assert replies[f"{c}/need/energy_costs/default#1"] == (2, 0, 1, 1, 0, 0)  # S1 moved on, S2 not understood
    assert replies[f"{c}/orientation/savings/default#2"] == (2, 0, 1, 0, 1, 0)  # S4b on, S2 left
    assert replies["general/fallback/default#1"] == (2, 0, 1, 0, 1, 0)  # S2 on, S6 left
    assert replies[f"{c}/orientation/how_it_works/default#1"] == (1, 0, 0, 0, 1, 0)  # S4a left
    assert replies[f"{c}/aftercare/maintenance/default#1"] == (1, 1, 0, 0, 0, 0)
    assert replies[f"{c}/decision/quote_request/default#1"] == (1, 0, 0, 0, 0, 1)
    assert replies["general/greet/default#1"] == (1, 1, 0, 0, 0, 0)  # S3 is not engaged, so only S1
    ranked = report().replies
    assert ranked[0].content_id == f"{c}/orientation/how_it_works/default#1" and ranked[0].left_rate == 100.0
    assert all(r.too_few for r in ranked)  # each shown fewer than 5 times


def test_nps_per_phase_channel_persona_product_and_week(report: MakeReport) -> None:
    result = report(min_answers=2)
    # Answers: S5 9 (aftercare, sms, senior, warmtepomp), S6 3 (use, web, homeowner, thuisbatterij),
    # S7 7 (aftercare, whatsapp, homeowner, thuisbatterij).
    overall = result.nps_overall
    assert overall is not None
    assert (overall.answers, overall.promoters, overall.passives, overall.detractors) == (3, 1, 1, 1)
    # NPS 0; Var = (1/3 + 1/3 − 0)/3 = 0.2222; ±1.96·√Var·100 = ±92.4
    assert (overall.score, overall.low, overall.high) == (0.0, -92.4, 92.4)
    phase = {row.key: row.nps for row in result.nps["phase"]}
    # aftercare: 9 and 7 → +50; Var = (0.5 + 0 − 0.25)/2 = 0.125 → ±69.3, cut at +100
    assert (phase["aftercare"].score, phase["aftercare"].low, phase["aftercare"].high) == (50.0, -19.3, 100.0)
    assert (phase["use"].score, phase["use"].low, phase["use"].high, phase["use"].too_few) == (
        -100.0, -100.0, -100.0, True)  # fmt: skip
    assert not phase["aftercare"].too_few
    assert [row.label for row in result.nps["phase"]] == ["Gebruik", "Nazorg"]
    assert {r.key: r.nps.score for r in result.nps["channel"]} == {
        "sms": 100.0,
        "web": -100.0,
        "whatsapp": 0.0,
    }
    persona = {r.key: r.nps for r in result.nps["persona"]}
    assert (persona["homeowner"].score, persona["homeowner"].low, persona["homeowner"].high) == (
        -50.0,
        -100.0,
        19.3,
    )
    assert persona["senior"].answers == 1 and persona["senior"].too_few
    assert {r.key: (r.nps.answers, r.nps.score) for r in result.nps["product"]} == {
        "thuisbatterij": (2, -50.0), "warmtepomp": (1, 100.0)}  # fmt: skip
    assert {r.key: (r.nps.answers, r.nps.score) for r in result.nps["week"]} == {
        "2025-03-03": (2, 0.0), "2025-03-10": (1, 0.0)}  # fmt: skip
    assert report().nps_overall.too_few  # type: ignore[union-attr]  # default minimum 30


def test_content_gaps_grouped_and_masked(report: MakeReport) -> None:
    gaps = report().gaps
    # Two fallbacks about charging points (one group, two wordings), one low-confidence question.
    assert [(g.count, g.wordings) for g in gaps] == [(2, 2), (1, 1)]
    assert "laadpa" in gaps[0].example.lower()
    assert gaps[1].example == "wat kost dat, mail me op [e-mail]"


def test_mix_over_time(report: MakeReport) -> None:
    mix = report().mix
    assert {(r.week, r.key): r.sessions for r in mix["channel"]} == {
        ("2025-03-03", "web"): 4, ("2025-03-03", "whatsapp"): 1, ("2025-03-03", "sms"): 1,
        ("2025-03-10", "whatsapp"): 1}  # fmt: skip
    assert {(r.week, r.key): r.sessions for r in mix["persona"]} == {
        ("2025-03-03", "homeowner"): 2, ("2025-03-03", "(onbekend)"): 1, ("2025-03-03", "tenant"): 2,
        ("2025-03-03", "senior"): 1, ("2025-03-10", "homeowner"): 1}  # fmt: skip
    assert {(r.week, r.key): r.sessions for r in mix["product"]} == {
        ("2025-03-03", "zonnepanelen"): 1, ("2025-03-03", "warmtepomp"): 1, ("2025-03-03", "thuisbatterij"): 1,
        ("2025-03-10", "thuisbatterij"): 1}  # fmt: skip


def test_experiment_arms_and_test(report: MakeReport) -> None:
    [experiment] = report().experiments
    arms = {a.arm: (a.sessions, a.moved_on, a.rate) for a in experiment.arms}
    # A: S1 moved on after seeing it; B: S4b moved on, S2 left.
    assert arms == {"A": (1, 1, 100.0), "B": (2, 1, 50.0)}
    # pooled p = 2/3; z = (0.5 − 1)/√(2/3 · 1/3 · (1 + 1/2)) = −0.866; p = erfc(0.866/√2) = 0.3865
    versus = experiment.arms[1].versus_a
    assert versus is not None and versus.z == pytest.approx(-0.866, abs=1e-3)
    assert versus.p_value == pytest.approx(0.3865, abs=1e-3) and not versus.significant
    assert experiment.verdict.startswith("nog geen winnaar")


def test_filters(report: MakeReport) -> None:
    from datetime import datetime, timezone

    assert report(channel="web").overview.sessions == 5  # S1, S3, S4a, S4b, S6
    assert report(persona="homeowner").overview.sessions == 3
    assert report(product="thuisbatterij").overview.sessions == 2
    assert report(journey="consumer").overview.engaged == 7
    until = datetime(2025, 3, 10, tzinfo=timezone.utc)
    limited = report(until=until)
    assert limited.overview.sessions == 7 and limited.period == "van 2025-03-03 t/m 2025-03-09"
    assert report(since=until).overview.sessions == 1
    empty = report(journey="business")  # a known journey without conversations: empty, valid
    assert empty.overview.sessions == 0 and empty.notes
