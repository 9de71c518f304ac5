"""Rasa input channels and the mapping from Rasa's channel names to product channels."""

from __future__ import annotations

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
