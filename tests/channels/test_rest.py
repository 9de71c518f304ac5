"""The REST channel in a real Sanic server: bad bodies get a short JSON 400/413, good ones reach Rasa."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.limits import MAX_BODY_BYTES, MessageLimit
from bot.channels.rest import GuardedRestInput
from bot.content import ContentRepository
from bot.content.select import Situation
from bot.settings import PROJECT_ROOT
from tests.channels.sanic_server import Recorder, serve

PATH = "/webhooks/rest/webhook"
TOKEN = "rest-token-for-the-tests"
JSON = {"Content-Type": "application/json"}


async def echo(message: UserMessage) -> None:
    await message.output_channel.send_text_message(message.sender_id, f"Je zei: {message.text}")


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(echo)


@pytest.fixture
def base(recorder: Recorder) -> Iterator[str]:
    with serve(GuardedRestInput(limit=MessageLimit(max_chars=50)), recorder) as url:
        yield url


def post(base: str, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(base + PATH, content=body, headers=JSON if headers is None else headers, timeout=10)


def test_a_message_reaches_rasa_as_rest_and_the_replies_come_back(base: str, recorder: Recorder) -> None:
    body = {"sender": "demo-1", "message": "Hallo", "metadata": {"bron": "test"}}
    answer = post(base, json.dumps(body).encode())
    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": "demo-1", "text": "Je zei: Hallo"}]
    [message] = recorder.messages
    assert (message.sender_id, message.input_channel, message.metadata) == (
        "demo-1",
        "rest",
        {"bron": "test"},
    )


BAD_BODIES = {
    "array": (b"[]", JSON, "JSON object"),
    "empty": (b"", JSON, "not valid JSON"),
    "string": (b'"hallo"', JSON, "JSON object"),
    "number": (b"42", JSON, "JSON object"),
    "null": (b"null", JSON, "JSON object"),
    "not-json": (b"{sender: 1", JSON, "not valid JSON"),
    "invalid-utf8": (b'{"sender": "a", "message": "\xff\xfe"}', JSON, "UTF-8"),
    "no-sender": (b'{"message": "hallo"}', JSON, "sender must be a string"),
    "blank-sender": (b'{"sender": "  ", "message": "hallo"}', JSON, "sender is required"),
    "number-sender": (b'{"sender": 12, "message": "hallo"}', JSON, "sender must be a string"),
    "channel-id-sender": (b'{"sender": "whatsapp:abc", "message": "hallo"}', JSON, "':'"),
    "long-sender": (json.dumps({"sender": "x" * 129, "message": "hi"}).encode(), JSON, "longer"),
    "control-sender": (b'{"sender": "a\\u0000b", "message": "hallo"}', JSON, "control"),
    "no-message": (b'{"sender": "a"}', JSON, "message must be a string"),
    "list-message": (b'{"sender": "a", "message": ["hallo"]}', JSON, "message must be a string"),
    "empty-message": (b'{"sender": "a", "message": " "}', JSON, "message is empty"),
    "list-metadata": (b'{"sender": "a", "message": "hi", "metadata": []}', JSON, "metadata"),
    "chosen-channel": (
        b'{"sender": "a", "message": "hi", "input_channel": "whatsapp"}',
        JSON,
        "input_channel",
    ),
    "form": (b"sender=a&message=hi", {"Content-Type": "application/x-www-form-urlencoded"}, "Content-Type"),
    "no-content-type": (b'{"sender": "a", "message": "hi"}', {}, "Content-Type"),
}


@pytest.mark.parametrize("case", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_bad_body_gets_a_short_json_400_and_no_traceback(
    base: str, recorder: Recorder, caplog: pytest.LogCaptureFixture, case: tuple[bytes, dict[str, str], str]
) -> None:
    body, headers, reason = case
    with caplog.at_level(logging.INFO):
        answer = post(base, body, headers)
    assert answer.status_code == 400
    assert set(answer.json()) == {"error"} and reason in answer.json()["error"]
    assert recorder.messages == []
    assert not [record for record in caplog.records if record.exc_info]


def test_an_input_channel_of_rest_is_allowed(base: str, recorder: Recorder) -> None:
    body = {"sender": "a", "message": "hi", "input_channel": "rest"}
    assert post(base, json.dumps(body).encode()).status_code == 200
    assert recorder.messages[0].input_channel == "rest"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_a_body_over_64_kb_is_refused_with_413(base: str, recorder: Recorder, declared: bool) -> None:
    body = json.dumps({"sender": "a", "message": "x" * (MAX_BODY_BYTES + 10)}).encode()
    if declared:
        answer = post(base, body)
    else:
        chunks = (body[i : i + 8192] for i in range(0, len(body), 8192))
        answer = httpx.post(base + PATH, content=chunks, headers=JSON, timeout=10)
    assert answer.status_code == 413 and answer.json() == {
        "error": f"body is larger than {MAX_BODY_BYTES} bytes"
    }
    assert recorder.messages == []


def test_a_long_message_is_cut_and_the_visitor_told_first(base: str, recorder: Recorder) -> None:
    text = "Ik wil zonnepanelen. " + "bla " * 100
    answer = post(base, json.dumps({"sender": "lang-1", "message": text}).encode())
    notice = ContentRepository(PROJECT_ROOT / "journeys", PROJECT_ROOT / "domain.yml").current()
    expected = notice.message("message_too_long", Situation(channel="rest")).text
    assert [reply["text"] for reply in answer.json()] == [expected, f"Je zei: {text[:50]}"]
    assert recorder.messages[0].text == text[:50]


def test_with_a_token_only_the_bearer_gets_in(recorder: Recorder) -> None:
    body = json.dumps({"sender": "a", "message": "hi"}).encode()
    with serve(GuardedRestInput(token=TOKEN), recorder) as url:
        assert post(url, body).status_code == 401
        assert post(url, body, {**JSON, "Authorization": "Bearer wrong"}).status_code == 401
        assert post(url, body, {**JSON, "Authorization": TOKEN}).status_code == 401
        assert post(url, body, {**JSON, "Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert len(recorder.messages) == 1


def test_a_failing_bot_still_gets_a_json_answer(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("agent exploded")

    secret = "mijn geheime tekst"
    with caplog.at_level(logging.ERROR), serve(GuardedRestInput(), Recorder(broken)) as url:
        answer = post(url, json.dumps({"sender": "a", "message": secret}).encode())
    assert answer.status_code == 200 and answer.json() == []
    assert "Rasa failed on a REST message" in caplog.text and secret not in caplog.text
