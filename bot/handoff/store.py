"""Callback requests in SQL: written with their outbox rows in one transaction, read by the CLI and the worker.

The tables live in the touchpoint database (DATABASE_URL) and come from its migrations. The
reason is masked like every stored text; name and phone number are sealed (bot.handoff.seal).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.handoff.models import TARGETS, HandoffContact, HandoffRequest, OutboxMessage
from bot.handoff.seal import Sealer
from bot.privacy import mask, pseudonymise
from bot.store.database import make_engine, upgrade
from bot.store.models import Touchpoint
from bot.store.records import utc

MAX_ERROR_CHARS = 255


@dataclass(frozen=True)
class NewRequest:
    """What the form collected, raw (the store pseudonymises, masks and seals)."""

    sender_id: str
    session_started_at: datetime
    channel: str
    phase: str | None
    persona: str | None
    product: str | None
    reason: str | None
    moment: str | None
    callback_from: datetime | None
    callback_until: datetime | None
    name: str
    phone: str
    at: datetime
    kind: str = "callback"


@dataclass(frozen=True)
class RequestView:
    """A request as a colleague needs it: with the contact data opened, and how its delivery went."""

    id: int
    request_id: str
    created_at: datetime
    status: str
    kind: str
    channel: str
    phase: str | None
    persona: str | None
    product: str | None
    nps_score: int | None
    reason: str | None
    moment: str | None
    callback_from: datetime | None
    callback_until: datetime | None
    name: str | None
    phone: str | None
    deliveries: dict[str, str]


@dataclass(frozen=True)
class DueMessage:
    id: int
    request_id: int
    target: str
    attempts: int
    next_attempt_at: datetime


class HandoffStore:
    def __init__(self, database_url: str, pseudonym_key: str, sealer: Sealer) -> None:
        self._engine = make_engine(database_url)
        self._key = pseudonym_key
        self.sealer = sealer
        self._ready = False
        self._lock = threading.Lock()

    def _session(self) -> Session:
        if not self._ready:
            with self._lock:
                if not self._ready:
                    upgrade(self._engine)
                    self._ready = True
        return Session(self._engine, future=True)

    def close(self) -> None:
        self._engine.dispose()

    def create(self, new: NewRequest, targets: tuple[str, ...]) -> int:
        """Store the request, its sealed contact data and one outbox row per delivery target."""
        unknown = set(targets) - set(TARGETS)
        if unknown:
            raise ValueError(f"unknown delivery target {sorted(unknown)[0]!r}")
        sender_key = pseudonymise(new.sender_id, self._key)
        session_start = utc(new.session_started_at)
        at = utc(new.at)
        with self._session() as session, session.begin():
            nps = session.scalar(
                select(Touchpoint.nps_score).where(
                    Touchpoint.sender_key == sender_key, Touchpoint.session_started_at == session_start
                )
            )
            request = HandoffRequest(
                request_id=str(uuid.uuid4()),
                sender_key=sender_key,
                session_started_at=session_start,
                channel=new.channel,
                kind=new.kind,
                phase=new.phase,
                persona=new.persona,
                product=new.product,
                nps_score=nps,
                reason=mask(new.reason) if new.reason else None,
                moment=new.moment,
                callback_from=utc(new.callback_from) if new.callback_from else None,
                callback_until=utc(new.callback_until) if new.callback_until else None,
                status="open",
                created_at=at,
            )
            session.add(request)
            session.flush()
            session.add(
                HandoffContact(
                    request_id=request.id,
                    name_sealed=self.sealer.seal(new.name),
                    phone_sealed=self.sealer.seal(new.phone),
                )
            )
            for target in targets:
                session.add(
                    OutboxMessage(request_id=request.id, target=target, attempts=0, next_attempt_at=at)
                )
            return int(request.id)

    def requests(self, *, include_done: bool = False) -> list[RequestView]:
        """Open requests (or all), oldest first."""
        with self._session() as session:
            query = select(HandoffRequest, HandoffContact).outerjoin(
                HandoffContact, HandoffContact.request_id == HandoffRequest.id
            )
            if not include_done:
                query = query.where(HandoffRequest.status == "open")
            rows = session.execute(query.order_by(HandoffRequest.id)).all()
            outbox = session.scalars(select(OutboxMessage)).all()
            deliveries: dict[int, dict[str, str]] = {}
            for message in outbox:
                state = "sent" if message.sent_at else f"pending ({message.attempts} attempts)"
                deliveries.setdefault(message.request_id, {})[message.target] = state
            return [self._view(request, contact, deliveries.get(request.id, {})) for request, contact in rows]

    def request(self, request_pk: int) -> RequestView | None:
        with self._session() as session:
            row = session.execute(
                select(HandoffRequest, HandoffContact)
                .outerjoin(HandoffContact, HandoffContact.request_id == HandoffRequest.id)
                .where(HandoffRequest.id == request_pk)
            ).one_or_none()
            return None if row is None else self._view(row[0], row[1], {})

    def _view(
        self, request: HandoffRequest, contact: HandoffContact | None, deliveries: dict[str, str]
    ) -> RequestView:
        return RequestView(
            id=request.id,
            request_id=request.request_id,
            created_at=request.created_at,
            status=request.status,
            kind=request.kind,
            channel=request.channel,
            phase=request.phase,
            persona=request.persona,
            product=request.product,
            nps_score=request.nps_score,
            reason=request.reason,
            moment=request.moment,
            callback_from=request.callback_from,
            callback_until=request.callback_until,
            name=self.sealer.open(contact.name_sealed) if contact else None,
            phone=self.sealer.open(contact.phone_sealed) if contact else None,
            deliveries=deliveries,
        )

    def mark_done(self, request_pk: int, at: datetime) -> bool:
        """Close an open request; False when there is no open request with that number."""
        with self._session() as session, session.begin():
            result = session.execute(
                update(HandoffRequest)
                .where(HandoffRequest.id == request_pk, HandoffRequest.status == "open")
                .values(status="done", done_at=utc(at))
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)

    # The outbox, for the delivery worker.

    def due(self, now: datetime, limit: int = 20) -> list[DueMessage]:
        with self._session() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= utc(now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(limit)
            ).all()
            return [DueMessage(m.id, m.request_id, m.target, m.attempts, m.next_attempt_at) for m in rows]

    def claim(self, message: DueMessage, lease: timedelta, now: datetime) -> bool:
        """Take the message for one attempt: another worker that read the same row loses the race.

        The lease pushes next_attempt_at past the attempt's timeout, so a worker that dies
        mid-attempt leaves the message due again once the lease is over.
        """
        with self._session() as session, session.begin():
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message.id,
                    OutboxMessage.sent_at.is_(None),
                    OutboxMessage.next_attempt_at == utc(message.next_attempt_at),
                )
                .values(next_attempt_at=utc(now + lease))
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount)

    def mark_sent(self, message_id: int, at: datetime) -> None:
        with self._session() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(sent_at=utc(at), attempts=OutboxMessage.attempts + 1, last_error=None)
                .execution_options(synchronize_session=False)
            )

    def mark_failed(self, message_id: int, next_attempt_at: datetime, error: str) -> None:
        with self._session() as session, session.begin():
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=utc(next_attempt_at),
                    last_error=mask(error)[:MAX_ERROR_CHARS],
                )
                .execution_options(synchronize_session=False)
            )


def forget_sender(session: Session, sender_key: str) -> int:
    """Remove one visitor's requests with their contact data and undelivered messages (erasure)."""
    chosen = select(HandoffRequest.id).where(HandoffRequest.sender_key == sender_key)
    return _delete(session, chosen)


def purge_before(session: Session, cutoff: datetime) -> int:
    """Remove requests made before the retention cutoff, with everything attached."""
    chosen = select(HandoffRequest.id).where(HandoffRequest.created_at < utc(cutoff))
    return _delete(session, chosen)


def _delete(session: Session, chosen: object) -> int:
    for model in (OutboxMessage, HandoffContact):
        session.execute(
            delete(model).where(model.request_id.in_(chosen)).execution_options(synchronize_session=False)
        )
    result = session.execute(
        delete(HandoffRequest)
        .where(HandoffRequest.id.in_(chosen))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)
