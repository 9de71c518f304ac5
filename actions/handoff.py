"""The callback form (`handoff_form`): name, phone number, moment, reason, consent; then store and confirm.

Opened by "Bel mij terug" (/request_human), "ik wil een medewerker spreken" and a detractor's tap
on the NPS offer. Every answer reaches the form through from_text mappings and is read here by
bot.handoff.form. "Laat maar" (the content's stop phrases) ends it at any point; an answer that is
not a name, number, moment or yes/no is asked again at most twice. Nothing is stored until the
visitor consents. Name and number are sealed in the slots (see bot.handoff.seal).
"""

from __future__ import annotations

import asyncio
import logging
import os
from abc import ABC, abstractmethod
from datetime import datetime, timezone
from functools import cache, partial
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.runtime import content, message_id, session_started_at, store, write
from bot.channels import channel_of
from bot.content import ContentError, JourneyBook
from bot.content.handoff import HandoffSection
from bot.content.select import Button
from bot.handoff import context, form, texts
from bot.handoff.hours import describe
from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore, NewRequest
from bot.handoff.worker import wake_workers
from bot.settings import database_url, handoff_delivery, handoff_key, load_env
from bot.store.records import TurnRecord

logger = logging.getLogger(__name__)

FORM = "handoff_form"
SLOTS = ("handoff_name", "handoff_phone", "handoff_moment", "handoff_reason", "handoff_consent")
# What a form answer is stored as in the touchpoint turns: the name and number are not kept there.
_TURN_TEXT = {"handoff_name": "[naam]", "handoff_phone": "[telefoon]"}
# Storing a request waits this long (off the event loop); longer, and the visitor gets the number.
STORE_TIMEOUT_SECONDS = 5.0


@cache
def sealer() -> Sealer:
    load_env()
    return Sealer(handoff_key())


@cache
def handoff_store() -> HandoffStore:
    load_env()
    return HandoffStore(database_url(), os.environ.get("PSEUDONYM_KEY", ""), sealer())


def reset() -> None:
    """Drop the cached store and key, so tests can point the next call elsewhere."""
    if handoff_store.cache_info().currsize:
        handoff_store().close()
    handoff_store.cache_clear()
    sealer.cache_clear()


def _channel(tracker: Tracker) -> str:
    return channel_of(tracker.get_latest_input_channel())


def _where(book: JourneyBook, tracker: Tracker) -> Any:
    return texts.situation(
        book,
        phase=tracker.get_slot("journey_phase"),
        persona=tracker.get_slot("persona"),
        address=tracker.get_slot("address"),
        channel=_channel(tracker),
        product=tracker.get_slot("product"),
    )


def _say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    key: str,
    buttons: tuple[Button, ...] | None = None,
    **values: str,
) -> None:
    try:
        book = content().current()
        reply = texts.render(book, _where(book, tracker), key, buttons=buttons, **values)
    except (ContentError, LookupError):
        logger.exception("handoff content could not be loaded")
        dispatcher.utter_message(text=content().error_text())
        return
    dispatcher.utter_message(
        text=reply.text, buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons]
    )


def _section() -> HandoffSection:
    found = texts.section(content().current())
    if found is None:
        raise LookupError("journeys/common.yml has no handoff section")
    return found


def known_phone(tracker: Tracker) -> str | None:
    return context.known_phone(_channel(tracker), (tracker.latest_message or {}).get("metadata"))


async def _record(tracker: Tracker, asked: str | None, outcome: str, content_id: str) -> None:
    """The answer as a touchpoint turn (off the event loop); a name or number is stored as a placeholder."""
    latest = tracker.latest_message or {}
    text = str(latest.get("text") or "")
    current = await asyncio.get_running_loop().run_in_executor(None, store)
    turn = current.prepare_turn(
        TurnRecord(
            sender_id=tracker.sender_id,
            session_started_at=session_started_at(tracker),
            channel=_channel(tracker),
            persona=tracker.get_slot("persona"),
            phase=tracker.get_slot("journey_phase"),
            intent=str((latest.get("intent") or {}).get("name") or "nlu_fallback"),
            confidence=(latest.get("intent") or {}).get("confidence"),
            content_id=content_id,
            text=_TURN_TEXT.get(asked or "", text),
            outcome=outcome,
            at=datetime.now(timezone.utc),
            typed=not text.startswith("/"),
        ),
        message_id(tracker),
    )
    await write(turn)


