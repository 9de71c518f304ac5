"""The demo page against the running assistant: a visitor on a phone, with mouse and with keyboard."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.widget import Visit, assert_no_markup_rendered, visit
from tests.conftest import RunningBot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

QUESTION = "Hoeveel kan ik besparen met zonnepanelen?"


@pytest.fixture
def seen(browser: Browser, running_bot: RunningBot) -> Iterator[Visit]:
    visit_ = visit(browser, running_bot.web_url)
    yield visit_
    visit_.page.context.close()


def session_id(seen: Visit) -> str:
    stored = seen.page.evaluate("sessionStorage.getItem('chat_session')")
    return str(json.loads(stored)["session_id"])


def test_conversation_quick_reply_and_history(seen: Visit, running_bot: RunningBot) -> None:
    seen.open_chat()
    greeting = seen.wait_for_bot(1)
    assert greeting[0], "the init payload /greet got no answer"

    seen.say(QUESTION)
    answered = seen.wait_for_bot(len(greeting) + 1)
    reply = seen.page.locator(".rw-reply").last
    reply.wait_for()
    title = reply.inner_text().strip()
    reply.click()
    after_click = seen.wait_for_bot(len(answered) + 1)
    assert seen.user_texts()[-1] == title and not title.startswith("/")  # the title shows, never the payload
    seen.screenshot("widget-phone")

    seen.page.reload()
    seen.open_chat()
    assert seen.wait_for_bot(len(after_click))[: len(after_click)] == after_click
    assert QUESTION in seen.user_texts()

    cookies = {cookie["name"]: cookie["value"] for cookie in seen.page.context.cookies()}
    assert session_id(seen) == cookies["chat_session"]  # the token from /chat-token chose the session
    tracker = running_bot.tracker("web:" + session_id(seen))
    assert tracker["latest_input_channel"] == "socketio"
    events = tracker["events"]
    assert isinstance(events, list)
    [asked] = [e for e in events if e.get("event") == "user" and e.get("text") == QUESTION]
    assert asked["metadata"].get("language") == "nl"  # customData arrives as metadata
    assert seen.unexpected_errors() == [] and seen.blocked == []


def test_keyboard_tab_to_the_input_and_send_with_enter(seen: Visit) -> None:
    seen.open_chat()
    count = len(seen.wait_for_bot(1))
    page = seen.page
    page.evaluate("document.activeElement.blur()")  # start from the page, not the auto-focused input
    field = page.locator("textarea.rw-new-message")
    for _ in range(15):
        page.keyboard.press("Tab")
        if field.evaluate("element => element === document.activeElement"):
            break
    assert field.evaluate("element => element === document.activeElement"), "Tab never reached the input"
    page.keyboard.type("Wat kost een warmtepomp?")
    page.keyboard.press("Enter")
    assert len(seen.wait_for_bot(count + 1)) > count
    assert seen.user_texts()[-1] == "Wat kost een warmtepomp?"


@pytest.mark.parametrize("markup", ["<img src=x onerror=alert(1)>", "<b>vet</b>"])
def test_markup_is_not_rendered(seen: Visit, markup: str) -> None:
    seen.open_chat()
    count = len(seen.wait_for_bot(1))
    seen.say(markup)
    seen.wait_for_bot(count + 1)
    assert seen.user_texts()[-1] == markup
    assert_no_markup_rendered(seen)
