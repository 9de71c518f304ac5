"""The two statistics of the report, on counts the database aggregated: NPS with its interval, and a
two-proportion z-test for experiments. Both are stated in the report and in docs/ANALYTICS.md."""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054
ALPHA = 0.05


@dataclass(frozen=True)
class Nps:
    answers: int
    promoters: int
    passives: int
    detractors: int
    score: float | None  # %promoters - %detractors, -100..100
    low: float | None  # 95% interval (Wald, from the variance of the NPS)
    high: float | None
    too_few: bool  # fewer answers than the report's minimum: "te weinig antwoorden"


def nps(answers: int, promoters: int, detractors: int, min_answers: int) -> Nps:
    """NPS = 100·(P − D)/n; Var = (pP + pD − (pP − pD)²)/n; interval NPS ± 1.96·100·√Var, cut to ±100."""
    passives = answers - promoters - detractors
    if answers == 0:
        return Nps(0, 0, 0, 0, None, None, None, True)
    share_p, share_d = promoters / answers, detractors / answers
    score = 100 * (share_p - share_d)
    half = 100 * Z_95 * math.sqrt(max(share_p + share_d - (share_p - share_d) ** 2, 0.0) / answers)
    return Nps(
        answers=answers,
        promoters=promoters,
        passives=passives,
        detractors=detractors,
        score=round(score, 1),
        low=round(max(-100.0, score - half), 1),
        high=round(min(100.0, score + half), 1),
        too_few=answers < min_answers,
    )


@dataclass(frozen=True)
class ZTest:
    z: float | None
    p_value: float | None
    significant: bool


def two_proportions(successes_a: int, n_a: int, successes_b: int, n_b: int) -> ZTest:
    """Pooled two-proportion z-test, two-sided: z = (pB − pA) / √(p̂(1−p̂)(1/nA + 1/nB))."""
    if n_a == 0 or n_b == 0:
        return ZTest(None, None, False)
    pooled = (successes_a + successes_b) / (n_a + n_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if spread == 0:
        return ZTest(None, None, False)
    z = (successes_b / n_b - successes_a / n_a) / spread
    p_value = math.erfc(abs(z) / math.sqrt(2))
    return ZTest(round(z, 3), round(p_value, 4), p_value < ALPHA)
