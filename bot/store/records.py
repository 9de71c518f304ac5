"""What the actions hand the store (raw), and what the store writes or spools (pseudonymised, masked).

Records are prepared before anything is written, so neither the database nor the spool file
ever sees a raw sender id or unmasked text.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from bot.privacy import mask, pseudonymise

# A reason longer than this is cut: it is free text, and the store is no archive for essays.
MAX_REASON_CHARS = 1000


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already (Rasa timestamps are UTC epochs)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class TurnRecord:
    """One user message as the journey action saw it."""

    sender_id: str
    session_started_at: datetime
    channel: str
    persona: str | None
    phase: str | None
    intent: str
    confidence: float | None
    content_id: str | None
    text: str
    outcome: str
    at: datetime
    # For the analytics report: the product talked about, whether the visitor typed the message
    # (not a button or an automatic payload) and the experiment arm of the reply, if any.
    product: str | None = None
    typed: bool | None = None
    experiment: str | None = None
    arm: str | None = None


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class StoredTurn:
    kind: ClassVar[str] = "turn"

    sender_key: str
    session_started_at: datetime
    channel: str
    persona: str | None
    phase: str | None
    intent: str
    confidence: float | None
    content_id: str | None
    text: str
    outcome: str
    at: datetime
    product: str | None = None
    typed: bool | None = None
    experiment: str | None = None
    arm: str | None = None
    record_id: str = field(default_factory=_new_id)

    @classmethod
    def prepare(cls, record: TurnRecord, key: str) -> StoredTurn:
        return cls(
            sender_key=pseudonymise(record.sender_id, key),
            session_started_at=utc(record.session_started_at),
            channel=record.channel,
            persona=record.persona,
            phase=record.phase,
            intent=record.intent,
            confidence=record.confidence,
            content_id=record.content_id,
            text=mask(record.text),
            outcome=record.outcome,
            at=utc(record.at),
            product=record.product,
            typed=record.typed,
            experiment=record.experiment,
            arm=record.arm,
        )


@dataclass(frozen=True)
class StoredNps:
    kind: ClassVar[str] = "nps"

    sender_key: str
    session_started_at: datetime
    channel: str
    persona: str | None
    phase: str | None
    score: int
    reason: str | None
    at: datetime
    record_id: str = field(default_factory=_new_id)

    @classmethod
    def prepare(
        cls,
        key: str,
        sender_id: str,
        session_started_at: datetime,
        score: int,
        reason: str | None,
        phase: str | None,
        channel: str,
        persona: str | None,
        at: datetime,
    ) -> StoredNps:
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValueError(f"an NPS score is a whole number from 0 to 10, got {score!r}")
        reason = mask(reason.strip()[:MAX_REASON_CHARS]) if reason and reason.strip() else None
        return cls(
            sender_key=pseudonymise(sender_id, key),
            session_started_at=utc(session_started_at),
            channel=channel,
            persona=persona,
            phase=phase,
            score=score,
            reason=reason,
            at=utc(at),
        )


StoredRecord = StoredTurn | StoredNps
_KINDS: dict[str, type[StoredTurn] | type[StoredNps]] = {"turn": StoredTurn, "nps": StoredNps}
_DATETIMES = ("session_started_at", "at")


def to_line(record: StoredRecord) -> str:
    """One JSON line for the spool file."""
    data: dict[str, Any] = {"kind": record.kind}
    for name, value in asdict(record).items():
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps(data, ensure_ascii=False)


def from_line(line: str) -> StoredRecord:
    """Read a spool line back; raises ValueError (or KeyError/TypeError) for a damaged line."""
    data = json.loads(line)
    cls = _KINDS[data.pop("kind")]
    for name in _DATETIMES:
        data[name] = datetime.fromisoformat(data[name])
    return cls(**data)
