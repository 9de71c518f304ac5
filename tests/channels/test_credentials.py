"""The channels as Rasa builds them from credentials.yml and credentials.production.yml and mounts them."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasa.shared.utils.io
from rasa.core.run import configure_app, create_http_input_channels
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from bot.channels.chatwoot import ChatwootInput
from bot.channels.rest import GuardedRestInput
from bot.channels.socketio import FixedSocketIOInput
from bot.channels.twilio import SignedTwilioInput
from bot.channels.whatsapp import WhatsAppInput
from bot.settings import PROJECT_ROOT

DEVELOPMENT = PROJECT_ROOT / "credentials.yml"
PRODUCTION = PROJECT_ROOT / "credentials.production.yml"

ENV = {
    "WHATSAPP_VERIFY_TOKEN": "verify-1",
    "WHATSAPP_APP_SECRET": "secret-1",
    "WHATSAPP_ACCESS_TOKEN": "access-1",
    "WHATSAPP_PHONE_NUMBER_ID": "000000000000000",
    "WHATSAPP_API_BASE": "http://127.0.0.1:9/v19.0",
    "TWILIO_ACCOUNT_SID": "ACdevelopment",
    "TWILIO_AUTH_TOKEN": "twilio-1",
    "TWILIO_NUMBER": "+310000000000",
    "TWILIO_PUBLIC_URL": "",
    "REDIS_URL": "",
    "CONVERSATION_KEY": "conversation-key-for-tests",
    "REST_TOKEN": "rest-token-for-the-tests",
    "SOCKETIO_JWT_KEY": "jwt-key-for-the-tests-32-bytes-long",
}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)


def built(path: Path) -> dict[type, object]:
    return {type(c): c for c in create_http_input_channels(None, str(path))}


def test_rasa_builds_our_channels_with_values_from_the_environment() -> None:
    channels = built(DEVELOPMENT)
    assert set(channels) == {
        GuardedRestInput,
        FixedSocketIOInput,
        WhatsAppInput,
        SignedTwilioInput,
        ChatwootInput,
    }
    whatsapp = channels[WhatsAppInput]
    assert isinstance(whatsapp, WhatsAppInput)
    assert (whatsapp.verify_token, whatsapp.phone_number_id) == ("verify-1", "000000000000000")
    assert whatsapp.api_base == "http://127.0.0.1:9/v19.0"
    twilio = channels[SignedTwilioInput]
    assert isinstance(twilio, SignedTwilioInput)
    assert (twilio.auth_token, twilio.twilio_number, twilio.public_url) == ("twilio-1", "+310000000000", None)
    socket = channels[FixedSocketIOInput]
    assert isinstance(socket, FixedSocketIOInput)
    assert socket.session_persistence is True and socket.metadata_key == "customData"
    assert (socket.jwt_key, socket.jwt_algorithm) == (
        ENV["SOCKETIO_JWT_KEY"],
        "HS256",
    )  # /chat-token issues it
    rest = channels[GuardedRestInput]
    assert isinstance(rest, GuardedRestInput) and rest.token is None


def test_the_production_profile_needs_a_rest_token_and_a_socket_jwt() -> None:
    channels = built(PRODUCTION)
    rest, socket = channels[GuardedRestInput], channels[FixedSocketIOInput]
    assert isinstance(rest, GuardedRestInput) and rest.token == ENV["REST_TOKEN"]
    assert isinstance(socket, FixedSocketIOInput)
    assert (socket.jwt_key, socket.jwt_algorithm) == (ENV["SOCKETIO_JWT_KEY"], "HS256")
    assert set(built(DEVELOPMENT)) == set(channels)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REST_TOKEN", "", "REST_TOKEN"),
        ("REST_TOKEN", "short", "REST_TOKEN"),
        ("SOCKETIO_JWT_KEY", "", "SOCKETIO_JWT_KEY"),
    ],
)
def test_an_empty_production_secret_stops_rasa(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(RasaException, match=message):
        create_http_input_channels(None, str(PRODUCTION))


@pytest.mark.parametrize("path", [DEVELOPMENT, PRODUCTION], ids=["development", "production"])
def test_an_unset_variable_stops_rasa_with_its_name(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    with pytest.raises(RasaException, match="WHATSAPP_APP_SECRET"):
        create_http_input_channels(None, str(path))


def test_quoted_placeholders_are_not_substituted() -> None:
    parsed = rasa.shared.utils.io.read_yaml(
        'plain: ${WHATSAPP_APP_SECRET}\nquoted: "${WHATSAPP_APP_SECRET}"\n'
    )
    assert parsed == {"plain": "secret-1", "quoted": "${WHATSAPP_APP_SECRET}"}


def test_channel_names_give_the_webhook_routes() -> None:
    Sanic.test_mode = True  # Rasa names every app "rasa_server"; allow a second one in this process
    app = configure_app(create_http_input_channels(None, str(DEVELOPMENT)), enable_api=False)
    paths = {"/" + route.path.rstrip("/") for route in app.router.routes}
    assert {
        "/webhooks/rest/webhook",
        "/webhooks/whatsapp/webhook",
        "/webhooks/twilio/webhook",
        "/webhooks/socketio",
    } <= paths
    assert {c.name() for c in app.ctx.input_channels} == {
        "rest",
        "socketio",
        "whatsapp",
        "twilio",
        "chatwoot",
    }
