"""Office hours: when a chosen moment next falls within them, said in Dutch ("morgen tussen 8:00 en 12:00")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content.handoff import WEEKDAYS, HandoffSection, Moment, parse_hours

DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
MONTH_NAMES = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)
# Look this many days ahead for an open day (a long holiday season still finds one).
SEARCH_DAYS = 21


@dataclass(frozen=True)
class Slot:
    """A callback window, aware datetimes in the company's time zone."""

    moment_id: str
    start: datetime
    end: datetime


def _open_window(section: HandoffSection, day: date) -> tuple[time, time] | None:
    if day.isoformat() in section.closed_dates:
        return None
    hours = section.office_hours.get(WEEKDAYS[day.weekday()])
    return parse_hours(hours) if hours else None


def next_slot(section: HandoffSection, moment: Moment, now: datetime) -> Slot | None:
    """The first window of this moment, within office hours, that ends after now + lead time."""
    zone = ZoneInfo(section.timezone)
    local_now = now.astimezone(zone)
    earliest = local_now + timedelta(minutes=section.lead_minutes)
    wanted_start, wanted_end = parse_hours(moment.hours)
    for offset in range(SEARCH_DAYS):
        day = local_now.date() + timedelta(days=offset)
        window = _open_window(section, day)
        if window is None:
            continue
        start = datetime.combine(day, max(window[0], wanted_start), zone)
        end = datetime.combine(day, min(window[1], wanted_end), zone)
        start = max(start, earliest)
        if end - start >= timedelta(minutes=30):
            return Slot(moment.id, start, end)
    return None


def open_now(section: HandoffSection, now: datetime) -> bool:
    """Whether a colleague is at work now (for a live handover instead of a callback)."""
    local = now.astimezone(ZoneInfo(section.timezone))
    window = _open_window(section, local.date())
    return window is not None and window[0] <= local.time().replace(tzinfo=None) < window[1]


def _clock(moment: datetime) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def describe(slot: Slot, now: datetime) -> str:
    """'vandaag tussen 14:00 en 15:00', 'morgen (woensdag 2 december) tussen …', 'maandag 7 december tussen …'."""
    today = now.astimezone(slot.start.tzinfo).date()
    day = slot.start.date()
    named = f"{DAY_NAMES[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}"
    if day == today:
        which = "vandaag"
    elif day == today + timedelta(days=1):
        which = f"morgen ({named})"
    else:
        which = named
    return f"{which} tussen {_clock(slot.start)} en {_clock(slot.end)}"
