"""How much the benchmark does: the full sizes of issue 14, or small ones with BENCH_QUICK=1."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    quick: bool
    closed_seconds: float  # each closed-loop level runs this long
    concurrency: tuple[int, ...]
    conversation_length: int  # closed loop: a client starts a new conversation after this many messages
    open_rate: float  # open loop: messages per second, arriving at random (Poisson)
    open_seconds: float
    open_conversations: int
    growth_conversations: int
    growth_length: int
    growth_marks: tuple[int, ...]
    reload_repeats: int
    profile_seconds: float
    train_project: bool  # time `rasa train` of this project from scratch
    evaluate: bool  # blind-set phase accuracy via scripts/evaluate.py


FULL = Sizes(
    quick=False,
    closed_seconds=30,
    concurrency=(1, 10, 50),
    conversation_length=8,
    open_rate=10,
    open_seconds=60,
    open_conversations=200,
    growth_conversations=10,
    growth_length=100,
    growth_marks=(1, 20, 50, 100),
    reload_repeats=5,
    profile_seconds=30,
    train_project=True,
    evaluate=True,
)

QUICK = Sizes(
    quick=True,
    closed_seconds=4,
    concurrency=(1, 10, 50),
    conversation_length=8,
    open_rate=10,
    open_seconds=8,
    open_conversations=40,
    growth_conversations=2,
    growth_length=20,
    growth_marks=(1, 20),
    reload_repeats=1,
    profile_seconds=6,
    train_project=False,
    evaluate=False,
)


def sizes_from_env(env: dict[str, str] | None = None) -> Sizes:
    """BENCH_QUICK=1 shrinks every count; BENCH_TRAIN=1 / BENCH_EVAL=1 put training / accuracy back."""
    env = dict(os.environ) if env is None else env
    if env.get("BENCH_QUICK", "") not in ("1", "true", "yes"):
        return FULL
    return Sizes(
        **{
            **QUICK.__dict__,
            "train_project": env.get("BENCH_TRAIN") == "1",
            "evaluate": env.get("BENCH_EVAL") == "1",
        }
    )
