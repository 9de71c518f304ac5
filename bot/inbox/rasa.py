"""How a channel runs its inbox inside Rasa's server: start with the server, drain before it stops.

A replayed message that had reached Rasa before (a crash after Rasa took it, before the inbox heard
back) is found in the conversation's tracker: the channels give Rasa the provider id as the user
message's ``message_id``, which the tracker keeps unmasked.
"""

from __future__ import annotations

import logging

from rasa.shared.core.events import UserUttered
from sanic import Blueprint, Sanic

from bot.inbox.store import InboxStore, Stored
from bot.inbox.worker import AlreadyHandled, Handler, InboxWorker
from bot.settings import database_url

logger = logging.getLogger(__name__)


def in_tracker(app: Sanic) -> AlreadyHandled:
    """A check whether the conversation's tracker already holds the message (False without an agent)."""

    async def handled(stored: Stored) -> bool:
        agent = getattr(app.ctx, "agent", None)  # looked up each time: a model reload replaces it
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return False
        tracker = await tracker_store.retrieve(stored.conversation_id)
        events = tracker.events if tracker is not None else []
        return any(
            isinstance(event, UserUttered) and event.message_id == stored.provider_id for event in events
        )

    return handled


def attach(blueprint: Blueprint, worker: InboxWorker, handler: Handler) -> None:
    """Start ``worker`` (replaying leftovers) once the server runs; drain it when the server stops."""

    @blueprint.listener("after_server_start")
    async def _start(app: Sanic, _: object) -> None:
        await worker.start(handler, in_tracker(app))

    @blueprint.listener("before_server_stop")
    async def _drain(app: Sanic, _: object) -> None:
        await worker.drain()


def channel_inbox(what: str, secret: str, channel: str) -> InboxWorker:
    """The inbox of `channel` in the touchpoint database (DATABASE_URL); ``secret`` seals the payloads."""
    return InboxWorker(InboxStore(database_url(), secret, channel=channel), what)
