"""Rasa's SQL tracker store from one database URL, storing conversations with personal data masked.

Rasa's own SQLTrackerStore takes dialect/host/port/db separately; deployments hand out a
single URL (TRACKER_STORE_URL), and the default is a SQLite file under var/. What it writes is
masked like the touchpoint store (bot.privacy.mask): see MaskingSQLTrackerStore.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.privacy import mask
from bot.settings import PROJECT_ROOT, sqlite_url

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Values that name things (events, actions, intents, slots, entity types, policies) or identify
# them; everything else that is a string, at any depth, is masked.
IDENTIFIER_KEYS = frozenset(
    {"event", "name", "timestamp", "message_id", "input_channel", "policy", "entity", "extractor"}
)


def tracker_store_url() -> str:
    return os.environ.get("TRACKER_STORE_URL") or sqlite_url("rasa_tracker.db")


class UrlSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose connection comes from TRACKER_STORE_URL (default: var/rasa_tracker.db)."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: EventBroker | None = None,
        **kwargs: Any,
    ) -> None:
        url = make_url(tracker_store_url())
        if url.drivername.startswith("sqlite"):
            (PROJECT_ROOT / "var").mkdir(exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "rasa.db",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
        )


def mask_event_data(value: Any, key: str | None = None) -> Any:
    """A copy of an event's dict with every free-text string masked (user text, parse_data, slot values...)."""
    if isinstance(value, str):
        return value if key in IDENTIFIER_KEYS else mask(value)
    if isinstance(value, dict):
        return {item_key: mask_event_data(item, item_key) for item_key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_event_data(item, key) for item in value]
    return value


@dataclass(frozen=True)
class MaskedEvent:
    """What SQLTrackerStore.save reads from an event (type_name, as_dict), masked; never seen by policies."""

    type_name: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.data


class MaskingSQLTrackerStore(UrlSQLTrackerStore):
    """Writes each new event with e-mail addresses, phone numbers, IBANs and postcodes masked.

    How Rasa 3.6 uses the store: for every message the processor takes the conversation's lock,
    loads the tracker from this store (`retrieve`), appends the user message, runs the policies
    and actions on that in-memory tracker and finally calls `save`, which inserts only the events
    the database does not hold yet (`_additional_events`). Masking happens there, on copies, so

    - the current turn runs on clear text: NLU, policies and the action server (which gets the
      in-memory tracker) see exactly what the customer wrote in this message;
    - what is persisted, and so every later turn, the tracker API and exports, sees the masked
      text. Earlier turns come back masked: an earlier e-mail address or phone number cannot be
      used again in a later turn. That is the trade-off, chosen on purpose (data minimisation):
      the journey logic needs intents, entity types, phases and slots, never the raw contact
      details, and policies featurize intents, entity types and slot types or categories, which
      masking leaves alone (IDENTIFIER_KEYS are never masked). A feature that needs a contact
      detail later must take it in the same turn and store it elsewhere on purpose.

    Masking on save rather than on the event objects keeps the in-memory tracker untouched;
    masking on retrieve instead would leave clear text at rest. An event broker, if one is ever
    configured, still streams the clear events (Rasa streams before saving): configure none, or
    mask there too.
    """

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Any]:
        for event in super()._additional_events(session, tracker):
            yield MaskedEvent(type_name=event.type_name, data=mask_event_data(event.as_dict()))
