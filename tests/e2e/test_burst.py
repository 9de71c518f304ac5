"""A burst of 100 messages on one conversation against the running Rasa: none silently lost.

Every message is either answered (200 with replies, and in the tracker) or refused with 429 and a
reason the client sees (and not in the tracker). The counts are printed (run with -s) and written to
tests/output/burst_rest.json; they are not asserted, since they depend on the machine's speed.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest

from bot.settings import PROJECT_ROOT
from tests.conftest import RunningBot

pytestmark = pytest.mark.e2e

BURST = 100


async def send_burst(url: str, sender: str) -> list[httpx.Response | BaseException]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        return await asyncio.gather(
            *(client.post(url, json={"sender": sender, "message": f"hallo {n}"}) for n in range(BURST)),
            return_exceptions=True,
        )


def user_texts(bot: RunningBot, sender: str) -> list[str]:
    events = bot.tracker(sender).get("events") or []
    assert isinstance(events, list)
    return [str(event.get("text")) for event in events if event.get("event") == "user"]


def test_a_burst_of_100_on_one_conversation_is_answered_or_refused(running_bot: RunningBot) -> None:
    sender = f"burst-{uuid.uuid4().hex[:10]}"
    started = time.monotonic()
    results = asyncio.run(send_burst(f"{running_bot.rest_url}/webhooks/rest/webhook", sender))
    seconds = time.monotonic() - started

    failures = [r for r in results if not isinstance(r, httpx.Response) or r.status_code not in (200, 429)]
    assert failures == [], f"lost or failed: {failures[:3]}"
    responses = [r for r in results if isinstance(r, httpx.Response)]
    answered = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.json() for r in answered), "an answered message came back without a reply"
    assert all("too many messages at once" in r.json()["error"] and r.headers["Retry-After"] for r in refused)

    texts = [json.loads(r.request.content)["message"] for r in answered]
    recorded = user_texts(running_bot, sender)
    assert sorted(recorded) == sorted(texts), "the tracker must hold exactly the answered messages"
    refused_texts = {json.loads(r.request.content)["message"] for r in refused}
    assert refused_texts.isdisjoint(recorded)

    figures = {
        "sent": BURST,
        "answered": len(answered),
        "refused_429": len(refused),
        "lost": BURST - len(answered) - len(refused),
        "recorded": len(recorded),
        "seconds": round(seconds, 1),
    }
    output = PROJECT_ROOT / "tests" / "output"
    output.mkdir(parents=True, exist_ok=True)
    (output / "burst_rest.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"burst of {BURST} on one conversation: {figures}")

    after = running_bot.say(sender, "Wat kost een thuisbatterij?")  # the conversation goes on afterwards
    assert after and user_texts(running_bot, sender)[-1] == "Wat kost een thuisbatterij?"
