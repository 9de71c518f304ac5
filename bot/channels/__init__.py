"""Rasa input channels and the mapping from Rasa's channel names to product channels."""

from __future__ import annotations

from typing import Any

_PRODUCT_CHANNELS: dict[str, str] = {
    "socketio": "web",
    "web": "web",
    "whatsapp": "whatsapp",
    "twilio": "sms",
    "twilio_signed": "sms",
}


def channel_of(input_channel: str | None) -> str:
    """Name the product channel (web, whatsapp, sms, rest) for a Rasa input channel."""
    return _PRODUCT_CHANNELS.get((input_channel or "").lower(), "rest")


def required_credentials(
    credentials: dict[str, Any] | None, required: tuple[str, ...], channel: str
) -> dict[str, str]:
    """The channel's required credentials as strings; a clear error names every one that is missing."""
    from rasa.shared.exceptions import RasaException

    given = credentials or {}
    missing = [key for key in required if not given.get(key)]
    if missing:
        raise RasaException(f"The {channel} channel needs these credentials (credentials.yml): {missing}")
    return {key: str(given[key]) for key in required}
