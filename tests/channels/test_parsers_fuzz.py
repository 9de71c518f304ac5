"""Property tests: no REST, WhatsApp or Twilio payload makes a parser fail other than by refusing it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.channels.rest import BadRequest, parse_body
from bot.channels.twilio import inbound_sms, parse_form
from bot.channels.whatsapp import parse_messages
from bot.conversation_ids import conversation_id, rest_sender_problem

NUMBER_ID = "109876543210"
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
CONTENT_TYPES = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""])


@settings(max_examples=300)
@given(body=st.binary(max_size=512), content_type=CONTENT_TYPES)
def test_rest_bytes_are_parsed_or_refused(body: bytes, content_type: str) -> None:
    try:
        sender, text, metadata = parse_body(body, content_type)
    except BadRequest as problem:
        assert problem.status == 400 and str(problem)
    else:
        assert rest_sender_problem(sender) is None and isinstance(text, str) and text.strip()
        assert metadata is None or isinstance(metadata, dict)


@settings(max_examples=300)
@given(
    payload=st.fixed_dictionaries(
        {},
        optional={
            "sender": JSON_VALUES,
            "message": JSON_VALUES,
            "metadata": JSON_VALUES,
            "input_channel": JSON_VALUES,
        },
    )
    | JSON_VALUES
)
def test_rest_json_is_parsed_or_refused(payload: Any) -> None:
    try:
        sender, text, _ = parse_body(json.dumps(payload).encode(), "application/json")
    except BadRequest:
        return
    assert isinstance(payload, dict) and payload["sender"] == sender and payload["message"] == text
    assert ":" not in sender and payload.get("input_channel") in (None, "rest")


def whatsapp_messages() -> st.SearchStrategy[Any]:
    message = st.fixed_dictionaries(
        {},
        optional={
            "from": JSON_VALUES | st.from_regex(r"\A\+?[0-9]{6,15}\Z"),
            "id": JSON_VALUES | st.text(min_size=1, max_size=20),
            "type": st.sampled_from(["text", "interactive", "button", "image", "reaction"]) | JSON_VALUES,
            "text": st.fixed_dictionaries({}, optional={"body": JSON_VALUES}) | JSON_VALUES,
            "interactive": JSON_VALUES,
            "button": JSON_VALUES,
        },
    )
    value = st.fixed_dictionaries(
        {},
        optional={
            "metadata": st.fixed_dictionaries({"phone_number_id": st.just(NUMBER_ID) | JSON_VALUES})
            | JSON_VALUES,
            "messages": st.lists(message, max_size=3) | JSON_VALUES,
        },
    )
    change = st.fixed_dictionaries({}, optional={"value": value | JSON_VALUES})
    entry = st.fixed_dictionaries({}, optional={"changes": st.lists(change, max_size=3) | JSON_VALUES})
    return st.fixed_dictionaries({}, optional={"entry": st.lists(entry, max_size=3) | JSON_VALUES})


@settings(max_examples=400)
@given(payload=whatsapp_messages())
@example(payload={"entry": [{"changes": [{"value": {"messages": [{"from": "0", "id": "0", "type": []}]}}]}]})
@example(payload={"entry": [{"changes": [{"value": {"messages": [{"from": "31", "id": "1", "type": {}}]}}]}]})
def test_whatsapp_payloads_give_well_formed_messages(payload: dict[str, Any]) -> None:
    for message in parse_messages(payload, NUMBER_ID):
        assert isinstance(message.message_id, str) and message.message_id
        assert message.text is None or (isinstance(message.text, str) and message.text.strip())
        assert conversation_id("whatsapp", message.phone, "key").startswith("whatsapp:")


@settings(max_examples=300)
@given(body=st.binary(max_size=512) | st.text(max_size=200).map(str.encode))
def test_twilio_forms_give_a_sender_and_text_or_nothing(body: bytes) -> None:
    inbound = inbound_sms(parse_form(body))
    if inbound is not None:
        sender, text = inbound
        assert text.strip() and conversation_id("sms", sender, "key").startswith("sms:")


@given(raw=st.text(max_size=200))
def test_a_rest_id_is_never_another_channels_id(raw: str) -> None:
    if rest_sender_problem(raw) is None:
        assert not raw.startswith(("web:", "whatsapp:", "sms:", "twilio:"))
        assert conversation_id("rest", raw, "key") == raw
