"""Encryption of the inbox payload: phone number and text are at rest only encrypted, and briefly.

The inbox must keep the clear text until Rasa has read it (masking would change what the customer
said), so it keeps it sealed with a key derived from CONVERSATION_KEY and erases it once handled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class SealError(ValueError):
    """A payload that cannot be opened: another key (rotated) or a damaged value."""


class Sealer:
    """Seals and opens JSON payloads with Fernet (AES-128-CBC with an HMAC)."""

    def __init__(self, secret: str) -> None:
        derived = hmac.new(secret.encode("utf-8"), b"inbox-payload-key", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, payload: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(payload).encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            opened = json.loads(self._fernet.decrypt(sealed.encode("ascii")))
        except (InvalidToken, ValueError) as problem:
            raise SealError("the inbox payload cannot be opened (another CONVERSATION_KEY?)") from problem
        if not isinstance(opened, dict):
            raise SealError("the inbox payload is not an object")
        return opened
