"""Garbage collection that leaves the loaded model alone, so no message waits for a sweep of it.

A Rasa server holds about half a million objects once Rasa, TensorFlow and the model are loaded,
and the action server tens of thousands. None of them is ever garbage, yet CPython's full
collection walks every one: 100-170 ms here, landing on whichever message happens to trigger it
(the p99 of the benchmark). `gc.freeze()` after start-up moves them to a permanent generation
that collections skip; what messages create is still collected as before.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

T = TypeVar("T")


def freeze_loaded() -> int:
    """Collect once, then exempt everything alive now from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def frozen_after(start: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """`start` (an async start-up step, such as loading the model), then freeze what it loaded."""

    @wraps(start)
    async def started(*args: Any, **kwargs: Any) -> T:
        result = await start(*args, **kwargs)
        freeze_loaded()
        return result

    return started
