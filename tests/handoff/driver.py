"""Runs the callback form's real actions turn by turn, the way Rasa's form loop calls them.

Rasa (tests/handoff/test_form_e2e.py does that) would do the same: the from_text mapping puts the
answer in the requested slot, validate_handoff_form checks it, the next empty slot is asked by its
action_ask_<slot>, and when the validation ends the form or every slot is full, the submit runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    SLOTS,
    ActionAskHandoffConsent,
    ActionAskHandoffMoment,
    ActionAskHandoffName,
    ActionAskHandoffPhone,
    ActionAskHandoffReason,
    ActionHandoffSubmit,
    ValidateHandoffForm,
)
from bot.settings import PROJECT_ROOT

DOMAIN = Domain.load(PROJECT_ROOT / "domain.yml").as_dict()
SESSION_START = 1_764_590_000.0
ASK: dict[str, Action] = {
    "handoff_name": ActionAskHandoffName(),
    "handoff_phone": ActionAskHandoffPhone(),
    "handoff_moment": ActionAskHandoffMoment(),
    "handoff_reason": ActionAskHandoffReason(),
    "handoff_consent": ActionAskHandoffConsent(),
}


class FormDriver:
    def __init__(
        self,
        *,
        channel: str = "rest",
        sender: str = "visitor-1",
        phone: str | None = None,
        slots: dict[str, Any] | None = None,
        earlier_intents: tuple[str, ...] = (),
    ) -> None:
        self.channel = channel
        self.sender = sender
        self.metadata = {"phone": phone} if phone else {}
        self.slots: dict[str, Any] = {
            "journey_phase": "aftercare",
            "persona": None,
            "address": None,
            "product": None,
        }
        self.slots.update(slots or {})
        self.events: list[dict[str, Any]] = [{"event": "session_started", "timestamp": SESSION_START}]
        self.active = False
        self.submitted = False
        self.clock = SESSION_START
        for intent in earlier_intents:
            self._user(f"vraag over {intent}", intent)

    def _user(self, text: str, intent: str) -> dict[str, Any]:
        self.clock += 1
        latest = {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "metadata": self.metadata,
        }
        self.events.append(
            {
                "event": "user",
                "text": text,
                "parse_data": latest,
                "input_channel": self.channel,
                "timestamp": self.clock,
            }
        )
        return latest

    def _tracker(self, latest: dict[str, Any]) -> Tracker:
        return Tracker(
            self.sender, dict(self.slots), latest, list(self.events), False, None,
            {"name": "handoff_form"} if self.active else {}, "action_listen",
        )  # fmt: skip

    def _run(
        self, action: Action, latest: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        dispatcher = CollectingDispatcher()
        events = list(asyncio.run(action.run(dispatcher, self._tracker(latest), DOMAIN)))
        for event in events:
            if event["event"] == "slot":
                self.slots[event["name"]] = event["value"]
                self.events.append(event)
        return dispatcher.messages, events

    def start(self, text: str = "Bel mij terug", intent: str = "request_human") -> list[dict[str, Any]]:
        """The request for a person: the form activates and asks its first question."""
        latest = self._user(text, intent)
        self.active = True
        self.slots["requested_slot"] = None
        messages, events = self._run(ValidateHandoffForm(), latest)
        return messages + self._next(latest, _ends(events))

    def say(self, text: str, intent: str = "nlu_fallback") -> list[dict[str, Any]]:
        assert self.active, "the form is not active"
        latest = self._user(text, intent)
        asked = self.slots["requested_slot"]
        self.slots[asked] = text
        self.events.append({"event": "slot", "name": asked, "value": text, "timestamp": self.clock})
        messages, events = self._run(ValidateHandoffForm(), latest)
        ended = any(
            e["event"] == "slot" and e["name"] == "requested_slot" and e["value"] is None for e in events
        )
        return messages + self._next(latest, ended)

    def _next(self, latest: dict[str, Any], ended: bool = False) -> list[dict[str, Any]]:
        missing = [slot for slot in SLOTS if self.slots.get(slot) is None]
        if ended or not missing:
            self.active = False
            self.slots["requested_slot"] = None
            messages, _ = self._run(ActionHandoffSubmit(), latest)
            self.submitted = True
            return messages
        self.slots["requested_slot"] = missing[0]
        messages, _ = self._run(ASK[missing[0]], latest)
        return messages


def _ends(events: list[dict[str, Any]]) -> bool:
    """The validation set requested_slot to None: Rasa ends the form (FormAction.is_done)."""
    return any(e["event"] == "slot" and e["name"] == "requested_slot" and e["value"] is None for e in events)


def texts_of(messages: list[dict[str, Any]]) -> list[str]:
    return [str(message.get("text")) for message in messages]


def buttons_of(messages: list[dict[str, Any]]) -> list[str]:
    return [button["payload"] for message in messages for button in message.get("buttons") or []]
