"""Signed Twilio channel in a real Sanic server, replying to a local stand-in for Twilio's API."""

from __future__ import annotations

import base64
import logging
import uuid
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage
from twilio.request_validator import RequestValidator

from bot.channels.http import RetryPolicy
from bot.channels.twilio import SignedTwilioInput
from bot.conversation_ids import conversation_id
from tests.channels.fake_graph import FakeGraphServer
from tests.channels.sanic_server import Recorder, serve

SID = "ACtest"
TOKEN = "twilio-auth-token"
NUMBER = "+3197000000000"
SENDER = "+31612345678"
PATH = "/webhooks/twilio/webhook"
CONVERSATION_KEY = "conversation-key-for-tests"
OPTIONS = [
    {"title": "Bereken je besparing", "payload": "/savings"},
    {"title": "Vraag offerte aan", "payload": "/quote_request"},
]


async def offer_options(message: UserMessage) -> None:
    """Answer like the bot: a question with two buttons, whatever was asked."""
    if message.text and not message.text.startswith("/"):
        await message.output_channel.send_text_with_buttons(message.sender_id, "Wat wil je doen?", OPTIONS)


def channel(api: FakeGraphServer, **overrides: Any) -> SignedTwilioInput:
    settings: dict[str, Any] = {
        "api_base": api.url,
        "retry": RetryPolicy(attempts=2, base_delay=0.01),
        "conversation_key": CONVERSATION_KEY,
    }
    return SignedTwilioInput(SID, TOKEN, NUMBER, **{**settings, **overrides})


def post(
    base: str, form: dict[str, str], signed_url: str | None = None, token: str = TOKEN
) -> httpx.Response:
    signature = RequestValidator(token).compute_signature(signed_url or base + PATH, form)
    return httpx.post(base + PATH, data=form, headers={"X-Twilio-Signature": signature})


def sms(body: str) -> dict[str, str]:
    """A new message: Twilio gives every message its own MessageSid (a retry keeps it)."""
    return {
        "From": SENDER,
        "To": NUMBER,
        "Body": body,
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": SID,
    }


@pytest.fixture
def api(graph: FakeGraphServer) -> FakeGraphServer:
    """The local stand-in, here for Twilio's Messages API."""
    return graph


def test_valid_signature_is_accepted(api: FakeGraphServer) -> None:
    recorder = Recorder()
    with serve(channel(api), recorder) as base:
        assert post(base, sms("Hoeveel kost een warmtepomp?")).status_code == 204
    [received] = recorder.messages
    assert (received.text, received.sender_id, received.input_channel) == (
        "Hoeveel kost een warmtepomp?",
        conversation_id("sms", SENDER, CONVERSATION_KEY),
        "twilio",
    )
    assert received.sender_id.startswith("sms:") and SENDER[1:] not in received.sender_id


@pytest.mark.parametrize(
    "tamper",
    [
        lambda base, form: httpx.post(base + PATH, data=form),
        lambda base, form: httpx.post(base + PATH, data=form, headers={"X-Twilio-Signature": "bm9wZQ=="}),
        lambda base, form: post(base, form, token="another-token"),
        lambda base, form: httpx.post(
            base + PATH,
            data={**form, "Body": "andere tekst"},
            headers={"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(base + PATH, form)},
        ),
    ],
    ids=["missing", "garbage", "other-token", "tampered-body"],
)
def test_wrong_signature_is_refused_and_logged(
    api: FakeGraphServer, tamper: Any, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    with (
        caplog.at_level(logging.WARNING, logger="bot.channels.twilio"),
        serve(channel(api), recorder) as base,
    ):
        assert tamper(base, sms("Hallo")).status_code == 403
    assert recorder.messages == []
    assert "X-Twilio-Signature" in caplog.text


def test_signature_is_checked_against_the_public_url_behind_a_proxy(api: FakeGraphServer) -> None:
    public = "https://bot.zonwarmte.example/webhooks/twilio/webhook"
    recorder = Recorder()
    with serve(channel(api, public_url=public), recorder) as base:
        assert post(base, sms("via proxy"), signed_url=public).status_code == 204
        assert post(base, sms("direct"), signed_url=base + PATH).status_code == 403
    assert [m.text for m in recorder.messages] == ["via proxy"]


def test_buttons_go_out_as_numbered_options_without_payloads(api: FakeGraphServer) -> None:
    with serve(channel(api), Recorder(offer_options)) as base:
        assert post(base, sms("Wat kan ik doen?")).status_code == 204
    [request] = api.requests
    assert request.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    assert request.form == {
        "To": SENDER,
        "From": NUMBER,
        "Body": "Wat wil je doen?\n\n1. Bereken je besparing\n2. Vraag offerte aan",
    }


@pytest.mark.parametrize("typed", ["2", "2.", " 2 ", "vraag offerte aan"])
def test_a_typed_number_maps_to_the_payload_of_that_option(api: FakeGraphServer, typed: str) -> None:
    recorder = Recorder(offer_options)
    with serve(channel(api), recorder) as base:
        post(base, sms("Wat kan ik doen?"))
        post(base, sms(typed))
        post(base, sms("2"))  # the options were used up: a later "2" is just text (e.g. an NPS score)
    assert [m.text for m in recorder.messages] == ["Wat kan ik doen?", "/quote_request", "2"]


def test_a_number_out_of_range_stays_text(api: FakeGraphServer) -> None:
    recorder = Recorder(offer_options)
    with serve(channel(api), recorder) as base:
        post(base, sms("Wat kan ik doen?"))
        post(base, sms("3"))
    assert [m.text for m in recorder.messages][1] == "3"


def test_options_sent_by_one_worker_are_mapped_by_another_with_redis(
    api: FakeGraphServer, redis_url: str
) -> None:
    first, second = Recorder(offer_options), Recorder()
    with serve(channel(api, redis_url=redis_url), first) as worker_a:
        post(worker_a, sms("Wat kan ik doen?"))
    with serve(channel(api, redis_url=redis_url), second) as worker_b:
        post(worker_b, sms("1"))
    assert [m.text for m in second.messages] == ["/savings"]


def test_a_failing_bot_does_not_break_the_webhook(
    api: FakeGraphServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(message: UserMessage) -> None:
        raise RuntimeError("agent exploded")

    with caplog.at_level(logging.ERROR), serve(channel(api), Recorder(broken)) as base:
        assert post(base, sms("Hallo")).status_code == 204
    assert "Rasa failed on a Twilio message" in caplog.text


def test_messages_without_text_are_ignored(api: FakeGraphServer) -> None:
    recorder = Recorder()
    with serve(channel(api), recorder) as base:
        assert post(base, {"From": SENDER, "NumMedia": "1"}).status_code == 204
    assert recorder.messages == []


def test_failed_sends_are_logged_not_raised(api: FakeGraphServer, caplog: pytest.LogCaptureFixture) -> None:
    api.fail(500, times=5)
    with caplog.at_level(logging.ERROR), serve(channel(api), Recorder(offer_options)) as base:
        assert post(base, sms("Hallo")).status_code == 204
    assert "Twilio message to …678 failed after 2 attempts: HTTP 500" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.usefixtures("conversation_key")
def test_name_route_and_debug_mode() -> None:
    built = SignedTwilioInput.from_credentials(
        {"account_sid": SID, "auth_token": TOKEN, "twilio_number": NUMBER, "public_url": ""}
    )
    assert isinstance(built, SignedTwilioInput)
    assert built.name() == "twilio" and built.url_prefix() == "twilio"
    assert built.debug_mode is False and built.public_url is None
    assert built.get_output_channel().name() == "twilio"
