"""The ``inbox_messages`` table, as migration 0004 creates it (the inbox's own metadata)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.store.models import UtcDateTime

STATUSES = ("pending", "processing", "done", "failed", "stale")

metadata = MetaData()

inbox_messages = Table(
    "inbox_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    # Meta's wamid or Twilio's MessageSid: the unique key below is the durable de-duplication.
    Column("provider_id", String(128), nullable=False),
    # The hashed conversation id (``whatsapp:…``/``sms:…``), never the phone number.
    Column("conversation_id", String(80), nullable=False),
    # When the customer sent it (the provider's timestamp, else when it arrived): the processing order.
    Column("sent_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # A failed attempt is retried after a pause; later messages of the conversation wait behind it.
    Column("available_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claimed_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    # The message itself, encrypted (bot.inbox.sealing); erased once the message has been processed.
    Column("payload", Text),
    UniqueConstraint("channel", "provider_id", name="uq_inbox_provider_id"),
    CheckConstraint(
        "status IN ({})".format(", ".join(f"'{status}'" for status in STATUSES)), name="ck_inbox_status"
    ),
    Index("ix_inbox_conversation_status", "conversation_id", "status"),
    Index("ix_inbox_status_received", "status", "received_at"),
)
