"""Test-and-learn results: per arm (bot/analytics/arms.py), the share of sessions that moved on to
a later phase after first seeing it, and whether the best arm beats the runner-up (docs/ANALYTICS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Row

from bot.analytics.model import Arm, Experiment, share
from bot.analytics.stats import ALPHA, two_proportions


def experiment_results(rows: Sequence[Row[Any]]) -> list[Experiment]:
    """Per experiment, its arms from the rows of `sql.experiments` (experiment, arm, n, moved)."""
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
