"""The channels as Rasa builds them from credentials.yml (${ENV} placeholders) and mounts them."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasa.shared.utils.io
from rasa.core.run import configure_app, create_http_input_channels
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from bot.channels.socketio import FixedSocketIOInput
from bot.channels.twilio import SignedTwilioInput
from bot.channels.whatsapp import WhatsAppInput

# The credentials.yml these channels expect. Placeholders must stay unquoted: Rasa 3.6 only
# substitutes ${VAR} in plain YAML scalars, a quoted "${VAR}" stays literal.
CREDENTIALS = """\
rest:

bot.channels.socketio.FixedSocketIOInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
  metadata_key: customData

bot.channels.whatsapp.WhatsAppInput:
  verify_token: ${WHATSAPP_VERIFY_TOKEN}
  app_secret: ${WHATSAPP_APP_SECRET}
  access_token: ${WHATSAPP_ACCESS_TOKEN}
  phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}
  api_base: ${WHATSAPP_API_BASE}

bot.channels.twilio.SignedTwilioInput:
  account_sid: ${TWILIO_ACCOUNT_SID}
  auth_token: ${TWILIO_AUTH_TOKEN}
  twilio_number: ${TWILIO_NUMBER}
  public_url: ${TWILIO_PUBLIC_URL}
"""

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
}


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "credentials.yml"
    path.write_text(CREDENTIALS, encoding="utf-8")
    return str(path)


def test_rasa_builds_our_channels_with_values_from_the_environment(credentials: str) -> None:
    channels = {type(c): c for c in create_http_input_channels(None, credentials)}
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


def test_an_unset_variable_stops_rasa_with_its_name(
    credentials: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WHATSAPP_APP_SECRET")
    with pytest.raises(RasaException, match="WHATSAPP_APP_SECRET"):
        create_http_input_channels(None, credentials)


def test_quoted_placeholders_are_not_substituted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_APP_SECRET", "secret-1")
    parsed = rasa.shared.utils.io.read_yaml(
        'plain: ${WHATSAPP_APP_SECRET}\nquoted: "${WHATSAPP_APP_SECRET}"\n'
    )
    assert parsed == {"plain": "secret-1", "quoted": "${WHATSAPP_APP_SECRET}"}


def test_channel_names_give_the_webhook_routes(credentials: str) -> None:
    Sanic.test_mode = True  # Rasa names every app "rasa_server"; allow a second one in this process
    app = configure_app(create_http_input_channels(None, credentials), enable_api=False)
    paths = {"/" + route.path.rstrip("/") for route in app.router.routes}
    assert {"/webhooks/whatsapp/webhook", "/webhooks/twilio/webhook", "/webhooks/socketio"} <= paths
    assert {c.name() for c in app.ctx.input_channels} == {"rest", "socketio", "whatsapp", "twilio"}
