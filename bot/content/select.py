"""Reply selection: the most specific variant, a rotating phrasing, and buttons the visitor still needs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from bot.content.model import ButtonModel, IntentContent, Variant


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    content_id: str
    text: str
    buttons: tuple[Button, ...]


def normalise(text: str) -> str:
    """Case- and accent-insensitive form, so 'Séniór' and 'senior' are the same keyword."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.split())


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """Whole words only, so 'pv' does not fire inside 'pvc'; the longest keyword is tried first."""
    words = sorted({normalise(word) for word in keywords if normalise(word)}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)")


def choose_variant(content: IntentContent, persona: str | None, channel: str | None) -> Variant:
    """persona+channel, then persona, then channel, then the default; validation guarantees a default."""
    for key in ((persona, channel), (persona, None), (None, channel), (None, None)):
        for variant in content.replies:
            if (variant.persona, variant.channel) == key:
                return variant
    raise LookupError("content has no default variant")


def _visible_buttons(buttons: list[ButtonModel], owned: Collection[str]) -> tuple[Button, ...]:
    return tuple(
        Button(title=button.title, payload=button.payload)
        for button in buttons
        if not (button.sales and button.product is not None and button.product in owned)
    )


def build_reply(
    base_id: str,
    content: IntentContent,
    *,
    persona: str | None,
    channel: str | None,
    owned_products: Collection[str],
    turn: int,
) -> Reply:
    variant = choose_variant(content, persona, channel)
    index = turn % len(variant.text)
    parts = [base_id]
    if variant.persona is not None:
        parts.append(f"persona={variant.persona}")
    if variant.channel is not None:
        parts.append(f"channel={variant.channel}")
    if len(parts) == 1:
        parts.append("default")
    buttons = variant.buttons or content.buttons
    return Reply(
        content_id="/".join(parts) + f"#{index + 1}",
        text=variant.text[index],
        buttons=_visible_buttons(buttons, owned_products),
    )
