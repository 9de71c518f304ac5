"""Percentiles and summaries of measured latencies: plain Python, so the report writer can be tested."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between the closest ranks; None for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be from 0 to 100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Summary:
    """Latencies in milliseconds of the answered messages; errors are the rest."""

    count: int
    errors: int
    seconds: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    msg_per_s: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def summarise(latencies_s: Sequence[float], errors: int = 0, seconds: float | None = None) -> Summary:
    """p50/p95/p99/max in ms; messages per second = answered messages / `seconds` of wall time."""
    ms = [value * 1000 for value in latencies_s]

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    rate = len(ms) / seconds if seconds and seconds > 0 else None
    return Summary(
        count=len(ms),
        errors=errors,
        seconds=round(seconds or 0.0, 2),
        p50_ms=rounded(percentile(ms, 50)),
        p95_ms=rounded(percentile(ms, 95)),
        p99_ms=rounded(percentile(ms, 99)),
        max_ms=rounded(max(ms) if ms else None),
        msg_per_s=rounded(rate),
    )


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, two decimals; None when either is missing or theirs is zero."""
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 2)
