"""The callback form's questions (`action_ask_handoff_*`): each asks once, or again after a bad answer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime, timezone

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff.common import known_phone, say, sealer, section
from bot.content.select import Button
from bot.handoff import context, form


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
        say(dispatcher, tracker, "name_retry" if self.retrying(tracker) else "ask_name")
        return []


class ActionAskHandoffPhone(_AskAction):
    slot = "handoff_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        known = known_phone(tracker)
        if self.retrying(tracker):
            say(dispatcher, tracker, "phone_retry")
        elif known and not tracker.get_slot("handoff_phone_typed"):
            say(dispatcher, tracker, "confirm_phone", phone_end=form.phone_end(known))
        else:
            say(dispatcher, tracker, "ask_phone")
        return []


class ActionAskHandoffMoment(_AskAction):
    slot = "handoff_moment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = tuple(Button(title=m.title, payload=m.id) for m in section().moments)
        key = "moment_retry" if self.retrying(tracker) else "ask_moment"
        name = sealer().open(tracker.get_slot("handoff_name")) or ""
        say(dispatcher, tracker, key, buttons=buttons, name=name)
        return []


class ActionAskHandoffReason(_AskAction):
    slot = "handoff_reason"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        say(dispatcher, tracker, "ask_reason")
        return []


class ActionAskHandoffConsent(_AskAction):
    slot = "handoff_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if self.retrying(tracker):
            say(dispatcher, tracker, "consent_retry")
            return []
        phone = sealer().open(tracker.get_slot("handoff_phone")) or ""
        when = context.when(section(), tracker.get_slot("handoff_moment"), datetime.now(timezone.utc))
        reason = str(tracker.get_slot("handoff_reason") or "")
        say(dispatcher, tracker, "ask_consent", phone_end=form.phone_end(phone), when=when, reason=reason)
        return []
