"""The inbox table on SQLite and PostgreSQL: once per provider id, claimed in order, erased when done."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from bot.inbox import InboxStore, Received
from bot.inbox.models import inbox_messages, metadata
from bot.store.database import VERSION_TABLE, make_engine
from tests.store.conftest import database_url  # noqa: F401  (the SQLite / PostgreSQL fixture)

SECRET = "inbox-secret-for-tests"
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    """The store's notion of now, moved by the test (a day later, past a lease)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[InboxStore]:  # noqa: F811
    inbox = InboxStore(database_url, SECRET, lease_seconds=60, clock=clock)
    yield inbox
    inbox.close()


def received(
    conversation: str, text: str, sent_at: datetime | None = None, provider_id: str = ""
) -> Received:
    return Received(
        channel="whatsapp",
        provider_id=provider_id or f"wamid.{uuid.uuid4().hex}",
        conversation_id=conversation,
        payload={"phone": "31612345678", "text": text, "typed": True},
        sent_at=sent_at,
    )


def conversation() -> str:
    return f"whatsapp:{uuid.uuid4().hex}"


def test_a_provider_id_is_stored_once_even_a_day_later(store: InboxStore, clock: Clock) -> None:
    first = received(conversation(), "Hallo", sent_at=START)
    assert store.add([first]) == ["new"]
    assert store.add([first]) == ["duplicate"]
    clock.now = START + timedelta(days=1)
    assert store.add([first]) == ["duplicate"]
    other_channel = Received("twilio", first.provider_id, first.conversation_id, first.payload)
    assert store.add([other_channel]) == ["new"]  # ids are unique per channel


def test_a_message_older_than_the_memory_is_recorded_as_stale(store: InboxStore) -> None:
    chat = conversation()
    old = received(chat, "van vorige maand", sent_at=START - timedelta(days=30))
    assert store.add([old]) == ["stale"]
    assert store.add([old]) == ["duplicate"]
    assert store.claim(chat) is None
    assert store.counts() == {"stale": 1}


def test_messages_are_claimed_in_the_order_they_were_sent(store: InboxStore) -> None:
    chat = conversation()
    late = received(chat, "tweede", sent_at=START - timedelta(seconds=10))
    early = received(chat, "eerste", sent_at=START - timedelta(seconds=20))
    assert store.add([late]) == ["new"]
    assert store.add([early]) == ["new"]  # arrives later, was sent earlier
    first = store.claim(chat)
    assert first is not None and first.payload["text"] == "eerste" and first.attempts == 1
    assert store.claim(chat) is None  # one at a time per conversation
    store.finish(first.id)
    second = store.claim(chat)
    assert second is not None and second.payload["text"] == "tweede"


def test_conversations_do_not_wait_for_each_other(store: InboxStore) -> None:
    one, two = conversation(), conversation()
    store.add([received(one, "a"), received(two, "b")])
    assert store.claim(one) is not None
    claimed = store.claim(two)
    assert claimed is not None and claimed.payload["text"] == "b"


def test_a_claim_whose_worker_died_is_taken_again_after_the_lease(store: InboxStore, clock: Clock) -> None:
    chat = conversation()
    store.add([received(chat, "onderbroken")])
    assert store.claim(chat) is not None
    assert chat not in store.waiting_conversations()
    clock.now = START + timedelta(seconds=61)
    assert chat in store.waiting_conversations()
    again = store.claim(chat)
    assert again is not None and again.attempts == 2 and again.payload["text"] == "onderbroken"


def test_a_released_message_waits_for_its_retry_and_keeps_the_order(store: InboxStore, clock: Clock) -> None:
    chat = conversation()
    store.add([received(chat, "faalt", sent_at=START - timedelta(seconds=2))])
    store.add([received(chat, "daarna", sent_at=START - timedelta(seconds=1))])
    failing = store.claim(chat)
    assert failing is not None
    store.release(failing.id, delay_seconds=5)
    assert store.claim(chat) is None  # the later message does not overtake it
    clock.now = START + timedelta(seconds=6)
    retried = store.claim(chat)
    assert retried is not None and retried.payload["text"] == "faalt" and retried.attempts == 2


def test_the_content_is_sealed_at_rest_and_erased_when_done(
    store: InboxStore,
    database_url: str,  # noqa: F811
) -> None:
    chat = conversation()
    store.add([received(chat, "Mijn IBAN is NL91ABNA0417164300")])
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            [payload] = connection.execute(select(inbox_messages.c.payload)).scalars()
        assert "NL91ABNA" not in payload and "31612345678" not in payload
        claimed = store.claim(chat)
        assert claimed is not None and claimed.payload["text"] == "Mijn IBAN is NL91ABNA0417164300"
        store.finish(claimed.id)
        with engine.connect() as connection:
            row = connection.execute(select(inbox_messages)).one()
    finally:
        engine.dispose()
    assert row.payload is None and row.status == "done" and row.provider_id.startswith("wamid.")


def test_another_key_cannot_open_the_payload(database_url: str, clock: Clock) -> None:  # noqa: F811
    chat = conversation()
    InboxStore(database_url, SECRET, clock=clock).add([received(chat, "geheim")])
    rotated = InboxStore(database_url, "another-secret-entirely", clock=clock)
    try:
        assert rotated.claim(chat) is None
        assert rotated.counts() == {"failed": 1}
    finally:
        rotated.close()


def test_purge_forgets_old_handled_ids_but_never_waiting_messages(store: InboxStore, clock: Clock) -> None:
    chat = conversation()
    handled = received(chat, "klaar")
    store.add([handled, received(chat, "wacht nog")])
    claimed = store.claim(chat)
    assert claimed is not None
    store.finish(claimed.id)
    clock.now = START + timedelta(days=8)
    assert store.purge() == 1
    assert store.counts() == {"pending": 1}
    assert store.backlog(chat) == 1


def test_the_table_matches_its_migration(database_url: str) -> None:  # noqa: F811
    InboxStore(database_url, SECRET).counts()  # creates the schema
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "version_table": VERSION_TABLE,
                    "include_name": lambda name, kind, _: kind != "table" or name in metadata.tables,
                },
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_each_channel_works_only_on_its_own_messages(database_url: str, clock: Clock) -> None:  # noqa: F811
    """WhatsApp and Twilio share the table; Twilio's sweep once answered a WhatsApp message by SMS."""
    whatsapp = InboxStore(database_url, SECRET, clock=clock, channel="whatsapp")
    twilio = InboxStore(database_url, SECRET, clock=clock, channel="twilio")
    try:
        chat = conversation()
        assert whatsapp.add([received(chat, "hallo")]) == ["new"]
        assert twilio.waiting_conversations() == [] and twilio.claim(chat) is None
        assert whatsapp.waiting_conversations() == [chat]
        claimed = whatsapp.claim(chat)
        assert claimed is not None and claimed.payload["text"] == "hallo"
    finally:
        whatsapp.close()
        twilio.close()
