"""Log redaction: personal data, customer text fields and secrets never reach a log line, lines are capped."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs

SECRET = "s3cret-token-of-the-rasa-api-0123"


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A real logger with a stream handler, in a process with the redaction installed (then removed)."""
    monkeypatch.setenv("RASA_AUTH_TOKEN", SECRET)
    original = logging.getLogRecordFactory()
    logs.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test.logs.{id(stream)}")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, stream
    finally:
        logging.setLogRecordFactory(original)
        logger.removeHandler(handler)


def test_personal_data_and_secrets_are_masked_in_messages_and_arguments(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.warning("user %s wrote: bel 06-12345678 of mail %s", "visitor-1", "jan@example.com")
    logger.error("GET /conversations/x/tracker?token=%s failed; key %s", "abcdef123456", SECRET)
    out = stream.getvalue()
    assert "06-12345678" not in out and "jan@example.com" not in out
    assert "[telefoon]" in out and "[e-mail]" in out and "visitor-1" in out
    assert SECRET not in out and "abcdef123456" not in out
    assert "token=[secret]" in out


def test_a_traceback_is_masked_too(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    try:
        raise ValueError("cannot parse NL91ABNA0417164300 for 1234 AB")
    except ValueError:
        logger.exception("parsing failed")
    out = stream.getvalue()
    assert "Traceback" in out and "ValueError" in out
    assert "NL91ABNA0417164300" not in out and "1234 AB" not in out


def test_rasa_structured_lines_keep_the_event_but_not_the_customer_text(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    customer_text = "ik heb een klacht over mijn warmtepomp en ben er klaar mee"
    line = {
        "event": "rest.message.received.failure",
        "text": customer_text,
        "level": "error",
        "exception": [{"frames": [{"name": "handler", "locals": {"text": customer_text}}]}],
    }
    logger.error(json.dumps(line))
    out = stream.getvalue()
    assert customer_text not in out
    assert "rest.message.received.failure" in out
    assert f"[{len(customer_text)} chars]" in out, "the length stays, for debugging"


def test_long_lines_are_capped(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logger.info("body: %s", "x" * 100_000)
    out = stream.getvalue()
    assert len(out) < logs.MAX_MESSAGE_CHARS + 100
    assert "chars cut" in out


def test_a_broken_format_string_is_logged_without_its_arguments(
    log: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log
    logger.info("two %s %s", "only-one-jan@example.com")
    out = stream.getvalue()
    assert "unformattable log message" in out and "jan@example.com" not in out


def test_installing_twice_redacts_once(log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log
    logs.install()
    logger.info("%s", "x" * (logs.MAX_MESSAGE_CHARS + 10))
    assert stream.getvalue().count("chars cut") == 1
