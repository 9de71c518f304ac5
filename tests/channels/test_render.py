"""Rendering rules of the WhatsApp and SMS connectors (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.channels.render import (
    SMS_TEXT_LIMIT,
    WHATSAPP_BODY_LIMIT,
    WHATSAPP_TEXT_LIMIT,
    choose_option,
    numbered_options,
    options_of,
    plain_text,
    sms_messages,
    split_text,
    truncate,
    whatsapp_markdown,
    whatsapp_messages,
    whatsapp_needs_numbers,
)

PHONE = "31612345678"


def buttons(count: int, title: str = "Optie {n}") -> list[dict[str, Any]]:
    return [{"title": title.format(n=n), "payload": f"/choice_{n}"} for n in range(1, count + 1)]


def test_split_text_keeps_short_text_whole() -> None:
    assert split_text("  Hallo!  ", 10) == ["Hallo!"]
    assert split_text("   ", 10) == []


def test_split_text_prefers_paragraph_boundaries() -> None:
    first, second = "a" * 60, "b" * 60
    assert split_text(f"{first}\n\n{second}", 100) == [first, second]
    assert split_text(f"{first}\n\n{second}", 200) == [f"{first}\n\n{second}"]


def test_split_text_falls_back_to_sentences_then_words_then_hard_cuts() -> None:
    sentences = "Zonnepanelen leveren stroom. Een thuisbatterij bewaart die. Een warmtepomp verwarmt."
    parts = split_text(sentences, 40)
    assert parts == [
        "Zonnepanelen leveren stroom.",
        "Een thuisbatterij bewaart die.",
        "Een warmtepomp verwarmt.",
    ]
    assert split_text("een twee drie vier", 9) == ["een twee", "drie vier"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


@pytest.mark.parametrize("limit", [WHATSAPP_TEXT_LIMIT, WHATSAPP_BODY_LIMIT, SMS_TEXT_LIMIT, 7])
def test_split_text_never_exceeds_the_limit_and_loses_no_words(limit: int) -> None:
    text = "\n\n".join(f"Alinea {i}. " + "Dit is een zin over besparen. " * (i * 40) for i in range(1, 6))
    parts = split_text(text, limit)
    assert all(0 < len(part) <= limit for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


def test_truncate_marks_the_cut() -> None:
    assert truncate("Vraag offerte aan", 20) == "Vraag offerte aan"
    assert truncate("Bereken je besparing op zonnepanelen", 20) == "Bereken je besparin…"
    assert len(truncate("x" * 50, 20)) == 20


def test_whatsapp_markdown_and_plain_text() -> None:
    text = "Dit is **belangrijk** en ~~oud~~. Lees [meer](https://zonwarmte.example/info)."
    assert (
        whatsapp_markdown(text) == "Dit is *belangrijk* en ~oud~. Lees meer (https://zonwarmte.example/info)."
    )
    assert plain_text(text) == "Dit is belangrijk en oud. Lees meer (https://zonwarmte.example/info)."


def test_numbered_options_never_show_payloads() -> None:
    rendered = numbered_options([{"title": "Vraag offerte aan", "payload": "/quote_request"}])
    assert rendered == "1. Vraag offerte aan"
    assert "/" not in numbered_options(buttons(3))


def test_options_of_uses_the_title_when_a_button_has_no_payload() -> None:
    assert options_of([{"title": "Ja"}, {"title": "Nee", "payload": "/deny"}]) == [
        ("Ja", "Ja"),
        ("Nee", "/deny"),
    ]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2", "/choice_2"),
        ("2.", "/choice_2"),
        (" 2 ", "/choice_2"),
        ("2)", "/choice_2"),
        ("optie 3", "/choice_3"),
    ],
)
def test_choose_option_maps_numbers_and_titles(typed: str, expected: str) -> None:
    assert choose_option(typed, options_of(buttons(3))) == expected


@pytest.mark.parametrize("typed", ["0", "4", "twee", "2 graag", ""])
def test_choose_option_leaves_other_text_alone(typed: str) -> None:
    assert choose_option(typed, options_of(buttons(3))) is None


def test_sms_messages_number_the_options_after_plain_text() -> None:
    parts = sms_messages("**Welkom** bij ZonWarmte.", [{"title": "Vraag offerte aan", "payload": "/quote"}])
    assert parts == ["Welkom bij ZonWarmte.\n\n1. Vraag offerte aan"]
    assert all(len(p) <= SMS_TEXT_LIMIT for p in sms_messages("Zin. " * 1000))


def test_whatsapp_text_is_split_at_4096() -> None:
    messages = whatsapp_messages(PHONE, "Dit is een **zin**. " * 400)
    assert len(messages) == 2
    for message in messages:
        assert message["type"] == "text" and message["to"] == PHONE
        assert message["messaging_product"] == "whatsapp"
        assert len(message["text"]["body"]) <= WHATSAPP_TEXT_LIMIT
        assert "**" not in message["text"]["body"]


def test_up_to_three_buttons_become_reply_buttons() -> None:
    long_title = [{"title": "Bereken je besparing op zonnepanelen", "payload": "/savings"}]
    [message] = whatsapp_messages(PHONE, "Wat wil je doen?", [*long_title, *buttons(2)])
    interactive = message["interactive"]
    assert message["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["body"] == {"text": "Wat wil je doen?"}
    replies = [b["reply"] for b in interactive["action"]["buttons"]]
    assert replies[0] == {"id": "/savings", "title": "Bereken je besparin…"}
    assert [r["id"] for r in replies[1:]] == ["/choice_1", "/choice_2"]
    assert all(len(r["title"]) <= 20 for r in replies)


def test_four_to_ten_buttons_become_a_list() -> None:
    many = buttons(10, "Een heel lange optietitel nummer {n}")
    [message] = whatsapp_messages(PHONE, "Kies maar.", many)
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Kies een optie"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [row["id"] for row in rows] == [f"/choice_{n}" for n in range(1, 11)]
    assert all(len(row["title"]) <= 24 for row in rows)
    assert rows[0]["description"] == "Een heel lange optietitel nummer 1"


def test_more_than_ten_buttons_become_numbered_text() -> None:
    assert whatsapp_needs_numbers(buttons(11)) and not whatsapp_needs_numbers(buttons(10))
    [message] = whatsapp_messages(PHONE, "Kies een nummer:", buttons(11))
    body = message["text"]["body"]
    assert body.startswith("Kies een nummer:\n\n1. Optie 1\n")
    assert body.endswith("11. Optie 11") and "/choice" not in body


def test_payloads_too_long_for_an_id_fall_back_to_numbered_text() -> None:
    assert whatsapp_needs_numbers([{"title": "Ja", "payload": "/affirm" + "x" * 256}])
    assert whatsapp_needs_numbers([*buttons(4), {"title": "Ja", "payload": "/affirm" + "x" * 200}])
    assert not whatsapp_needs_numbers([{"title": "Ja", "payload": "/affirm" + "x" * 200}])


def test_long_interactive_body_is_preceded_by_text() -> None:
    text = ("Eerste alinea over zonnepanelen. " * 40).strip() + "\n\n" + "Wat wil je nu doen?"
    messages = whatsapp_messages(PHONE, text, buttons(2))
    assert [m["type"] for m in messages] == ["text", "interactive"]
    assert messages[0]["text"]["body"].startswith("Eerste alinea")
    body = messages[1]["interactive"]["body"]["text"]
    assert body.endswith("Wat wil je nu doen?") and len(body) <= WHATSAPP_BODY_LIMIT
    sent = messages[0]["text"]["body"] + " " + body
    assert sent.split() == text.split()


def test_buttons_without_text_get_a_prompt() -> None:
    [message] = whatsapp_messages(PHONE, "", buttons(2))
    assert message["interactive"]["body"]["text"] == "Kies een optie:"
