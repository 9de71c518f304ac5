"""Callback requests, their contact data (sealed, in its own table) and the delivery outbox.

On the touchpoint store's `Base`, so `journey`'s migrations (revision 0002, a branch off 0001)
and autogenerate see them. A request names its touchpoint by the touchpoint's own key
(sender_key, session_started_at): a touchpoint may still wait in the spool when the request is made.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped

from bot.store.models import Base, UtcDateTime

STATUSES = ("open", "done")
KINDS = ("callback", "live")
TARGETS = ("webhook", "email")


class HandoffRequest(Base):
    __tablename__ = "handoff_requests"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'done')", name="ck_handoff_requests_status"),
        CheckConstraint("kind IN ('callback', 'live')", name="ck_handoff_requests_kind"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    request_id: Mapped[str] = Column(String(36), nullable=False, unique=True)
    sender_key: Mapped[str] = Column(String(64), nullable=False, index=True)
    session_started_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    channel: Mapped[str] = Column(String(32), nullable=False)
    kind: Mapped[str] = Column(String(16), nullable=False)
    phase: Mapped[str | None] = Column(String(32))
    persona: Mapped[str | None] = Column(String(255))
    product: Mapped[str | None] = Column(String(64))
    nps_score: Mapped[int | None] = Column(Integer)
    reason: Mapped[str | None] = Column(Text)
    moment: Mapped[str | None] = Column(String(32))
    callback_from: Mapped[datetime | None] = Column(UtcDateTime)
    callback_until: Mapped[datetime | None] = Column(UtcDateTime)
    status: Mapped[str] = Column(String(16), nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, index=True)
    done_at: Mapped[datetime | None] = Column(UtcDateTime)


class HandoffContact(Base):
    """Name and phone number, sealed (bot.handoff.seal); removed with the request."""

    __tablename__ = "handoff_contacts"

    request_id: Mapped[int] = Column(
        Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), primary_key=True
    )
    name_sealed: Mapped[str] = Column(Text, nullable=False)
    phone_sealed: Mapped[str] = Column(Text, nullable=False)


class OutboxMessage(Base):
    """One delivery of one request to one target; kept until it is sent (outbox pattern)."""

    __tablename__ = "handoff_outbox"
    __table_args__ = (
        UniqueConstraint("request_id", "target", name="uq_handoff_outbox_target"),
        CheckConstraint("target IN ('webhook', 'email')", name="ck_handoff_outbox_target"),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    request_id: Mapped[int] = Column(
        Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True
    )
    target: Mapped[str] = Column(String(16), nullable=False)
    attempts: Mapped[int] = Column(Integer, nullable=False)
    next_attempt_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, index=True)
    sent_at: Mapped[datetime | None] = Column(UtcDateTime)
    last_error: Mapped[str | None] = Column(String(255))
