"""Pure rendering rules shared by the WhatsApp and Twilio connectors (no I/O, so they are unit tested)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

WHATSAPP_TEXT_LIMIT = 4096
WHATSAPP_BODY_LIMIT = 1024
WHATSAPP_MAX_BUTTONS = 3
WHATSAPP_MAX_ROWS = 10
WHATSAPP_BUTTON_TITLE_LIMIT = 20
WHATSAPP_BUTTON_ID_LIMIT = 256
WHATSAPP_ROW_TITLE_LIMIT = 24
WHATSAPP_ROW_DESCRIPTION_LIMIT = 72
WHATSAPP_ROW_ID_LIMIT = 200
WHATSAPP_LIST_BUTTON_TEXT = "Kies een optie"
WHATSAPP_CHOOSE_PROMPT = "Kies een optie:"
SMS_TEXT_LIMIT = 1600

Button = dict[str, Any]

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_STRIKE = re.compile(r"~~(.+?)~~", re.DOTALL)
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def truncate(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters on paragraph, sentence or word boundaries.

    Channels reject over-long messages; cutting mid-sentence would make the reply hard to read.
    """
    chunks: list[str] = []
    for number, paragraph in enumerate(p.strip() for p in re.split(r"\n\s*\n", text.strip())):
        for index, piece in enumerate(_pieces(paragraph, limit)):
            separator = "\n\n" if number and not index else " "
            if chunks and len(chunks[-1]) + len(separator) + len(piece) <= limit:
                chunks[-1] += separator + piece
            elif piece:
                chunks.append(piece)
    return chunks


def _pieces(paragraph: str, limit: int) -> list[str]:
    """Break one paragraph into sentences, words or hard cuts, each at most ``limit`` characters."""
    if len(paragraph) <= limit:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        for word in sentence.split():
            pieces.extend(word[i : i + limit] for i in range(0, len(word), limit))
    return pieces


def whatsapp_markdown(text: str) -> str:
    """Translate the content's Markdown into WhatsApp's own markup (*bold*, ~strike~, bare links)."""
    text = _LINK.sub(r"\1 (\2)", text)
    return _STRIKE.sub(r"~\1~", _BOLD.sub(r"*\1*", text))


def plain_text(text: str) -> str:
    """Drop Markdown markup for channels that show it literally (SMS)."""
    text = _LINK.sub(r"\1 (\2)", text)
    return _STRIKE.sub(r"\1", _BOLD.sub(r"\1", text))


def options_of(buttons: Sequence[Button]) -> list[tuple[str, str]]:
    """Reduce Rasa buttons to (title, payload) pairs; a button without payload sends its title."""
    options = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        options.append((title, str(button.get("payload") or title)))
    return options


def numbered_options(buttons: Sequence[Button]) -> str:
    """List the button titles as "1. Titel" lines: customers must never see intent payloads."""
    return "\n".join(f"{number}. {title}" for number, (title, _) in enumerate(options_of(buttons), start=1))


def choose_option(text: str, options: Sequence[tuple[str, str]]) -> str | None:
    """Map a typed reply ("2", "2.", " 2 " or an option's exact title) to that option's payload."""
    wanted = text.strip().casefold()
    for title, payload in options:
        if title.casefold() == wanted:
            return payload
    match = _CHOICE.match(text)
    if match and 1 <= int(match.group(1)) <= len(options):
        return options[int(match.group(1)) - 1][1]
    return None


def sms_messages(text: str, buttons: Sequence[Button] = ()) -> list[str]:
    """Render a bot reply as SMS bodies: plain text, options numbered, split at Twilio's limit."""
    text = plain_text(text)
    if buttons:
        text = f"{text}\n\n{numbered_options(buttons)}"
    return split_text(text, SMS_TEXT_LIMIT)


def whatsapp_needs_numbers(buttons: Sequence[Button]) -> bool:
    """Tell whether buttons cannot become a WhatsApp interactive message and go out as numbered text."""
    limit = WHATSAPP_BUTTON_ID_LIMIT if len(buttons) <= WHATSAPP_MAX_BUTTONS else WHATSAPP_ROW_ID_LIMIT
    return len(buttons) > WHATSAPP_MAX_ROWS or any(len(p) > limit for _, p in options_of(buttons))


def whatsapp_messages(to: str, text: str, buttons: Sequence[Button] = ()) -> list[dict[str, Any]]:
    """Build the Graph API message bodies, in sending order, for one bot reply.

    Up to 3 buttons become reply buttons, up to 10 a list; more (or over-long payloads) become
    numbered text. An interactive body over 1024 characters is preceded by plain text messages.
    """
    text = whatsapp_markdown(text)
    if not buttons or whatsapp_needs_numbers(buttons):
        if buttons:
            text = f"{text}\n\n{numbered_options(buttons)}".strip()
        return [_whatsapp_text(to, part) for part in split_text(text, WHATSAPP_TEXT_LIMIT)]
    parts = split_text(text, WHATSAPP_BODY_LIMIT) or [WHATSAPP_CHOOSE_PROMPT]
    lead = split_text("\n\n".join(parts[:-1]), WHATSAPP_TEXT_LIMIT)
    return [*(_whatsapp_text(to, part) for part in lead), _whatsapp_interactive(to, parts[-1], buttons)]


def _envelope(to: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: body,
    }


def _whatsapp_text(to: str, text: str) -> dict[str, Any]:
    return _envelope(to, "text", {"preview_url": "http" in text, "body": text})


def _whatsapp_interactive(to: str, body: str, buttons: Sequence[Button]) -> dict[str, Any]:
    options = options_of(buttons)
    if len(options) <= WHATSAPP_MAX_BUTTONS:
        replies = [
            {"type": "reply", "reply": {"id": payload, "title": truncate(title, WHATSAPP_BUTTON_TITLE_LIMIT)}}
            for title, payload in options
        ]
        return _envelope(
            to, "interactive", {"type": "button", "body": {"text": body}, "action": {"buttons": replies}}
        )
    rows = []
    for title, payload in options:
        row = {"id": payload, "title": truncate(title, WHATSAPP_ROW_TITLE_LIMIT)}
        if len(title) > WHATSAPP_ROW_TITLE_LIMIT:
            row["description"] = truncate(title, WHATSAPP_ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    action = {"button": WHATSAPP_LIST_BUTTON_TEXT, "sections": [{"title": "Opties", "rows": rows}]}
    return _envelope(to, "interactive", {"type": "list", "body": {"text": body}, "action": action})