def reset_events() -> list[EventType]:
    return [SlotSet(name, None) for name in SLOTS] + [
        SlotSet("handoff_retries", 0),
        SlotSet("handoff_phone_typed", False),
        SlotSet("handoff_offered", False),
    ]


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
                _section()
            except (ContentError, LookupError):
                logger.exception("handoff content missing: the callback form cannot run")
                _say(dispatcher, tracker, "gave_up")
                return [SlotSet("requested_slot", None)]
            events = reset_events()
            reason = context.topic_reason(tracker.events, book, tracker.get_slot("persona"))
            if reason:
                events.append(SlotSet("handoff_reason", reason))
            return events
        text = str((tracker.latest_message or {}).get("text") or "")
        if asked in SLOTS and asked != "handoff_consent":  # the consent answer is recorded with its outcome
            await _record(tracker, asked, "answered", f"handoff/{asked}")
        if asked != "handoff_consent" and form.is_stop(text, _section().stop_phrases):
            _say(dispatcher, tracker, "stopped")
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
            reply = book.message("affirm", _where(book, tracker))
            dispatcher.utter_message(
                text=reply.text, buttons=[{"title": b.title, "payload": b.payload} for b in reply.buttons]
            )
        except ContentError:
            dispatcher.utter_message(text=content().error_text())
        await _record(tracker, None, "answered", "general/affirm")
        return [SlotSet("handoff_offered", False), SlotSet("requested_slot", None)]

    def _retry(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> dict[str, Any]:
        """Ask again (the ask action says the retry text), or give up after MAX_RETRIES."""
        retries = int(tracker.get_slot("handoff_retries") or 0) + 1
        if retries <= form.MAX_RETRIES:
            return {slot: None, "handoff_retries": retries}
        _say(dispatcher, tracker, "gave_up")
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
        moments = [(m.id, m.title, m.words) for m in _section().moments]
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
        if answer is None and form.is_stop(text, _section().stop_phrases):
            answer = False
        if answer is not True:
            await _record(tracker, "handoff_consent", "answered", "handoff/handoff_consent")
        if answer is None:
            return self._retry(dispatcher, tracker, "handoff_consent")
        if answer is False:
            _say(dispatcher, tracker, "consent_refused")
            return {**{name: None for name in SLOTS}, "handoff_retries": 0, "requested_slot": None}
        return {"handoff_consent": True, "handoff_retries": 0}


class _AskAction(Action, ABC):
    """Abstract, so rasa_sdk's package scan registers only the concrete ask actions."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    @abstractmethod
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]: ...

    def retrying(self, tracker: Tracker) -> bool:
        return bool(tracker.get_slot("handoff_retries"))


class ActionAskHandoffName(_AskAction):
    slot = "handoff_name"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _say(dispatcher, tracker, "name_retry" if self.retrying(tracker) else "ask_name")
        return []


class ActionAskHandoffPhone(_AskAction):
    slot = "handoff_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        known = known_phone(tracker)
        if self.retrying(tracker):
            _say(dispatcher, tracker, "phone_retry")
        elif known and not tracker.get_slot("handoff_phone_typed"):
            _say(dispatcher, tracker, "confirm_phone", phone_end=form.phone_end(known))
        else:
            _say(dispatcher, tracker, "ask_phone")
        return []


class ActionAskHandoffMoment(_AskAction):
    slot = "handoff_moment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = tuple(Button(title=m.title, payload=m.id) for m in _section().moments)
        key = "moment_retry" if self.retrying(tracker) else "ask_moment"
        name = sealer().open(tracker.get_slot("handoff_name")) or ""
        _say(dispatcher, tracker, key, buttons=buttons, name=name)
        return []


class ActionAskHandoffReason(_AskAction):
    slot = "handoff_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _say(dispatcher, tracker, "ask_reason")
        return []


class ActionAskHandoffConsent(_AskAction):
    slot = "handoff_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if self.retrying(tracker):
            _say(dispatcher, tracker, "consent_retry")
            return []
        phone = sealer().open(tracker.get_slot("handoff_phone")) or ""
        when = context.when(_section(), tracker.get_slot("handoff_moment"), datetime.now(timezone.utc))
        reason = str(tracker.get_slot("handoff_reason") or "")
        _say(dispatcher, tracker, "ask_consent", phone_end=form.phone_end(phone), when=when, reason=reason)
        return []


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
        section = _section()
        moment = tracker.get_slot("handoff_moment")
        slot = context.chosen_slot(section, moment, now)
        try:
            delivery = handoff_delivery()
            create = partial(
                handoff_store().create,
                NewRequest(
                    sender_id=tracker.sender_id,
                    session_started_at=session_started_at(tracker),
                    channel=_channel(tracker),
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
            _say(dispatcher, tracker, "failed")
            await _record(tracker, None, "answered", "handoff/failed")
            return reset_events()
        wake_workers()
        _say(
            dispatcher,
            tracker,
            "confirmed",
            name=name,
            phone_end=form.phone_end(phone),
            when=describe(slot, now) if slot else context.ASAP,
        )
        await _record(tracker, None, "handoff", "handoff/confirmed")
        return reset_events()
