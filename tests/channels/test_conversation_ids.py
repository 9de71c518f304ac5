"""Conversation ids per channel: keyed, prefixed, and never reachable from another channel."""

from __future__ import annotations

import pytest

from bot.conversation_ids import conversation_id, rest_sender_problem
from bot.settings import SettingsError, conversation_key, max_message_chars

KEY = "conversation-key-for-tests"


def test_phone_ids_are_keyed_hashes_that_ignore_formatting() -> None:
    ids = {conversation_id("whatsapp", n, KEY) for n in ("31612345678", "+31 6 1234 5678", "+31-612-345678")}
    [whatsapp] = ids
    assert whatsapp.startswith("whatsapp:") and len(whatsapp) == len("whatsapp:") + 32
    assert "612345678" not in whatsapp
    assert conversation_id("whatsapp", "31612345678", "another-key-xxxxxxxx") != whatsapp
    sms = conversation_id("sms", "whatsapp:+31612345678", KEY)
    assert sms.startswith("sms:") and sms == conversation_id("sms", "+31612345678", KEY)
    assert sms.split(":")[1] != whatsapp.split(":")[1]


def test_web_and_rest_ids() -> None:
    assert conversation_id("web", "abc123", KEY) == "web:abc123"
    assert conversation_id("rest", "demo-1", KEY) == "demo-1"
    with pytest.raises(ValueError, match="':'"):
        conversation_id("rest", "whatsapp:abc", KEY)
    with pytest.raises(ValueError, match="phone number"):
        conversation_id("sms", "geen nummer", KEY)
    with pytest.raises(ValueError, match="unknown channel"):
        conversation_id("fax", "1", KEY)


@pytest.mark.parametrize(
    ("sender", "problem"),
    [
        (None, "string"),
        (5, "string"),
        ("", "required"),
        ("a:b", "':'"),
        ("x" * 129, "longer"),
        ("a\nb", "control"),
    ],
)
def test_rest_senders_that_are_refused(sender: object, problem: str) -> None:
    assert problem in (rest_sender_problem(sender) or "")


def test_the_key_comes_from_conversation_key_or_else_from_pseudonym_key() -> None:
    assert conversation_key({"CONVERSATION_KEY": KEY}) == KEY
    derived = conversation_key({"CONVERSATION_KEY": "", "PSEUDONYM_KEY": "pseudonym-key-xxxxxxxx"})
    assert len(derived) == 64 and derived != "pseudonym-key-xxxxxxxx"
    assert derived == conversation_key({"PSEUDONYM_KEY": "pseudonym-key-xxxxxxxx"})
    with pytest.raises(SettingsError, match="CONVERSATION_KEY"):
        conversation_key({"CONVERSATION_KEY": "short"})
    with pytest.raises(SettingsError, match="PSEUDONYM_KEY"):
        conversation_key({})


@pytest.mark.parametrize(("value", "expected"), [("", 2000), ("500", 500)])
def test_max_message_chars(value: str, expected: int) -> None:
    assert max_message_chars({"MAX_MESSAGE_CHARS": value}) == expected


@pytest.mark.parametrize("value", ["0", "-1", "abc", "100000"])
def test_a_bad_max_message_chars_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="MAX_MESSAGE_CHARS"):
        max_message_chars({"MAX_MESSAGE_CHARS": value})
