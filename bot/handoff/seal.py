"""Contact data sealed with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`, which Rasa ships).

Name and phone number are sealed in the database and in the form's slots: Rasa's conversation
store masks phone numbers in slot values, so a number kept in clear would come back as
"[telefoon]" on the next message. A sealed value is hex, which no masking pattern changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken

PREFIX = "sealed-"


class Sealer:
    def __init__(self, key: str) -> None:
        """`key`: HANDOFF_KEY (or a key derived from PSEUDONYM_KEY, see bot.settings.handoff_key)."""
        if len(key) < 16:
            raise ValueError("the handoff key needs at least 16 characters")
        raw = hmac.new(key.encode("utf-8"), b"handoff-contact-data", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(raw))

    def seal(self, value: str) -> str:
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).hex()

    def open(self, sealed: object) -> str | None:
        """The clear value, or None for anything that is not a value sealed with this key."""
        if not isinstance(sealed, str) or not sealed.startswith(PREFIX):
            return None
        try:
            return self._fernet.decrypt(bytes.fromhex(sealed[len(PREFIX) :])).decode("utf-8")
        except (InvalidToken, ValueError):
            return None
