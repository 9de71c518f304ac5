"""The conversation id Rasa sees, derived per channel, so no channel can address another's conversations.

Phone numbers never become conversation ids: WhatsApp and Twilio ids are ``whatsapp:`` / ``sms:`` plus a
keyed hash (HMAC-SHA256 with CONVERSATION_KEY) of the number's digits. Web ids are ``web:`` plus the
widget's session id. REST ids stay as the caller gives them but may not contain ``:``, so they can
never equal an id of another channel. No Rasa import: ``journey forget`` uses this too.
"""

from __future__ import annotations

import hashlib
import hmac
import re

HASH_HEX_CHARS = 32
MAX_RAW_ID_CHARS = 128
PHONE_CHANNELS = ("whatsapp", "sms")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def rest_sender_problem(sender: object) -> str | None:
    """Why ``sender`` cannot be a REST conversation id, or None when it can."""
    if not isinstance(sender, str):
        return "sender must be a string"
    if not sender.strip():
        return "sender is required"
    if len(sender) > MAX_RAW_ID_CHARS:
        return f"sender is longer than {MAX_RAW_ID_CHARS} characters"
    if ":" in sender:
        return "sender may not contain ':' (reserved for the other channels' conversation ids)"
    if _CONTROL.search(sender):
        return "sender may not contain control characters"
    return None


def phone_digits(number: str) -> str:
    """The digits of a phone number, so "+31 6 1234 5678", "whatsapp:+31612345678" and "31612345678" agree."""
    return "".join(ch for ch in number if ch.isdigit())


def conversation_id(channel: str, raw_id: str, key: str) -> str:
    """The conversation id for ``raw_id`` (phone number, widget session id, REST sender) on ``channel``.

    ``channel`` is a product channel: ``whatsapp``, ``sms`` (Twilio), ``web`` (socket.io) or ``rest``.
    Phone numbers should be international ("+31612345678"); a national "0612..." hashes differently.
    """
    if channel in PHONE_CHANNELS:
        digits = phone_digits(raw_id)
        if not digits:
            raise ValueError(f"a {channel} id must be a phone number")
        if not key:
            raise ValueError("a conversation key is required")
        message = f"{channel}\x00{digits}".encode()
        digest = hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()
        return f"{channel}:{digest[:HASH_HEX_CHARS]}"
    if channel == "web":
        if not raw_id or len(raw_id) > MAX_RAW_ID_CHARS:
            raise ValueError("a web session id must have 1 to 128 characters")
        return f"web:{raw_id}"
    if channel == "rest":
        problem = rest_sender_problem(raw_id)
        if problem:
            raise ValueError(problem)
        return raw_id
    raise ValueError(f"unknown channel {channel!r}: use whatsapp, sms, web or rest")
