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

Two costs of Rasa's remote action are cut here, each measured in bench/RESULTS.md:
- Rasa checks each answer with `jsonschema.validate`, which re-checks its own schema on every
  call (32 ms of CPU per message) and then tries all 23 event schemas of a `oneOf` on every event
  (1.2 ms). The validators here are built once, and each event is checked against the one schema
  its `event` names: what `oneOf` accepts, since every event schema pins its own name.
- Rasa opens a new HTTP session, so a new TCP connection, for every call. `KeepAliveEndpoint`
  keeps one session per event loop, its idle connections closed before the action server (Sanic,
  5 s) would close them, so a kept connection is not found dead.

Rasa has no setting for its remote action class, so `install()` replaces it in the two Rasa
modules that create remote actions (bot/rasaserver.py calls it before Rasa starts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from functools import cache, wraps
from typing import Any

import aiohttp
from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core import run as rasa_run
from rasa.core.actions import action as rasa_action
from rasa.core.actions import forms as rasa_forms
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.schemas.events import EVENT_SCHEMA
from rasa.utils.endpoints import EndpointConfig

from bot.settings import action_wait_seconds

logger = logging.getLogger(__name__)

PLEASE_WAIT = "Even geduld, het antwoord komt er zo aan."
_FIRST_DELAY = 0.5
_MAX_DELAY = 4.0
# Idle kept connections are closed after this long: under the action server's own keep-alive
# timeout (Sanic's default, 5 s), so the client never reuses one the server is closing.
KEEP_ALIVE_SECONDS = 2.0


def _unreachable(error: BaseException) -> bool:
    """True when the action server was not there (refused, reset, dropped), not when it answered."""
    cause = error.__cause__ or error.__context__
    return isinstance(cause, aiohttp.ClientConnectionError | asyncio.TimeoutError)


def _checked(schema: dict[str, Any]) -> Validator:
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@cache
def _answer_validators() -> tuple[Validator, Validator, dict[str, Validator]]:
    """Rasa's action response schema, split: the answer without its events' `oneOf`, every event's
    common part, and per event name the one schema of the `oneOf` that names it."""
    schema = rasa_action.RemoteAction.action_response_format_spec()
    events = dict(schema["properties"]["events"])
    events.pop("items", None)
    answer = {**schema, "properties": {**schema["properties"], "events": events}}
    common = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    named = {one["properties"]["event"]["const"]: _checked(one) for one in EVENT_SCHEMA["oneOf"]}
    return _checked(answer), _checked(common), named


def answer_error(result: Any) -> ValidationError | None:
    """What Rasa's schema finds wrong in an action server answer, or None when it accepts it."""
    answer, common, named = _answer_validators()
    error = best_match(answer.iter_errors(result))
    if error is not None or not isinstance(result, dict):
        return error
    for event in result.get("events") or []:
        error = best_match(common.iter_errors(event))
        if error is not None:
            return error
        schema = named.get(event["event"])
        if schema is None:
            return ValidationError(f"{event!r} is not valid under any of the given schemas")
        error = best_match(schema.iter_errors(event))
        if error is not None:
            return error
    return None


_SESSIONS: dict[tuple[int, str], aiohttp.ClientSession] = {}


async def close_sessions() -> None:
    """Close the kept sessions of this event loop (Rasa's server stops: aiohttp wants them closed)."""
    loop = asyncio.get_running_loop()
    for key, session in list(_SESSIONS.items()):
        if session.loop is loop:
            del _SESSIONS[key]
            await session.close()


class KeepAliveEndpoint(EndpointConfig):
    """Rasa's action endpoint with one HTTP session per event loop, kept between calls."""

    def session(self) -> Any:
        loop = asyncio.get_running_loop()
        key = (id(loop), self.url)
        session = _SESSIONS.get(key)
        if session is None or session.closed or session.loop is not loop:
            auth = aiohttp.BasicAuth(**self.basic_auth) if self.basic_auth else None
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=auth,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEP_ALIVE_SECONDS),
            )
            _SESSIONS[key] = session
        return nullcontext(session)  # `async with` on it leaves it open for the next call


def keep_alive(endpoint: EndpointConfig | None) -> EndpointConfig | None:
    """The same endpoint settings, calling through a kept session."""
    if endpoint is None or isinstance(endpoint, KeepAliveEndpoint):
        return endpoint
    kept = KeepAliveEndpoint.__new__(KeepAliveEndpoint)
    kept.__dict__.update(endpoint.__dict__)
    return kept


class PatientRemoteAction(rasa_action.RemoteAction):
    """A remote action that waits, bounded, for the action server to come back."""

    def __init__(self, name: str, action_endpoint: EndpointConfig | None) -> None:
        super().__init__(name, keep_alive(action_endpoint))

    def _validate_action_result(self, result: dict[str, Any]) -> bool:
        """As Rasa's check, with validators built once and one event schema tried per event."""
        error = answer_error(result)
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


def _closing_sessions(close_resources: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @wraps(close_resources)
    async def close(*args: Any, **kwargs: Any) -> None:
        await close_resources(*args, **kwargs)
        await close_sessions()

    return close


def install() -> None:
    """Make Rasa create PatientRemoteAction wherever it creates a RemoteAction; close its sessions on stop."""
    rasa_action.RemoteAction = PatientRemoteAction  # type: ignore[misc]
    rasa_forms.RemoteAction = PatientRemoteAction  # type: ignore[attr-defined]
    rasa_run.close_resources = _closing_sessions(rasa_run.close_resources)
