"""The state of a live handover to a colleague, as kept in the conversation (slot `handover`).

The slot holds this state sealed (bot.handoff.seal): it survives restarts with the conversation,
the WhatsApp number in it is not readable in the conversation store, and no masking pattern
touches it. Also here: the transcript summary a colleague reads first, masked. Plain data in, so
no Rasa import here (the action server and the channels both use it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.handoff.seal import Sealer
from bot.privacy import mask

SLOT = "handover"
# Channels whose visitors an agent's reply can reach later (REST callers cannot be pushed to;
# SMS is not wired up).
LIVE_CHANNELS = ("web", "whatsapp")
# The summary is bounded: this many turns at most, each cut to this many characters.
TRANSCRIPT_TURNS = 20
TRANSCRIPT_TURN_CHARS = 300


@dataclass(frozen=True)
class Handover:
    """A conversation a colleague has in Chatwoot: its id there, the channel, and where replies go."""

    chatwoot_conversation: int
    channel: str
    # The WhatsApp number (international, with +); None on the web (the conversation id is the room).
    phone: str | None = None


def seal(sealer: Sealer, handover: Handover) -> str:
    return sealer.seal(json.dumps(asdict(handover), separators=(",", ":")))


def unseal(sealer: Sealer, value: object) -> Handover | None:
    """The handover in the slot, or None (no handover, or a value this key did not seal)."""
    clear = sealer.open(value)
    if clear is None:
        return None
    try:
        data = json.loads(clear)
        return Handover(int(data["chatwoot_conversation"]), str(data["channel"]), data.get("phone"))
    except (ValueError, KeyError, TypeError):
        return None


def transcript(events: Iterable[Mapping[str, Any]]) -> str:
    """What visitor and assistant said so far, masked and bounded, for the colleague's private note."""
    lines = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
            continue
        said = mask(" ".join(text.split()))[:TRANSCRIPT_TURN_CHARS]
        lines.append(f"{'Klant' if kind == 'user' else 'Assistent'}: {said}")
    shown = lines[-TRANSCRIPT_TURNS:]
    header = "Gesprek met de assistent" + (
        f" (laatste {len(shown)} berichten)" if len(lines) > len(shown) else ""
    )
    return "\n".join([header + ":", *shown]) if shown else header + ": (geen berichten)"
