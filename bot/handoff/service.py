"""Starts the outbox worker with the action server and stops it with it (bot.actionserver calls attach)."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from sanic import Sanic

from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore
from bot.handoff.worker import DeliveryWorker
from bot.settings import SettingsError, database_url, handoff_delivery, handoff_key, load_env

logger = logging.getLogger(__name__)


def build_worker() -> DeliveryWorker:
    """From the environment; SettingsError names a bad setting."""
    load_env()
    settings = handoff_delivery()
    store = HandoffStore(database_url(), os.environ.get("PSEUDONYM_KEY", ""), Sealer(handoff_key()))
    return DeliveryWorker(store, settings)


def attach(app: Sanic) -> None:
    running: dict[str, DeliveryWorker] = {}

    async def start(_app: Any, _loop: Any) -> None:
        try:
            worker = build_worker()
        except (SettingsError, ValueError) as error:
            logger.error("callback requests are stored but not delivered: %s", error)
            return
        worker.start()
        running["worker"] = worker
        logger.info(
            "handoff delivery worker started (targets: %s)", ", ".join(worker.settings.targets) or "none"
        )

    async def stop(_app: Any, _loop: Any) -> None:
        worker = running.pop("worker", None)
        if worker is not None:
            await asyncio.to_thread(worker.stop)
            worker.store.close()

    app.register_listener(start, "after_server_start")
    app.register_listener(stop, "before_server_stop")
