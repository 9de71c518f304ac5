"""WhatsApp output against a real local stand-in for the Graph API: rendering, retries, give-up."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import pytest

from bot.channels.http import RetryPolicy
from bot.channels.state import OptionMemory, RedisLink
from bot.channels.whatsapp_output import WhatsAppOutput
from tests.channels.fake_graph import FakeGraphServer

TOKEN = "secret-access-token-123"
NUMBER_ID = "109876543210"
PHONE = "31612345678"
FAST = RetryPolicy(attempts=4, base_delay=0.01)


def output(api_base: str, options: OptionMemory | None = None, retry: RetryPolicy = FAST) -> WhatsAppOutput:
    return WhatsAppOutput(
        TOKEN, NUMBER_ID, options or OptionMemory(RedisLink(None), "test:"), api_base, retry
    )


def buttons(count: int) -> list[dict[str, Any]]:
    return [{"title": f"Optie {n}", "payload": f"/choice_{n}"} for n in range(1, count + 1)]


def test_text_goes_to_the_messages_endpoint_with_the_bearer_token(graph: FakeGraphServer) -> None:
    asyncio.run(output(graph.url).send_text_message(PHONE, "Met **zonnepanelen** bespaar je."))
    [request] = graph.requests
    assert request.method == "POST" and request.path == f"/{NUMBER_ID}/messages"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": PHONE,
        "type": "text",
        "text": {"preview_url": False, "body": "Met *zonnepanelen* bespaar je."},
    }


def test_long_text_is_sent_in_order_in_parts(graph: FakeGraphServer) -> None:
    paragraphs = [f"Alinea {n}: " + "bespaar energie. " * 150 for n in range(1, 4)]
    asyncio.run(output(graph.url).send_text_message(PHONE, "\n\n".join(paragraphs)))
    bodies = [m["text"]["body"] for m in graph.messages_to(PHONE)]
    assert len(bodies) == 3 and all(len(b) <= 4096 for b in bodies)
    assert [b.split(":")[0] for b in bodies] == ["Alinea 1", "Alinea 2", "Alinea 3"]


@pytest.mark.parametrize(("count", "kind"), [(1, "button"), (3, "button"), (4, "list"), (10, "list")])
def test_buttons_become_interactive_messages(graph: FakeGraphServer, count: int, kind: str) -> None:
    asyncio.run(output(graph.url).send_text_with_buttons(PHONE, "Wat wil je doen?", buttons(count)))
    [sent] = graph.messages_to(PHONE)
    assert sent["type"] == "interactive" and sent["interactive"]["type"] == kind


def test_more_than_ten_buttons_are_numbered_and_remembered(graph: FakeGraphServer) -> None:
    options = OptionMemory(RedisLink(None), "test:")
    channel = output(graph.url, options)
    asyncio.run(channel.send_text_with_buttons(PHONE, "Kies:", buttons(12)))
    [sent] = graph.messages_to(PHONE)
    assert sent["type"] == "text" and "12. Optie 12" in sent["text"]["body"]
    assert asyncio.run(options.take(PHONE))[1] == ("Optie 2", "/choice_2")


def test_a_later_plain_message_makes_numbered_options_stale(graph: FakeGraphServer) -> None:
    options = OptionMemory(RedisLink(None), "test:")
    channel = output(graph.url, options)

    async def scenario() -> list[tuple[str, str]]:
        await channel.send_text_with_buttons(PHONE, "Kies:", buttons(12))
        await channel.send_text_message(PHONE, "Hoe waarschijnlijk is het dat je ons aanbeveelt? (0-10)")
        return await options.take(PHONE)

    assert asyncio.run(scenario()) == []


def test_image_and_custom_json(graph: FakeGraphServer) -> None:
    channel = output(graph.url)
    template = {"type": "template", "template": {"name": "afspraak", "language": {"code": "nl"}}}
    asyncio.run(channel.send_image_url(PHONE, "https://zonwarmte.example/paneel.png"))
    asyncio.run(channel.send_custom_json(PHONE, template))
    image, custom = graph.messages_to(PHONE)
    assert image["image"] == {"link": "https://zonwarmte.example/paneel.png"}
    assert custom["template"]["name"] == "afspraak" and custom["messaging_product"] == "whatsapp"


def test_429_is_retried_after_retry_after(graph: FakeGraphServer) -> None:
    graph.fail(429, times=1, retry_after="1")
    started = time.monotonic()
    asyncio.run(output(graph.url).send_text_message(PHONE, "Hallo"))
    assert time.monotonic() - started >= 0.9
    assert [r.status for r in graph.requests] == [429, 200]
    assert graph.messages_to(PHONE)[0]["text"]["body"] == "Hallo"


def test_5xx_is_retried_with_backoff_until_success(graph: FakeGraphServer) -> None:
    graph.fail(503, times=2)
    asyncio.run(output(graph.url).send_text_message(PHONE, "Hallo"))
    assert [r.status for r in graph.requests] == [503, 503, 200]


def test_persistent_500_gives_up_with_a_log_line_without_the_token(
    graph: FakeGraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    graph.fail(500, times=10)
    with caplog.at_level(logging.ERROR, logger="bot.channels.http"):
        asyncio.run(output(graph.url).send_text_message(PHONE, "Eerste deel.\n\n" + "Tweede deel. " * 400))
    assert [r.status for r in graph.requests] == [500] * 4  # the second part is never sent out of order
    [line] = [r.getMessage() for r in caplog.records]
    assert "failed after 4 attempts" in line and "HTTP 500" in line and "…678" in line
    assert TOKEN not in caplog.text and PHONE not in caplog.text


def test_client_errors_are_not_retried(graph: FakeGraphServer, caplog: pytest.LogCaptureFixture) -> None:
    graph.fail(400, times=1)
    with caplog.at_level(logging.ERROR, logger="bot.channels.http"):
        asyncio.run(output(graph.url).send_text_message(PHONE, "Hallo"))
    assert [r.status for r in graph.requests] == [400]
    assert "not retried" in caplog.text and "HTTP 400" in caplog.text


def test_network_errors_are_retried_then_logged(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, never listening: connection refused
        with caplog.at_level(logging.ERROR, logger="bot.channels.http"):
            asyncio.run(output(closed).send_text_message(PHONE, "Hallo"))
    assert "failed after 4 attempts: network error (ConnectError)" in caplog.text


def test_retry_delays_grow_and_are_capped() -> None:
    policy = RetryPolicy(base_delay=0.2, max_delay=1.0)
    assert [policy.delay(n, None) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.0]
