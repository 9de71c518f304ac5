"""The report as data: every renderer (text, JSON, CSV, HTML) reads these, none computes a figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.analytics.stats import Nps, ZTest
from bot.phases import DUTCH_LABELS
from bot.store.models import SESSION_GAP_MINUTES


class ReportError(ValueError):
    """Bad input for the report (a date, a filter value): the message says what is valid."""


def phase_label(phase: str | None) -> str:
    if phase is None:
        return "(geen fase)"
    return DUTCH_LABELS.get(phase, phase)


def share(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    channel: str | None = None
    persona: str | None = None
    journey: str | None = None
    product: str | None = None
    gap_minutes: int = SESSION_GAP_MINUTES
    min_answers: int = 30


@dataclass(frozen=True)
class Overview:
    sessions: int
    engaged: int
    not_engaged: int
    turns: int
    dropped: int
    completed: int
    decided: int
    ordered: int
    decision_share: float | None
    order_share: float | None
    dropped_share: float | None


@dataclass(frozen=True)
class PhaseCount:
    phase: str
    label: str
    sessions: int
    share: float | None  # of engaged sessions


@dataclass(frozen=True)
class FunnelStep:
    phase: str
    label: str
    sessions: int
    share: float | None  # of engaged sessions
    to_next: int | None  # also reached the next phase (None for the last phase)
    step_conversion: float | None


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    sessions: int  # moves from source to target (turn pairs)


@dataclass(frozen=True)
class Dropoff:
    phase: str
    label: str
    reached: int
    ended_here: int
    dropped: int
    rate: float | None  # dropped / reached


@dataclass(frozen=True)
class ReplyStat:
    content_id: str
    shown: int
    continued: int
    moved_on: int
    fell_back: int
    left: int
    closed: int
    left_rate: float | None
    too_few: bool


@dataclass(frozen=True)
class NpsRow:
    key: str
    label: str
    nps: Nps


@dataclass(frozen=True)
class Gap:
    example: str
    count: int
    wordings: int  # distinct messages grouped here


@dataclass(frozen=True)
class MixRow:
    week: str
    key: str
    sessions: int


@dataclass(frozen=True)
class Arm:
    arm: str
    sessions: int
    moved_on: int
    rate: float | None
    versus_a: ZTest | None  # None for arm A itself


@dataclass(frozen=True)
class Experiment:
    experiment: str
    arms: list[Arm]
    best_vs_second: ZTest | None
    verdict: str


@dataclass
class Report:
    generated_at: str
    period: str
    filters: dict[str, str]
    gap_minutes: int
    min_answers: int
    synthetic: bool
    overview: Overview
    funnel: list[FunnelStep] = field(default_factory=list)
    entry: list[PhaseCount] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    dropoff: list[Dropoff] = field(default_factory=list)
    replies: list[ReplyStat] = field(default_factory=list)
    nps: dict[str, list[NpsRow]] = field(default_factory=dict)
    nps_overall: Nps | None = None
    gaps: list[Gap] = field(default_factory=list)
    mix: dict[str, list[MixRow]] = field(default_factory=dict)
    experiments: list[Experiment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
