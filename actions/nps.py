"""The NPS form (`nps_form`): ask for a 0-10 score, read it as people type it, ask why, store, thank.

The domain's from_text mappings hand every answer to the form whatever NLU made of it ("8" may
come in as give_score, out_of_scope or nlu_fallback); the parsing happens here, in bot.nps.

The form does not eat other messages: a question or request while it asks (see `interrupts`) is
rejected back to Rasa and answered by the normal reply action; Rasa then returns to the form,
which asks once more. A second interruption ends the form (a score already given is kept).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import content, record_message, record_nps, session_started_at
from bot.channels import channel_of
from bot.content import ContentError
from bot.content.model import GENERAL_INTENTS
from bot.content.select import Situation
from bot.nps import category, declines_to_score, split_score_and_reason
from bot.store.records import MAX_REASON_CHARS

logger = logging.getLogger(__name__)

# Unreadable answers before the form stops asking: one retry, then a polite goodbye.
MAX_ATTEMPTS = 2
NO_REASON = frozenset(
    {"nee", "geen", "skip", "nee hoor", "nee dank je", "nee bedankt", "geen reden", "niks", "niets", "nvt"}
)
FORM = "nps_form"
CLOSING_INTENTS = frozenset({"thanks", "goodbye"})
FALLBACK_INTENT = "nlu_fallback"
# The form leaves for a question at most this many times and comes back after each; one more ends it.
MAX_INTERRUPTIONS = 1


def _say(dispatcher: CollectingDispatcher, tracker: Tracker, key: str) -> None:
    """Utter a journey-content message in the visitor's situation (persona, channel, ...), with its buttons."""
    counts = tracker.get_slot("reply_counts")
    situation = Situation(
        phase=tracker.get_slot("journey_phase"),
        product=tracker.get_slot("product"),
        persona=tracker.get_slot("persona"),
        address=tracker.get_slot("address"),
        channel=channel_of(tracker.get_latest_input_channel()),
    )
    seen = int(counts.get(f"general/{key}", 0)) if isinstance(counts, dict) else 0
    try:
        reply = content().current().message(key, situation, seen=seen)
    except ContentError:
        logger.exception("journey content could not be loaded")
        dispatcher.utter_message(text=content().error_text())
        return
    buttons = [{"title": button.title, "payload": button.payload} for button in reply.buttons]
    dispatcher.utter_message(text=reply.text, buttons=buttons)


def _attempts(tracker: Tracker) -> int:
    return int(tracker.get_slot("nps_attempts") or 0)


def _no_reason(text: str) -> bool:
    return not text or re.sub(r"[^\w ]+", "", text.lower()).strip() in NO_REASON


def interrupts(intent: str, text: str, asked: str) -> bool:
    """A question or request rather than an answer to the question the form asked.

    A score in the message is always an answer, and so is declining to give one. Without one: a request for a person, a topic with a
    phase while the score is asked ("Hoe meld ik dat aan?"), or a question mark. A topic during
    the reason question is usually the reason itself ("de monteur was te laat"), so it is kept.
    """
    if asked == "nps_score" and split_score_and_reason(text)[0] is not None:
        return False
    if asked == "nps_score" and "?" not in text and declines_to_score(text):
        return False  # "Ik ben nog geen klant, dat kan ik niet beoordelen" answers: no score
    if intent == "request_human":
        return True
    if asked == "nps_score" and intent not in GENERAL_INTENTS and intent != FALLBACK_INTENT:
        return True
    return "?" in text and intent not in CLOSING_INTENTS


def _since_form_started(tracker: Tracker) -> list[dict[str, Any]]:
    starts = [i for i, event in enumerate(tracker.events) if event.get("event") == "active_loop"]
    started = next((i for i in reversed(starts) if tracker.events[i].get("name") == FORM), 0)
    return tracker.events[started:]


def _interruptions(tracker: Tracker) -> int:
    """How often this run of the form has left for a question already."""
    return sum(
        1
        for event in _since_form_started(tracker)
        if event.get("event") == "action_execution_rejected" and event.get("name") == FORM
    )


def _fresh_answer(tracker: Tracker) -> bool:
    """The form runs straight after the visitor's message (not on its way back from a reply)."""
    last_user = max((i for i, event in enumerate(tracker.events) if event.get("event") == "user"), default=-1)
    return not any(
        event.get("event") == "action" and event.get("name") not in (FORM, "action_listen")
        for event in tracker.events[last_user + 1 :]
    )


def _normal_reply(intent: str) -> str:
    return "action_journey_fallback" if intent == FALLBACK_INTENT else "action_journey_reply"


