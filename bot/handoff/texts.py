"""The form's texts from journeys/common.yml (`handoff:`), in the visitor's situation, placeholders filled.

The business journey is formal: its visitors get the `address: formal` variants, as do visitors
who write formally.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content import JourneyBook, Reply
from bot.content.handoff import PLACEHOLDERS, HandoffSection
from bot.content.select import Button, Situation, build_reply


def section(book: JourneyBook) -> HandoffSection | None:
    """The handoff section, or None when the content has none (then the form is not offered)."""
    return book.handoff


def is_formal(book: JourneyBook, persona: str | None, address: str | None) -> bool:
    return address == "formal" or book.journey_address(persona) == "formal"


def situation(
    book: JourneyBook,
    *,
    phase: str | None,
    persona: str | None,
    address: str | None,
    channel: str,
    product: str | None = None,
) -> Situation:
    return Situation(
        phase=phase,
        product=product,
        persona=persona,
        address="formal" if is_formal(book, persona, address) else "informal",
        channel=channel,
    )


def render(
    book: JourneyBook,
    where: Situation,
    key: str,
    *,
    buttons: tuple[Button, ...] | None = None,
    **values: str,
) -> Reply:
    """One message with its placeholders filled; `buttons` replaces the content's (moment choices)."""
    handoff = section(book)
    if handoff is None:
        raise LookupError("journeys/common.yml has no handoff section")
    reply = build_reply(
        f"handoff/{key}", handoff.messages[key], where, owned_products=(), seen=0, formal=book.formal
    )
    filled = {name: values.get(name, "") for name in PLACEHOLDERS[key]}
    return replace(
        reply,
        text=reply.text.format_map(filled),
        buttons=reply.buttons if buttons is None else buttons,
    )
