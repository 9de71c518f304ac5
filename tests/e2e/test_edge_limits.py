"""Bounded work per message against the running bot: huge bodies refused, long text cut, others answered.

Timings are printed (run with -s), never asserted: the other visitor must be answered, and the big
message refused (413) or cut with the notice first.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from bot.content import ContentRepository
from bot.content.select import Situation
from bot.settings import PROJECT_ROOT
from tests.channels.edge_clients import (
    deliver,
    new_phone,
    reply_text,
    whatsapp_replies,
    whatsapp_text,
    widget_session,
)
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e


def notice(bot: RunningBot, channel: str) -> str:
    content = ContentRepository(bot.journeys_dir, PROJECT_ROOT / "domain.yml").current()
    return str(content.message("message_too_long", Situation(channel=channel)).text)


def while_other_visitor_talks(bot: RunningBot, big: Callable[[], object]) -> tuple[object, float]:
    """Run ``big()`` in a thread while another visitor asks a question; the big result and their wait."""
    result: list[object] = []
    worker = threading.Thread(target=lambda: result.append(big()))
    worker.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert bot.say(f"other-{uuid.uuid4().hex[:8]}", "Hoeveel kan ik besparen met zonnepanelen?")
    waited = time.monotonic() - started
    worker.join(120)
    return result[0], waited


def test_a_1_mb_body_is_refused_and_others_are_answered(running_bot: RunningBot) -> None:
    body = json.dumps({"sender": "groot", "message": "x" * 1_000_000}).encode()
    url = f"{running_bot.rest_url}/webhooks/rest/webhook"

    def big() -> int:
        try:
            return httpx.post(
                url, content=body, headers={"Content-Type": "application/json"}, timeout=60
            ).status_code
        except httpx.HTTPError:  # the server may close the connection after its 413
            return 413

    status, waited = while_other_visitor_talks(running_bot, big)
    print(f"\n1 MB REST body: status {status}; the other visitor waited {waited:.2f} s")
    assert status == 413


def test_a_150000_character_message_is_refused_or_cut_in_every_channel(running_bot: RunningBot) -> None:
    text = "Ik wil zonnepanelen. " + "a" * 150_000
    url = f"{running_bot.rest_url}/webhooks/rest/webhook"

    def big() -> int:
        return httpx.post(
            url, json={"sender": f"lang-{uuid.uuid4().hex[:6]}", "message": text}, timeout=60
        ).status_code

    status, waited = while_other_visitor_talks(running_bot, big)
    print(f"\n150,000 characters over REST: status {status}; the other visitor waited {waited:.2f} s")
    assert status == 413  # 150 KB of JSON is over the 64 KB body limit
    assert deliver(running_bot, whatsapp_text(running_bot, new_phone(), text)).status_code == 413


def test_a_long_message_under_the_body_limit_is_cut_with_a_notice(running_bot: RunningBot) -> None:
    text = "Hoeveel kan ik besparen met zonnepanelen? " + "bla " * 15_000  # 60,000 characters
    sender = f"cut-{uuid.uuid4().hex[:8]}"

    def big() -> list[dict[str, object]]:
        return running_bot.say(sender, text)

    replies, waited = while_other_visitor_talks(running_bot, big)
    print(f"\n60,000 characters cut to 2,000 over REST; the other visitor waited {waited:.2f} s")
    assert isinstance(replies, list) and len(replies) >= 2
    assert replies[0]["text"] == notice(running_bot, "rest")
    [event] = [e for e in running_bot.tracker(sender)["events"] if e.get("event") == "user"]
    assert event["text"] == text[:2000]

    phone = new_phone()
    assert deliver(running_bot, whatsapp_text(running_bot, phone, text)).status_code == 200
    first, *rest = whatsapp_replies(running_bot, phone, 2)
    assert "alleen het begin" in reply_text(first) and rest

    web = asyncio.run(
        widget_session(running_bot, [("user_uttered", {"message": text, "session_id": "<session>"})], 2)
    )
    assert web[0]["text"] == notice(running_bot, "web") and len(web) >= 2
