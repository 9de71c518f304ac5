"""The running Rasa replays what a crash left in its inbox, and a message Rasa already had only once.

Two crash outcomes are put in the bot's own inbox table: a message acknowledged but never handed to
Rasa (pending), and one Rasa had taken when the process died (claimed, its lease run out). The
running server's sweep finds both; the tracker then holds each message exactly once.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from bot.inbox import InboxStore, Received
from bot.inbox.models import inbox_messages
from bot.inbox.sealing import Sealer
from bot.settings import conversation_key
from bot.store.database import make_engine
from tests.channels.test_whatsapp_e2e import (
    deliver,
    new_phone,
    replies,
    user_events,
    webhook,
    whatsapp_conversation,
)
from tests.conftest import RunningBot, started_bot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """A bot of its own: the replay is judged on an inbox and a sweep no other test has touched
    (in the shared bot, after the other end-to-end tests, the second reply once did not arrive)."""
    work = tmp_path_factory.mktemp("inbox_bot")
    with started_bot(work, log_dir=work / "logs") as bot:
        yield bot


FIRST = "Hoeveel kan ik besparen met zonnepanelen?"
SECOND = "Wat kost een thuisbatterij?"


def test_leftovers_of_a_crash_are_replayed_once(own_bot: RunningBot) -> None:
    running_bot = own_bot
    key = conversation_key({**os.environ, **running_bot.env})
    phone = new_phone()
    conversation = whatsapp_conversation(running_bot, phone)
    first_id, body = webhook(running_bot, phone, "text", {"body": FIRST})
    assert deliver(running_bot, body).status_code == 200
    answered = len(replies(running_bot.fake_graph, phone, 1))
    assert [e["text"] for e in user_events(running_bot, phone)] == [FIRST]

    engine = make_engine(running_bot.database_url)
    try:
        with engine.begin() as connection:  # Rasa had it, then the process died before the inbox heard back
            interrupted = connection.execute(
                update(inbox_messages)
                .where(inbox_messages.c.provider_id == first_id)
                .values(
                    status="processing",
                    claimed_at=datetime.now(timezone.utc) - timedelta(hours=1),
                    attempts=1,
                    finished_at=None,
                    payload=Sealer(key).seal({"phone": phone, "text": FIRST, "typed": True}),
                )
            ).rowcount
        assert interrupted == 1
    finally:
        engine.dispose()
    store = InboxStore(running_bot.database_url, key)
    try:  # acknowledged with a 200, then the process died before handing it to Rasa
        second_id = f"wamid.{secrets.token_hex(12)}"
        assert store.add(
            [Received("whatsapp", second_id, conversation, {"phone": phone, "text": SECOND})]
        ) == ["new"]
        deadline = time.monotonic() + 90  # the server's sweep runs every 30 s
        while store.backlog(conversation) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert store.backlog(conversation) == 0
    finally:
        store.close()
    assert len(replies(running_bot.fake_graph, phone, answered + 1)) > answered
    assert [e["text"] for e in user_events(running_bot, phone, at_least=2)] == [FIRST, SECOND]
    assert [e["message_id"] for e in user_events(running_bot, phone, at_least=2)] == [first_id, second_id]
