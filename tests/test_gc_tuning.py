"""Start-up objects are exempted from garbage collection once loaded; later garbage is still collected."""

from __future__ import annotations

import asyncio
import gc
import weakref

from bot.gc_tuning import frozen_after


class Thing:
    pass


def test_what_start_up_loaded_is_frozen_and_new_garbage_still_collected() -> None:
    gc.unfreeze()
    before = gc.get_freeze_count()
    kept: list[list[Thing]] = []

    async def load_model() -> str:
        kept.append([Thing() for _ in range(5000)])
        return "agent"

    try:
        assert asyncio.run(frozen_after(load_model)()) == "agent"
        assert gc.get_freeze_count() >= before + 5000
        cycle: list[object] = []
        cycle.append(cycle)
        probe = Thing()
        cycle.append(probe)
        alive = weakref.ref(probe)
        del cycle, probe
        gc.collect()
        assert alive() is None, "a cycle made after start-up is still collected"
    finally:
        gc.unfreeze()
