"""Test-and-learn results: per arm (bot/analytics/arms.py), the share of sessions that moved on to
a later phase after first seeing it, and whether the best arm beats the runner-up (docs/ANALYTICS.md).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.analytics.model import Arm, Experiment, share
from bot.analytics.stats import ALPHA, two_proportions


def experiment_results(connection: Connection, turns: str, sessions: str) -> list[Experiment]:
    """Per experiment and arm: engaged sessions exposed (the first exposure counts) and how many of
    them reached a later phase than the exposure's after it."""
    rows = connection.execute(
        text(
            "WITH e AS (SELECT t.sk, t.id, t.ep, t.pidx, t.experiment, t.arm, ROW_NUMBER() OVER"
            " (PARTITION BY t.sk, t.experiment ORDER BY t.at, t.id) AS exposure"
            f" FROM {turns} t JOIN {sessions} s ON s.sk = t.sk"
            " WHERE s.engaged = 1 AND t.experiment IS NOT NULL AND t.arm IS NOT NULL)"
            " SELECT experiment, arm, COUNT(*) AS n, SUM(moved) AS moved FROM ("
            " SELECT e.sk, e.experiment, e.arm, MAX(CASE WHEN l.pidx > e.pidx"
            " AND (l.ep > e.ep OR (l.ep = e.ep AND l.id > e.id)) THEN 1 ELSE 0 END) AS moved"
            f" FROM e JOIN {turns} l ON l.sk = e.sk WHERE e.exposure = 1 GROUP BY e.sk, e.experiment, e.arm) m"
            " GROUP BY experiment, arm ORDER BY experiment, arm"
        )
    ).all()
    grouped: dict[str, list[tuple[str, int, int]]] = {}
    for row in rows:
        grouped.setdefault(str(row.experiment), []).append((str(row.arm), int(row.n), int(row.moved)))
    return [_experiment(name, arms) for name, arms in grouped.items()]


def _experiment(name: str, counts: list[tuple[str, int, int]]) -> Experiment:
    control = counts[0]
    arms = [
        Arm(
            arm=arm,
            sessions=n,
            moved_on=moved,
            rate=share(moved, n),
            versus_a=None if index == 0 else two_proportions(control[2], control[1], moved, n),
        )
        for index, (arm, n, moved) in enumerate(counts)
    ]
    if len(arms) < 2:
        return Experiment(name, arms, None, f"alleen arm {arms[0].arm} gezien: nog niets te vergelijken")
    ranked = sorted(arms, key=lambda a: (-(a.moved_on / a.sessions), a.arm))
    best, second = ranked[0], ranked[1]
    test = two_proportions(second.moved_on, second.sessions, best.moved_on, best.sessions)
    if test.significant:
        verdict = (
            f"arm {best.arm} wint: {best.rate}% tegen {second.rate}% voor arm {second.arm} "
            f"(p = {test.p_value}, significant bij {ALPHA})"
        )
    else:
        verdict = (
            f"nog geen winnaar: arm {best.arm} {best.rate}% tegen arm {second.arm} {second.rate}% "
            f"(p = {test.p_value if test.p_value is not None else '-'}, niet significant bij {ALPHA})"
        )
    return Experiment(name, arms, test, verdict)
