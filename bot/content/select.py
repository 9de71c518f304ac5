"""Reply selection: the most specific variant, a rotating phrasing, and buttons the visitor still needs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from bot.analytics.arms import arm_name, assign
from bot.content.model import CONDITIONS, ButtonModel, IntentContent, Variant


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    content_id: str
    text: str
    buttons: tuple[Button, ...]
    experiment: str | None = None
    arm: str | None = None


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


@dataclass(frozen=True)
class Situation:
    """What a variant's conditions are matched against: where the visitor is and how to speak to them."""

    phase: str | None = None
    # The first subject (common.yml) the message mentions; not remembered, it is about this message.
    subject: str | None = None
    product: str | None = None
    persona: str | None = None
    address: str | None = None
    channel: str | None = None
    # Not a condition: who is asking, so an experiment shows each visitor always the same arm.
    visitor: str | None = None


_WEIGHTS = {name: 2 ** (len(CONDITIONS) - 1 - rank) for rank, name in enumerate(CONDITIONS)}


def specificity(variant: Variant) -> int:
    """Phase outweighs product, product persona, persona address, address channel, together or alone."""
    return sum(_WEIGHTS[name] for name in variant.conditions())


def fits(variant: Variant, situation: Situation) -> bool:
    return all(getattr(situation, name) == value for name, value in variant.conditions().items())


def choose_variant(content: IntentContent, situation: Situation) -> Variant:
    """The fitting variant with the most decisive conditions; the first of equals (validation flags those)."""
    best: Variant | None = None
    for variant in content.replies:
        if fits(variant, situation) and (best is None or specificity(variant) > specificity(best)):
            best = variant
    if best is None:
        raise LookupError("content has no default variant")
    return best


def _visible_buttons(buttons: list[ButtonModel], owned: Collection[str], selling: bool) -> tuple[Button, ...]:
    """No sales buttons after a purchase, and none for a product the visitor already owns."""
    return tuple(
        Button(title=button.title, payload=button.payload)
        for button in buttons
        if not (button.sales and (not selling or (button.product is not None and button.product in owned)))
    )


def variant_id(base_id: str, variant: Variant) -> str:
    conditions = variant.conditions()
    return base_id + "/" + ("&".join(f"{name}={value}" for name, value in conditions.items()) or "default")


def build_reply(
    base_id: str,
    content: IntentContent,
    situation: Situation,
    *,
    owned_products: Collection[str],
    seen: int,
    selling: bool = True,
    formal: Callable[[str], str] | None = None,
) -> Reply:
    """`seen`: how often this visitor got this content before, so asking again gives the next phrasing
    (an experiment's variant instead always gives the visitor's own arm).

    `selling` is False in the phases after a purchase: then no button sells anything. `formal`
    turns a je-form text into the u-form when the visitor writes formally and no variant was written
    for that.
    """
    variant = choose_variant(content, situation)
    index = seen % len(variant.text)
    arm = None
    if variant.experiment is not None:
        index = assign(variant.experiment, situation.visitor, len(variant.text)) if situation.visitor else 0
        arm = arm_name(index)
    buttons = variant.buttons or content.buttons
    text = variant.text[index]
    if formal is not None and situation.address == "formal" and variant.address is None:
        text = formal(text)
    return Reply(
        content_id=f"{variant_id(base_id, variant)}#{index + 1}",
        text=text,
        buttons=_visible_buttons(buttons, owned_products, selling),
        experiment=variant.experiment,
        arm=arm,
    )
