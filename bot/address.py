"""The form of address a visitor uses, so the assistant answers "u" to "u" and "je" to "je"."""

from __future__ import annotations

import re

from bot.content.select import normalise

# "u"/"uw" as words, and the formal openings and closings of a letter or e-mail.
_FORMAL = re.compile(
    r"(?<!\w)(?:u|uw|geachte|hoogachtend|met vriendelijke groet(?:en)?|mvg|beste heer|beste mevrouw)(?!\w)"
)
_INFORMAL = re.compile(r"(?<!\w)(?:je|jij|jou|jouw|hoi|hey|heey|doei)(?!\w)")


def detect_address(text: str) -> str | None:
    """formal, informal, or None when the message shows neither (then the conversation keeps its form)."""
    plain = normalise(text)
    if _FORMAL.search(plain):
        return "formal"
    if _INFORMAL.search(plain):
        return "informal"
    return None
