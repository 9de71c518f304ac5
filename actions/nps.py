"""The NPS form (`nps_form`): ask for a 0-10 score, read it as people type it, ask why, store, thank.

The domain's from_text mappings hand every answer to the form whatever NLU made of it ("8" may
come in as give_score, out_of_scope or nlu_fallback); the parsing happens here, in bot.nps.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.journey import LAST_RESORT
from actions.runtime import content, record_message, session_started_at, store
from bot.channels import channel_of
from bot.content import ContentError
from bot.nps import category, split_score_and_reason
from bot.store.records import MAX_REASON_CHARS

logger = logging.getLogger(__name__)

# Unreadable answers before the form stops asking: one retry, then a polite goodbye.
MAX_ATTEMPTS = 2
NO_REASON = frozenset(
    {"nee", "geen", "skip", "nee hoor", "nee dank je", "nee bedankt", "geen reden", "niks", "niets", "nvt"}
)


def _say(dispatcher: CollectingDispatcher, tracker: Tracker, key: str) -> None:
    """Utter a journey-content message in the visitor's persona and channel, with its buttons."""
    try:
        reply = (
            content()
            .current()
            .message(
                key,
                persona=tracker.get_slot("persona"),
                channel=channel_of(tracker.get_latest_input_channel()),
                turn=sum(1 for event in tracker.events if event.get("event") == "user"),
            )
        )
    except ContentError:
        logger.exception("journey content could not be loaded")
        dispatcher.utter_message(text=LAST_RESORT)
        return
    buttons = [{"title": button.title, "payload": button.payload} for button in reply.buttons]
    dispatcher.utter_message(text=reply.text, buttons=buttons)


def _attempts(tracker: Tracker) -> int:
    return int(tracker.get_slot("nps_attempts") or 0)


def _no_reason(text: str) -> bool:
    return not text or re.sub(r"[^\w ]+", "", text.lower()).strip() in NO_REASON


class ValidateNpsForm(FormValidationAction):
    def name(self) -> str:
        return "validate_nps_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Record the answer once per message: only while the form is already asking a question."""
        asked = tracker.get_slot("requested_slot")
        if asked in ("nps_score", "nps_reason"):
            question = "nps_question" if asked == "nps_score" else "nps_reason_question"
            record_message(
                tracker,
                persona=tracker.get_slot("persona"),
                phase=tracker.get_slot("journey_phase"),
                content_id=f"general/{question}",
                outcome="answered",
                at=datetime.now(timezone.utc),
            )
        return await super().run(dispatcher, tracker, domain)

    def validate_nps_score(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A score (with its reason, if given in the same answer); else count the failed attempt.

        The first unreadable answer is asked again (action_ask_nps_score then says nps_retry); the
        second ends the form politely, with nps_score still empty so the submit stores nothing.
        """
        score, reason = split_score_and_reason("" if slot_value is None else str(slot_value))
        if score is not None:
            values: dict[str, Any] = {"nps_score": score}
            if reason:
                values["nps_reason"] = reason[:MAX_REASON_CHARS]
            return values
        attempts = _attempts(tracker) + 1
        if attempts < MAX_ATTEMPTS:
            return {"nps_score": None, "nps_attempts": attempts}
        _say(dispatcher, tracker, "nps_give_up")
        return {"nps_score": None, "nps_attempts": attempts, "requested_slot": None}

    def validate_nps_reason(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The reason as typed (capped); "nee", "geen" or "skip" ends the form without one."""
        text = "" if slot_value is None else str(slot_value).strip()
        if _no_reason(text):
            return {"nps_reason": None, "requested_slot": None}
        return {"nps_reason": text[:MAX_REASON_CHARS]}


class ActionAskNpsScore(Action):
    def name(self) -> str:
        return "action_ask_nps_score"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _say(dispatcher, tracker, "nps_retry" if _attempts(tracker) else "nps_question")
        return []


class ActionAskNpsReason(Action):
    def name(self) -> str:
        return "action_ask_nps_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _say(dispatcher, tracker, "nps_reason_question")
        return []


class ActionNpsSubmit(Action):
    """Store the answer and thank by category; clear the form's slots so it can run again later."""

    def name(self) -> str:
        return "action_nps_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet("nps_due", False),
            SlotSet("nps_score", None),
            SlotSet("nps_reason", None),
            SlotSet("nps_attempts", 0),
        ]
        score = tracker.get_slot("nps_score")
        if score is None:
            return reset  # the visitor gave no readable score; nps_give_up was said already
        score = int(score)
        store().record_nps(
            tracker.sender_id,
            session_started_at(tracker),
            score,
            tracker.get_slot("nps_reason"),
            phase=tracker.get_slot("journey_phase"),
            channel=channel_of(tracker.get_latest_input_channel()),
            persona=tracker.get_slot("persona"),
            at=datetime.now(timezone.utc),
        )
        _say(dispatcher, tracker, f"nps_thanks_{category(score)}")
        return reset
