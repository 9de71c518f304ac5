"""Rasa waits for a restarting action server instead of dropping the turn, and tells the visitor.

Rasa 3.6 runs a custom action once: when the action server cannot be reached (killed, restarting
under the supervisor) the processor logs "the actions events are lost" and the visitor gets no
answer, so that message is never answered nor recorded. `PatientRemoteAction` retries a call
that could not connect (or whose connection dropped) with backoff for up to
ACTION_WAIT_SECONDS (20 s: the supervisor restarts a dead action server after 1 s and it starts
in a few); on the first failure the visitor is told "even geduld" (over REST it comes
with the answer, on the widget, WhatsApp and SMS at once). The conversation's lock stays taken
meanwhile, so later messages of that visitor queue behind this one, in order. A retried call
cannot record a turn twice: the turn's record id comes from Rasa's message id (actions/runtime.py).

It also checks each action server answer against Rasa's response schema with a validator built
once: Rasa's own `jsonschema.validate` re-checks the (large) schema itself on every call, 32 ms of
the Rasa server's CPU per message on 2 cores (bench/RESULTS.md); the errors are the same.

Rasa has no setting for its remote action class, so `install()` replaces it in the two Rasa
modules that create remote actions (bot/rasaserver.py calls it before Rasa starts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import cache
from typing import Any

import aiohttp
from jsonschema import validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions import action as rasa_action
from rasa.core.actions import forms as rasa_forms
from rasa.shared.exceptions import RasaException

from bot.settings import action_wait_seconds

logger = logging.getLogger(__name__)

PLEASE_WAIT = "Even geduld, het antwoord komt er zo aan."
_FIRST_DELAY = 0.5
_MAX_DELAY = 4.0


def _unreachable(error: BaseException) -> bool:
    """True when the action server was not there (refused, reset, dropped), not when it answered."""
    cause = error.__cause__ or error.__context__
    return isinstance(cause, aiohttp.ClientConnectionError | asyncio.TimeoutError)


@cache
def _response_validator() -> Validator:
    """Rasa's action response schema, checked once, as a reusable validator."""
    schema = rasa_action.RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


class PatientRemoteAction(rasa_action.RemoteAction):
    """A remote action that waits, bounded, for the action server to come back."""

    def _validate_action_result(self, result: dict[str, Any]) -> bool:
        """As Rasa's check, with the validator built once instead of on every answer."""
        error = best_match(_response_validator().iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            "Action endpoint is valid."
        )
        raise error

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> list[Any]:
        deadline = time.monotonic() + action_wait_seconds()
        delay = _FIRST_DELAY
        told = False
        while True:
            try:
                return await super().run(output_channel, nlg, tracker, domain)
            except RasaException as error:
                if not _unreachable(error) or time.monotonic() + delay > deadline:
                    raise
                if not told:
                    told = True
                    await output_channel.send_text_message(tracker.sender_id, PLEASE_WAIT)
                logger.warning("action server unreachable for %s; trying again in %.1fs", self.name(), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_DELAY)


def install() -> None:
    """Make Rasa create PatientRemoteAction wherever it creates a RemoteAction."""
    rasa_action.RemoteAction = PatientRemoteAction  # type: ignore[misc]
    rasa_forms.RemoteAction = PatientRemoteAction  # type: ignore[attr-defined]
