"""Log redaction for the Rasa and action servers: no customer text, personal data or secret in a log line.

Installed as the process's log record factory rather than as a handler filter, because Rasa,
Sanic and rasa_sdk each replace handlers while they start; the factory sees every record of
every logger, before any handler formats it. Each record is rendered once, then:

- a Rasa structured (JSON) line has the fields Rasa itself lists as customer text (`text`,
  `user_message`, `parse_data_text`, slot values, ...) replaced by their length, and the local
  variables of traceback frames dropped;
- e-mail addresses, phone numbers, IBANs and postcodes are masked (bot.privacy.mask), configured
  secrets and `token=` query values are replaced by `[secret]`;
- the message is capped at MAX_MESSAGE_CHARS and a traceback at MAX_TRACEBACK_CHARS (its tail,
  where the exception is).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from bot.privacy import mask
from bot.settings import secret_values

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 8000

# The keys rasa.utils.log_utils._anonymizer treats as customer data, and a few more of the same kind.
CUSTOMER_TEXT_KEYS = frozenset(
    {
        "text",
        "response_text",
        "user_text",
        "slot_values",
        "parse_data_text",
        "parse_data_entities",
        "prediction_events",
        "tracker_latest_message",
        "prefilled_slots",
        "message",
        "response",
        "slot_candidates",
        "rasa_event",
        "rasa_events",
        "tracker_states",
        "current_states",
        "old_states",
        "successes",
        "current_entity",
        "next_entity",
        "states",
        "entity",
        "token_text",
        "user_message",
        "json_message",
        "metadata",
        "body",
    }
)
_TOKEN_PARAMETER = re.compile(r"(?i)\b(token|access_token|auth_token|hub\.verify_token)=[^&\s'\"]+")


def cap(text: str, limit: int, *, keep_tail: bool = False) -> str:
    """At most `limit` characters, saying how many were cut."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    return f"[{cut} chars cut] ... {text[-limit:]}" if keep_tail else f"{text[:limit]} ... [{cut} chars cut]"


def _length_of(value: Any) -> str:
    size = len(value) if isinstance(value, str | list | dict | tuple) else len(str(value))
    return f"[{size} chars]" if isinstance(value, str) else f"[{type(value).__name__} of {size}]"


def _redact_fields(value: Any) -> Any:
    """Customer-text fields become their length; traceback frame locals are dropped."""
    if isinstance(value, dict):
        return {
            key: _length_of(item) if key in CUSTOMER_TEXT_KEYS and item else _redact_fields(item)
            for key, item in value.items()
            if key != "locals"
        }
    if isinstance(value, list):
        return [_redact_fields(item) for item in value]
    return value


def _redact_structured(message: str) -> str:
    """Rasa's structlog lines are JSON objects; anything else is left to the text masking."""
    if not message.startswith("{"):
        return message
    try:
        data = json.loads(message)
    except ValueError:
        return message
    if not isinstance(data, dict):
        return message
    return json.dumps(_redact_fields(data), ensure_ascii=False)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Personal data masked, secrets replaced: for any text on its way into a log."""
    for secret in secrets:
        text = text.replace(secret, "[secret]")
    text = _TOKEN_PARAMETER.sub(r"\1=[secret]", text)
    return mask(text)


def redact_record(record: logging.LogRecord, secrets: Iterable[str]) -> None:
    """Render the record's message (and traceback) once, redacted and capped, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed %-format must not lose the line, nor leak its arguments
        message = f"unformattable log message from {record.name} ({len(str(record.msg))} chars)"
    record.msg = cap(scrub(_redact_structured(message), secrets), MAX_MESSAGE_CHARS)
    record.args = None
    if record.exc_info and record.exc_info[1] is not None:
        rendered = "".join(traceback.format_exception(*record.exc_info))
        record.exc_text = cap(scrub(rendered, secrets), MAX_TRACEBACK_CHARS, keep_tail=True).rstrip("\n")
    if record.stack_info:
        record.stack_info = cap(scrub(record.stack_info, secrets), MAX_TRACEBACK_CHARS, keep_tail=True)


def install() -> None:
    """Redact every log record of this process from now on (idempotent); secrets come from the environment."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacting", False):
        return
    secrets = sorted(secret_values(), key=len, reverse=True)

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        redact_record(record, secrets)
        return record

    redacting: Callable[..., logging.LogRecord] = redacting_factory
    redacting.redacting = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(redacting)
