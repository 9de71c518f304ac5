"""The demo page's widget against the fixed socket.io channel, with a scripted bot (no model needed).

This is the regression test for the python-socketio room bug: without the room join, no reply
reaches the browser. The real bot runs in test_widget.py (marked e2e).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser
from rasa.core.channels.channel import UserMessage

from bot.channels.socketio import FixedSocketIOInput
from tests.browser.widget import PHONE, Visit, assert_no_markup_rendered, static_site, visit
from tests.channels.sanic_server import Recorder, serve

pytestmark = pytest.mark.browser

GREETING = "Hoi! Waarmee kan ik je helpen?"
CHOICES = [
    {"title": "Bereken je besparing", "payload": "/savings"},
    {"title": "Vraag offerte aan", "payload": "/quote_request"},
]
SAVINGS = "Met zonnepanelen bespaar je vaak honderden euro's per jaar. Lees [meer](https://zonwarmte.example/besparen)."


async def scripted_bot(message: UserMessage) -> None:
    """Greets with two quick replies, explains savings, and echoes anything else (with its markup)."""
    out, sender = message.output_channel, message.sender_id
    if message.text == "/greet":
        await out.send_text_with_buttons(sender, GREETING, CHOICES)
    elif message.text == "/savings":
        await out.send_text_message(sender, SAVINGS)
    elif message.text == "stuur een scriptlink":
        await out.send_text_message(sender, "Klik [hier](javascript:alert(document.domain)) voor korting.")
    else:
        await out.send_text_with_buttons(sender, f"Je vroeg: {message.text}", CHOICES)


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    channel = FixedSocketIOInput(session_persistence=True, metadata_key="customData")
    with serve(channel, Recorder(scripted_bot), cors="*") as socket_url, static_site() as site:
        yield f"{site}/index.html?socket={socket_url}"


@pytest.fixture
def seen(browser: Browser, page_url: str) -> Iterator[Visit]:
    visit_ = visit(browser, page_url)
    yield visit_
    visit_.page.context.close()


def test_greeting_quick_reply_and_history_after_reload(seen: Visit) -> None:
    seen.open_chat()
    assert seen.wait_for_bot(1)[0] == GREETING
    seen.page.locator(".rw-reply", has_text="Bereken je besparing").click()
    assert seen.wait_for_bot(2)[1].startswith("Met zonnepanelen bespaar je")
    assert seen.user_texts() == ["Bereken je besparing"]  # the title shows, never the payload
    seen.say("Hoeveel kan ik besparen met zonnepanelen?")
    assert seen.wait_for_bot(3)[2] == "Je vroeg: Hoeveel kan ik besparen met zonnepanelen?"
    seen.screenshot("widget-channel-phone")

    seen.page.reload()
    seen.open_chat()
    assert seen.wait_for_bot(3)[:2] == [GREETING, seen.bot_texts()[1]]
    assert "Hoeveel kan ik besparen met zonnepanelen?" in seen.user_texts()
    assert seen.unexpected_errors() == [] and seen.blocked == []


def test_links_render_as_safe_anchors(seen: Visit) -> None:
    seen.open_chat()
    seen.wait_for_bot(1)
    seen.page.locator(".rw-reply", has_text="Bereken je besparing").click()
    seen.wait_for_bot(2)
    link = seen.page.locator(".rw-response a", has_text="meer")
    assert link.get_attribute("href") == "https://zonwarmte.example/besparen"
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"


def test_javascript_links_cannot_run(seen: Visit) -> None:
    """rasa-webchat passes link URLs through unsanitised (transformLinkUri: null); the page's CSP refuses them."""
    seen.open_chat()
    seen.wait_for_bot(1)
    seen.say("stuur een scriptlink")
    seen.wait_for_bot(2)
    seen.page.locator(".rw-response a", has_text="hier").click()
    seen.page.wait_for_timeout(500)
    assert seen.dialogs == [] and len(seen.page.context.pages) == 1
    assert any("JavaScript URL" in error and "script-src" in error for error in seen.errors)


@pytest.mark.parametrize(
    "markup", ["<img src=x onerror=alert(1)>", "<b>vet</b>", "<script>alert(1)</script>"]
)
def test_markup_from_visitor_or_bot_is_shown_as_text(seen: Visit, markup: str) -> None:
    seen.open_chat()
    seen.wait_for_bot(1)
    seen.say(markup)
    assert seen.wait_for_bot(2)[1] == f"Je vroeg: {markup}"  # the bot echoes it: shown literally
    assert seen.user_texts()[-1] == markup
    assert_no_markup_rendered(seen)


def test_keyboard_only_visitor(seen: Visit) -> None:
    page = seen.page
    page.locator(".rw-launcher").wait_for()
    page.locator(".rw-launcher").focus()
    page.keyboard.press("Enter")  # the launcher is a real <button>: Enter opens the chat
    seen.wait_for_bot(1)
    field = page.locator("textarea.rw-new-message")
    for _ in range(12):
        if field.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    assert field.evaluate("element => element === document.activeElement"), "Tab never reached the input"
    page.keyboard.type("Wat kost een thuisbatterij?")
    page.keyboard.press("Enter")
    assert seen.wait_for_bot(2)[1] == "Je vroeg: Wat kost een thuisbatterij?"

    reply = page.locator(".rw-reply", has_text="Vraag offerte aan").last
    reply.focus()  # quick replies are tab stops now (role=button, tabindex=0)
    assert reply.get_attribute("role") == "button" and reply.get_attribute("tabindex") == "0"
    page.keyboard.press("Enter")
    assert seen.wait_for_bot(3)[2] == "Je vroeg: /quote_request"


def test_controls_have_dutch_accessible_labels(seen: Visit) -> None:
    page = seen.page
    page.locator(".rw-launcher[aria-label]").wait_for()
    assert page.get_by_role("button", name="Open de chat met de ZonWarmte assistent").is_visible()
    seen.open_chat()
    seen.wait_for_bot(1)
    assert page.get_by_role("textbox", name="Typ je vraag").is_visible()
    assert page.get_by_role("button", name="Verstuur je bericht").count() == 1
    assert page.get_by_role("button", name="Sluit de chat").count() >= 1
    assert page.get_by_role("log", name="Gesprek met de ZonWarmte assistent").count() == 1
    assert page.get_by_role("button", name="Vraag offerte aan").count() == 1


def test_fits_a_phone_screen(seen: Visit) -> None:
    seen.open_chat()
    seen.wait_for_bot(1)
    width = seen.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    box = seen.page.locator(".rw-conversation-container").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"] and box["height"] <= PHONE["height"]
    assert seen.page.locator("textarea.rw-new-message").is_visible()


def test_a_foreign_socket_url_in_the_query_is_ignored(browser: Browser, page_url: str) -> None:
    foreign = page_url.split("?")[0] + "?socket=https://evil.example:443"
    seen = visit(browser, foreign)
    try:  # the widget falls back to this host's port 5005 (nothing listens there, so it stays hidden)
        for _ in range(100):
            if any(url.startswith("http://127.0.0.1:5005/socket.io/") for url in seen.requested):
                break
            seen.page.wait_for_timeout(100)
        assert any(url.startswith("http://127.0.0.1:5005/socket.io/") for url in seen.requested)
        assert "evil.example" not in {urlsplit(url).hostname for url in seen.requested}
    finally:
        seen.page.context.close()
