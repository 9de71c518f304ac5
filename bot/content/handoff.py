"""The `handoff:` section of journeys/common.yml: callback texts, office hours and callback moments.

Marketers edit it like any other content; `journey validate` checks it through these models. The
messages are ordinary reply blocks (variants per persona, channel, form of address), and the
confirmation texts may use the placeholders listed in PLACEHOLDERS, filled in by bot.handoff.
`IntentContent` is resolved by bot.content.model (which imports this module) to avoid a cycle.
"""

from __future__ import annotations

import re
import string
from datetime import time
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, conint, conlist, constr, root_validator, validator

if TYPE_CHECKING:
    from bot.content.model import IntentContent

WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Each message the form needs, and the placeholders its texts may use.
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "ask_name": frozenset(),
    "name_retry": frozenset(),
    "ask_phone": frozenset(),
    "confirm_phone": frozenset({"phone_end"}),
    "phone_retry": frozenset(),
    "ask_moment": frozenset({"name"}),
    "moment_retry": frozenset(),
    "ask_reason": frozenset(),
    "ask_consent": frozenset({"phone_end", "when", "reason"}),
    "consent_retry": frozenset(),
    "confirmed": frozenset({"name", "phone_end", "when"}),
    "consent_refused": frozenset(),
    "stopped": frozenset(),
    "gave_up": frozenset(),
    "failed": frozenset(),
    # The live handover to a colleague (bot.channels.handover).
    "live_started": frozenset(),
    "live_unavailable": frozenset(),
    "live_ended": frozenset(),
    "live_relay_failed": frozenset(),
}
_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
MAX_STOP_PHRASES = 50


def parse_hours(value: str) -> tuple[time, time]:
    """'08:00-18:00' as two times; '24:00' ends a day. Raises ValueError with the expected form."""
    match = _HOURS.match(value.strip())
    if not match:
        raise ValueError(f"expected hours like '08:00-18:00', got {value!r}")
    start = time(int(match[1]), int(match[2]))
    end = time(23, 59, 59) if match[3] == "24" else time(int(match[3]), int(match[4]))
    if end <= start:
        raise ValueError(f"the hours {value!r} end before they start")
    return start, end


class _Strict(BaseModel):
    class Config:
        extra = "forbid"


class Moment(_Strict):
    """A part of the day the visitor can choose for the call; its hours lie within office hours."""

    id: constr(strict=True, regex=r"^[a-z0-9][a-z0-9_-]*$")
    title: constr(strict=True, min_length=1, max_length=20) = Field(
        ..., description="Button title (WhatsApp shows at most 20 characters)."
    )
    hours: str = Field(..., description="'09:00-12:00'")
    words: list[constr(strict=True, min_length=1)] = Field(
        default_factory=list, description="What visitors may type for it ('ochtend', 's ochtends')."
    )

    @validator("hours")
    def _hours(cls, value: str) -> str:
        parse_hours(value)
        return value


class HandoffSection(_Strict):
    """Callback requests: when the company calls back, what the assistant says while it asks."""

    timezone: constr(strict=True, min_length=1) = "Europe/Amsterdam"
    office_hours: dict[str, str] = Field(
        ...,
        description="Per weekday (monday … sunday) the hours, e.g. '08:00-18:00'; a missing day is closed.",
    )
    closed_dates: list[str] = Field(default_factory=list, description="Holidays, as YYYY-MM-DD.")
    lead_minutes: conint(strict=True, ge=0, le=24 * 60) = Field(
        60, description="The earliest callback is this many minutes from now."
    )
    moments: conlist(Moment, min_items=1, max_items=3)
    stop_phrases: conlist(constr(strict=True, min_length=1), max_items=MAX_STOP_PHRASES) = Field(
        default_factory=list, description="Answers that end the callback questions ('laat maar')."
    )
    messages: dict[str, IntentContent]

    @validator("office_hours")
    def _office_hours(cls, value: dict[str, str]) -> dict[str, str]:
        for day, hours in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}: use {', '.join(WEEKDAYS)}")
            parse_hours(hours)
        if not value:
            raise ValueError("at least one weekday needs office hours")
        return value

    @validator("closed_dates", each_item=True)
    def _date(cls, value: str) -> str:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
            raise ValueError(f"expected a date like 2026-12-25, got {value!r}")
        return value

    @validator("timezone")
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Amsterdam") from error
        return value

    @root_validator(skip_on_failure=True)
    def _messages_and_moments(cls, values: dict[str, Any]) -> dict[str, Any]:
        messages: dict[str, Any] = values["messages"]
        missing = [key for key in PLACEHOLDERS if key not in messages]
        if missing:
            raise ValueError(f"messages missing: {', '.join(missing)}")
        for key, content in messages.items():
            if key not in PLACEHOLDERS:
                raise ValueError(f"unknown message {key!r}: one of {', '.join(PLACEHOLDERS)}")
            for variant in content.replies:
                for text in variant.text:
                    unknown = placeholders_in(text) - PLACEHOLDERS[key]
                    if unknown:
                        allowed = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS[key])) or "none"
                        raise ValueError(
                            f"message {key!r}: unknown placeholder {{{sorted(unknown)[0]}}} (allowed: {allowed})"
                        )
        ids = [moment.id for moment in values["moments"]]
        if len(set(ids)) != len(ids):
            raise ValueError("every moment needs its own id")
        return values


def placeholders_in(text: str) -> set[str]:
    """The {names} a text uses; a malformed brace raises ValueError."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
