"""WhatsApp webhook in a real Sanic server: verification, signatures, size limit, malformed bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from rasa.shared.exceptions import RasaException

from bot.channels.whatsapp import WhatsAppInput
from tests.channels.fake_graph import FakeGraphServer
from tests.channels.sanic_server import Recorder
from tests.channels.whatsapp_webhook import (
    PATH,
    PHONE,
    VERIFY,
    envelope,
    post,
    settle,
    signature,
    text,
)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 200),
        ({"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1158201444"}, 403),
        ({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}, 403),
        ({"hub.mode": "subscribe", "hub.challenge": "1158201444"}, 403),
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY}, 403),
    ],
)
def test_verification_handshake(url: str, params: dict[str, str], status: int) -> None:
    answer = httpx.get(url + PATH, params=params)
    assert answer.status_code == status
    if status == 200:
        assert answer.text == "1158201444" and answer.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Hub-Signature-256": ""},
        {"X-Hub-Signature-256": signature(b"other body")},
        {"X-Hub-Signature-256": "sha256=zz"},
    ],
    ids=["missing", "other-body", "garbage"],
)
def test_bad_signature_is_refused_and_logged(
    url: str, recorder: Recorder, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.channels.whatsapp"):
        assert post(url, envelope(text("ongetekend")), headers).status_code == 403
    assert "X-Hub-Signature-256" in caplog.text
    assert settle(url, recorder, 0) == []


def test_signature_with_another_secret_is_refused(url: str, recorder: Recorder) -> None:
    body = json.dumps(envelope(text("vals"))).encode()
    assert post(url, body, {"X-Hub-Signature-256": signature(body, "other-secret")}).status_code == 403
    assert settle(url, recorder, 0) == []


def test_body_over_one_megabyte_is_refused(url: str, recorder: Recorder) -> None:
    big = json.dumps(envelope(text("x" * (1024 * 1024)))).encode()
    assert post(url, big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming too
        yield from (big[i : i + 65536] for i in range(0, len(big), 65536))

    streamed = httpx.post(url + PATH, content=chunks(), headers={"X-Hub-Signature-256": signature(big)})
    assert streamed.status_code == 413
    assert settle(url, recorder, 0) == []


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"", b'"tekst"'])
def test_malformed_json_is_a_bad_request(url: str, body: bytes) -> None:
    assert post(url, body).status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "whatsapp_business_account"},
        {"entry": "not a list"},
        {
            "entry": [
                {
                    "changes": [
                        {"value": {"messages": [{"type": "text", "text": {"body": "zonder afzender"}}]}}
                    ]
                }
            ]
        },
        {"entry": [{"changes": [{"value": {"messages": [{"from": PHONE, "type": "text"}]}}]}]},
        {"entry": [None, {"changes": [None, {"value": None}]}]},
    ],
    ids=["no-entry", "entry-not-list", "no-sender", "no-id", "nulls"],
)
def test_missing_fields_are_ignored_with_200(
    url: str, recorder: Recorder, graph: FakeGraphServer, payload: dict[str, Any]
) -> None:
    assert post(url, payload).status_code == 200
    assert settle(url, recorder, 0) == []
    assert graph.requests == []


def test_statuses_are_ignored(url: str, recorder: Recorder, graph: FakeGraphServer) -> None:
    statuses = [{"id": "wamid.x", "status": "delivered", "recipient_id": PHONE, "timestamp": "1700000001"}]
    assert post(url, envelope(statuses=statuses)).status_code == 200
    assert settle(url, recorder, 0) == []
    assert graph.requests == []


def test_messages_for_another_business_number_are_ignored(url: str, recorder: Recorder) -> None:
    payload = envelope(text("verkeerd nummer"))
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert post(url, payload).status_code == 200
    assert settle(url, recorder, 0) == []


@pytest.mark.usefixtures("conversation_key")
def test_from_credentials_requires_the_secrets() -> None:
    with pytest.raises(RasaException, match="app_secret"):
        WhatsAppInput.from_credentials({"verify_token": "v", "access_token": "a", "phone_number_id": "1"})
    built = WhatsAppInput.from_credentials(
        {
            "verify_token": "v",
            "app_secret": "s",
            "access_token": "a",
            "phone_number_id": "1",
            "api_base": None,
        }
    )
    assert isinstance(built, WhatsAppInput) and built.api_base == "https://graph.facebook.com/v19.0"
    assert WhatsAppInput.name() == "whatsapp" and built.url_prefix() == "whatsapp"
