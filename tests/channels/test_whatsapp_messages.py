"""WhatsApp messages into Rasa: types, button payloads, media answers, de-duplication, numbered options."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.whatsapp import FALLBACK_UNSUPPORTED_TEXT
from bot.channels.whatsapp_output import WhatsAppOutput
from bot.content import ContentRepository
from bot.conversation_ids import conversation_id, phone_digits
from tests.channels.fake_graph import FakeGraphServer
from tests.channels.sanic_server import Recorder, serve
from tests.channels.whatsapp_webhook import (
    CONVERSATION_KEY,
    FIXTURES,
    PHONE,
    UNSUPPORTED,
    channel,
    envelope,
    message,
    post,
    settle,
    text,
)


def test_signed_text_reaches_rasa_with_metadata(url: str, recorder: Recorder) -> None:
    sent = text("Hoeveel kan ik besparen met zonnepanelen?")
    answer = post(url, envelope(sent))
    assert answer.status_code == 200
    [received] = recorder.wait_for(1)
    assert received.text == "Hoeveel kan ik besparen met zonnepanelen?"
    assert received.sender_id == conversation_id("whatsapp", PHONE, CONVERSATION_KEY)
    assert received.sender_id.startswith("whatsapp:") and PHONE not in received.sender_id
    assert received.input_channel == "whatsapp"
    # The number, with "+" (masked in the conversation store), lets the callback form confirm it.
    assert received.metadata == {"whatsapp_message_id": sent["id"], "phone": "+" + phone_digits(PHONE)}
    assert isinstance(received.output_channel, WhatsAppOutput)


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (
            message(
                "interactive",
                {
                    "type": "button_reply",
                    "button_reply": {"id": "/quote_request", "title": "Offerte"},
                },
            ),
            "/quote_request",
        ),
        (
            message(
                "interactive",
                {"type": "list_reply", "list_reply": {"id": "/savings", "title": "Besparing"}},
            ),
            "/savings",
        ),
        (message("button", {"payload": "/affirm", "text": "Ja"}), "/affirm"),
    ],
    ids=["button_reply", "list_reply", "template_button"],
)
def test_replies_map_to_button_payloads(
    url: str, recorder: Recorder, sent: dict[str, Any], expected: str
) -> None:
    assert post(url, envelope(sent)).status_code == 200
    assert [m.text for m in recorder.wait_for(1)] == [expected]


@pytest.mark.parametrize(
    "kind", ["image", "audio", "video", "document", "sticker", "location", "contacts", "unsupported"]
)
def test_unreadable_messages_get_a_polite_answer_and_skip_rasa(
    url: str, recorder: Recorder, graph: FakeGraphServer, kind: str
) -> None:
    assert post(url, envelope(message(kind))).status_code == 200
    graph.wait_for(lambda requests: len(requests) >= 1)
    assert [m["text"]["body"] for m in graph.messages_to(PHONE)] == [UNSUPPORTED]
    assert settle(url, recorder, 0) == []


def test_reactions_are_ignored(url: str, recorder: Recorder, graph: FakeGraphServer) -> None:
    assert (
        post(url, envelope(message("reaction", {"message_id": "wamid.x", "emoji": "👍"}))).status_code == 200
    )
    assert settle(url, recorder, 0) == []
    assert graph.requests == []


def test_duplicate_delivery_is_handled_once(url: str, recorder: Recorder) -> None:
    payload = envelope(text("Wat kost een thuisbatterij?"))
    assert [post(url, payload).status_code for _ in range(3)] == [200, 200, 200]
    assert [m.text for m in settle(url, recorder, 1)] == ["Wat kost een thuisbatterij?"]


def test_duplicate_delivery_to_two_workers_is_handled_once_with_redis(
    graph: FakeGraphServer, redis_url: str
) -> None:
    payload = envelope(text("Hoe werkt een warmtepomp?"))
    first, second = Recorder(), Recorder()
    with (
        serve(channel(graph, redis_url=redis_url), first) as worker_a,
        serve(channel(graph, redis_url=redis_url), second) as worker_b,
    ):
        assert post(worker_a, payload).status_code == 200
        assert first.wait_for(1)[0].text == "Hoe werkt een warmtepomp?"
        assert post(worker_b, payload).status_code == 200
        assert settle(worker_b, second, 0) == []
    restarted = Recorder()
    with serve(channel(graph, redis_url=redis_url), restarted) as worker_c:
        assert post(worker_c, payload).status_code == 200
        assert settle(worker_c, restarted, 0) == []


async def offer_eleven_products(message: UserMessage) -> None:
    """Answer a question like the bot would, with more options than a WhatsApp list holds."""
    if message.text == "Welke producten zijn er?":
        products = [{"title": f"Product {n}", "payload": f"/product_{n}"} for n in range(1, 12)]
        await message.output_channel.send_text_with_buttons(message.sender_id, "Kies een nummer:", products)


def test_typed_number_after_numbered_options_maps_to_the_payload(graph: FakeGraphServer) -> None:
    recorder = Recorder(offer_eleven_products)
    with serve(channel(graph), recorder) as base:
        assert post(base, envelope(text("Welke producten zijn er?"))).status_code == 200
        graph.wait_for(lambda requests: len(requests) >= 1)
        assert "2. Product 2" in graph.messages_to(PHONE)[0]["text"]["body"]
        assert post(base, envelope(text(" 2 "))).status_code == 200
        assert recorder.wait_for(2)[1].text == "/product_2"
        assert post(base, envelope(text("2"))).status_code == 200  # options are used up: now it is text
        assert recorder.wait_for(3)[2].text == "2"


def test_unsupported_text_comes_from_the_content(graph: FakeGraphServer) -> None:
    content = ContentRepository(FIXTURES / "valid", FIXTURES / "domain.yml")
    with serve(channel(graph, unsupported_text=None, content=content), Recorder()) as base:
        assert post(base, envelope(message("image"))).status_code == 200
        graph.wait_for(lambda requests: len(requests) >= 1)
    assert [m["text"]["body"] for m in graph.messages_to(PHONE)] == ["Ik kan alleen tekst lezen."]


def test_broken_content_still_gets_the_fixed_answer(
    graph: FakeGraphServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = ContentRepository(tmp_path / "missing", FIXTURES / "domain.yml")
    with (
        caplog.at_level(logging.ERROR),
        serve(channel(graph, unsupported_text=None, content=content), Recorder()) as base,
    ):
        assert post(base, envelope(message("audio"))).status_code == 200
        graph.wait_for(lambda requests: len(requests) >= 1)
    assert [m["text"]["body"] for m in graph.messages_to(PHONE)] == [FALLBACK_UNSUPPORTED_TEXT]
    assert "unsupported_message" in caplog.text
