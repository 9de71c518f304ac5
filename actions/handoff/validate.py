"""The callback form's validation (`validate_handoff_form`): reads each answer, stops, retries.

Opened by "Bel mij terug" (/request_human), "ik wil een medewerker spreken" and a detractor's tap
on the NPS offer. Every answer reaches the form through from_text mappings and is read here by
bot.handoff.form. "Laat maar" (the content's stop phrases) ends it at any point; an answer that is
not a name, number, moment or yes/no is asked again at most twice. Nothing is stored until the
visitor consents. Within office hours, with Chatwoot configured, a request for a person is handed
to a colleague live instead (actions.handoff.live); the form then does not run.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import live
from actions.handoff.common import (
    SLOTS,
    known_phone,
    record,
    reset_events,
    say,
    sealer,
    section,
    where,
)
from actions.runtime import content
from bot.content import ContentError
from bot.handoff import context, form

logger = logging.getLogger(__name__)


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> str:
        return "validate_handoff_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """At the start: fill in the reason already known. Later: stop phrases end it, answers are read."""
        asked = tracker.get_slot("requested_slot")
        if asked is None and not self._offered_or_asked(tracker):
            return await self._plain_yes(dispatcher, tracker)
        if asked is None:
            try:
                book = content().current()
                section()
            except (ContentError, LookupError):
                logger.exception("handoff content missing: the callback form cannot run")
                say(dispatcher, tracker, "gave_up")
                return [SlotSet("requested_slot", None)]
            handed_over = await live.try_start(dispatcher, tracker)
            if handed_over is not None:
                return handed_over
            events = reset_events()
            reason = context.topic_reason(tracker.events, book, tracker.get_slot("persona"))
            if reason:
                events.append(SlotSet("handoff_reason", reason))
            return events
        text = str((tracker.latest_message or {}).get("text") or "")
        if asked in SLOTS and asked != "handoff_consent":  # the consent answer is recorded with its outcome
            await record(tracker, asked, "answered", f"handoff/{asked}")
        if asked != "handoff_consent" and form.is_stop(text, section().stop_phrases):
            say(dispatcher, tracker, "stopped")
            return [*reset_events(), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    @staticmethod
    def _offered_or_asked(tracker: Tracker) -> bool:
        """A request for a person, or a "ja" straight after the detractor's offer of a call.

        handoff_offered stays set until the form runs, so a "ja" to a later question (the rule
        only sees the slot) must not open the form: the offer has to be the bot's last turn.
        """
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent != "affirm":
            return True
        last_user = max((i for i, e in enumerate(tracker.events) if e.get("event") == "user"), default=0)
        actions = [
            e.get("name")
            for e in tracker.events[:last_user]
            if e.get("event") == "action" and e.get("name") != "action_listen"
        ]
        return bool(actions) and actions[-1] == "action_nps_submit"

    @staticmethod
    async def _plain_yes(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """A stale offer: answer the "ja" as the journey does and leave the form closed."""
        try:
            book = content().current()
            reply = book.message("affirm", where(book, tracker))
            dispatcher.utter_message(
                text=reply.text, buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons]
            )
        except ContentError:
            dispatcher.utter_message(text=content().error_text())
        await record(tracker, None, "answered", "general/affirm")
        return [SlotSet("handoff_offered", False), SlotSet("requested_slot", None)]

    def _retry(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> dict[str, Any]:
        """Ask again (the ask action says the retry text), or give up after MAX_RETRIES."""
        retries = int(tracker.get_slot("handoff_retries") or 0) + 1
        if retries <= form.MAX_RETRIES:
            return {slot: None, "handoff_retries": retries}
        say(dispatcher, tracker, "gave_up")
        return {**{name: None for name in SLOTS}, "handoff_retries": 0, "requested_slot": None}

    def validate_handoff_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = form.read_name(str(slot_value or ""))
        if name is None:
            return self._retry(dispatcher, tracker, "handoff_name")
        return {"handoff_name": sealer().seal(name), "handoff_retries": 0}

    def validate_handoff_phone(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(slot_value or "")
        typed = form.read_phone(text)
        known = known_phone(tracker)
        if typed is None and known and not tracker.get_slot("handoff_phone_typed"):
            answer = form.read_yes_no(text)
            if answer is True:
                return {"handoff_phone": sealer().seal(known), "handoff_retries": 0}
            if answer is False:
                return {"handoff_phone": None, "handoff_phone_typed": True}
        if typed is None:
            return self._retry(dispatcher, tracker, "handoff_phone")
        return {"handoff_phone": sealer().seal(typed), "handoff_retries": 0}

    def validate_handoff_moment(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        moments = [(m.id, m.title, m.words) for m in section().moments]
        chosen = form.read_moment(str(slot_value or ""), moments)
        if chosen is None:
            return self._retry(dispatcher, tracker, "handoff_moment")
        return {"handoff_moment": chosen, "handoff_retries": 0}

    def validate_handoff_reason(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reason = form.read_reason(str(slot_value or ""))
        if reason is None:
            return self._retry(dispatcher, tracker, "handoff_reason")
        return {"handoff_reason": reason, "handoff_retries": 0}

    async def validate_handoff_consent(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(slot_value or "")
        answer = form.read_yes_no(text)
        if answer is None and form.is_stop(text, section().stop_phrases):
            answer = False
        if answer is not True:
            await record(tracker, "handoff_consent", "answered", "handoff/handoff_consent")
        if answer is None:
            return self._retry(dispatcher, tracker, "handoff_consent")
        if answer is False:
            say(dispatcher, tracker, "consent_refused")
            return {**{name: None for name in SLOTS}, "handoff_retries": 0, "requested_slot": None}
        return {"handoff_consent": True, "handoff_retries": 0}