class ValidateNpsForm(FormValidationAction):
    def name(self) -> str:
        return "validate_nps_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Guard the start, let questions out, and record each answer once."""
        asked = tracker.get_slot("requested_slot")
        intent = str((tracker.latest_message.get("intent") or {}).get("name") or FALLBACK_INTENT)
        if asked is None:
            # Only a closing message after which action_journey_close found the question due opens
            # the form; any other prediction of it (a policy's guess) closes it again unsaid.
            if intent in CLOSING_INTENTS and tracker.get_slot("nps_due"):
                return await super().run(dispatcher, tracker, domain)
            return [SlotSet("requested_slot", None), ActiveLoop(None)]
        if asked not in ("nps_score", "nps_reason") or not _fresh_answer(tracker):
            return await super().run(dispatcher, tracker, domain)
        text = str(tracker.latest_message.get("text") or "")
        if interrupts(intent, text, asked):
            return await self._leave(dispatcher, tracker, asked, intent)
        question = "nps_question" if asked == "nps_score" else "nps_reason_question"
        await record_message(
            tracker,
            persona=tracker.get_slot("persona"),
            phase=tracker.get_slot("journey_phase"),
            content_id=f"general/{question}",
            outcome="answered",
            at=datetime.now(timezone.utc),
        )
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    async def _leave(
        dispatcher: CollectingDispatcher, tracker: Tracker, asked: str, intent: str
    ) -> list[EventType]:
        """The normal reply answers (and records) the message; the form comes back once, then ends."""
        undo: list[EventType] = [SlotSet(asked, None)]  # from_text put the question in the slot
        if intent == "request_human":
            # A person was asked for: the callback form (or a colleague, actions/handoff/live.py)
            # takes over, so the form ends here, keeping a score already given.
            score = tracker.get_slot("nps_score") if asked == "nps_reason" else None
            return [
                *(await submit(dispatcher, tracker, score, None)),
                SlotSet("requested_slot", None),
                ActionExecutionRejected(FORM),
                ActiveLoop(None),
                FollowupAction("handoff_form"),
            ]
        if _interruptions(tracker) < MAX_INTERRUPTIONS:
            return [*undo, ActionExecutionRejected(FORM), FollowupAction(_normal_reply(intent))]
        # Rejected too, so Rasa's rules see this message as a plain question once the form is gone.
        score = tracker.get_slot("nps_score") if asked == "nps_reason" else None
        return [
            *(await submit(dispatcher, tracker, score, None)),
            SlotSet("requested_slot", None),
            ActionExecutionRejected(FORM),
            ActiveLoop(None),
            FollowupAction(_normal_reply(intent)),
        ]

    def validate_nps_score(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A score (with its reason, if given in the same answer); else count the failed attempt.

        The first unreadable answer is asked again (action_ask_nps_score then says nps_retry); the
        second, or a refusal to score, ends the form politely, with nps_score still empty so the submit stores nothing.
        """
        score, reason = split_score_and_reason("" if slot_value is None else str(slot_value))
        if score is not None:
            values: dict[str, Any] = {"nps_score": score}
            if reason:
                values["nps_reason"] = reason[:MAX_REASON_CHARS]
            return values
        text = "" if slot_value is None else str(slot_value)
        attempts = MAX_ATTEMPTS if declines_to_score(text) else _attempts(tracker) + 1
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


async def submit(
    dispatcher: CollectingDispatcher, tracker: Tracker, score: Any, reason: str | None
) -> list[EventType]:
    """Store a score and thank by category; always clear the form's slots so it can run again later."""
    reset: list[EventType] = [
        SlotSet("nps_due", False),
        SlotSet("nps_score", None),
        SlotSet("nps_reason", None),
        SlotSet("nps_attempts", 0),
    ]
    if score is None:
        return reset  # the visitor gave no readable score; nps_give_up was said already, or a question
    score = int(score)
    await record_nps(
        tracker.sender_id,
        session_started_at(tracker),
        score,
        reason,
        phase=tracker.get_slot("journey_phase"),
        channel=channel_of(tracker.get_latest_input_channel()),
        persona=tracker.get_slot("persona"),
        at=datetime.now(timezone.utc),
    )
    _say(dispatcher, tracker, f"nps_thanks_{category(score)}")
    if category(score) == "detractor":
        # The thanks offers a call: a "ja" now opens the callback form (data/handoff.yml).
        return [*reset, SlotSet("handoff_offered", True)]
    return reset


class ActionNpsSubmit(Action):
    """Store the answer and thank by category once the form is done."""

    def name(self) -> str:
        return "action_nps_submit"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await submit(
            dispatcher, tracker, tracker.get_slot("nps_score"), tracker.get_slot("nps_reason")
        )
