"""The callback form's end (`action_handoff_submit`): store the request and its outbox rows, confirm."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from functools import partial

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.handoff.common import channel, handoff_store, record, reset_events, say, sealer, section
from actions.runtime import session_started_at
from bot.handoff import context, form
from bot.handoff.hours import describe
from bot.handoff.store import NewRequest
from bot.handoff.worker import wake_workers
from bot.settings import handoff_delivery

logger = logging.getLogger(__name__)

# Storing a request waits this long (off the event loop); longer, and the visitor gets the number.
STORE_TIMEOUT_SECONDS = 5.0


class ActionHandoffSubmit(Action):
    """Store the request with its outbox rows (delivered by bot.handoff.worker) and confirm the moment."""

    def name(self) -> str:
        return "action_handoff_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        name = sealer().open(tracker.get_slot("handoff_name"))
        phone = sealer().open(tracker.get_slot("handoff_phone"))
        if tracker.get_slot("handoff_consent") is not True or not name or not phone:
            return reset_events()  # stopped, refused or given up: already answered, nothing stored
        now = datetime.now(timezone.utc)
        handoff = section()
        moment = tracker.get_slot("handoff_moment")
        slot = context.chosen_slot(handoff, moment, now)
        try:
            delivery = handoff_delivery()
            create = partial(
                handoff_store().create,
                NewRequest(
                    sender_id=tracker.sender_id,
                    session_started_at=session_started_at(tracker),
                    channel=channel(tracker),
                    phase=tracker.get_slot("journey_phase"),
                    persona=tracker.get_slot("persona"),
                    product=tracker.get_slot("product"),
                    reason=tracker.get_slot("handoff_reason"),
                    moment=moment,
                    callback_from=slot.start if slot else None,
                    callback_until=slot.end if slot else None,
                    name=name,
                    phone=phone,
                    at=now,
                ),
                delivery.targets,
            )
            loop = asyncio.get_running_loop()
            await asyncio.wait_for(loop.run_in_executor(None, create), STORE_TIMEOUT_SECONDS)
        except (SQLAlchemyError, ValueError, asyncio.TimeoutError) as error:
            logger.error(
                "callback request not stored (%s); the visitor is given the phone number",
                type(error).__name__,
            )
            say(dispatcher, tracker, "failed")
            await record(tracker, None, "answered", "handoff/failed")
            return reset_events()
        wake_workers()
        say(
            dispatcher,
            tracker,
            "confirmed",
            name=name,
            phone_end=form.phone_end(phone),
            when=describe(slot, now) if slot else context.ASAP,
        )
        await record(tracker, None, "handoff", "handoff/confirmed")
        return reset_events()
