"""Driving the demo page's chat widget (rasa-webchat) in Debian's Chromium through Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Page, Route

from bot.webserver import serve_web

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
WEB_DIR = Path(__file__).resolve().parents[2] / "web"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "output" / "browser"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# The widget @imports a Google font; the page's Content-Security-Policy blocks it on purpose.
EXPECTED_CONSOLE = ("fonts.googleapis.com",)

BOT = ".rw-message:not(.rw-typing-indication) .rw-response"
USER = ".rw-message .rw-client"


@contextmanager
def static_site(directory: Path = WEB_DIR, jwt_key: str | None = None) -> Iterator[str]:
    """The demo page's own web server (bot.webserver) on a free port; yields its base URL."""
    server = serve_web(directory, 0, jwt_key)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Visit:
    """A phone-sized page with the widget; records console errors, dialogs and off-machine requests."""

    page: Page
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)

    def open_chat(self) -> None:
        """Open the widget if it is closed (it stays open across reloads; then phones hide the launcher)."""
        self.page.wait_for_function(
            "() => document.querySelector('.rw-conversation-container')"
            " || document.querySelector('.rw-launcher')?.offsetParent"
        )
        if not self.page.locator(".rw-conversation-container").is_visible():
            self.page.locator(".rw-launcher").click()
        self.page.locator("textarea.rw-new-message").wait_for()

    def bot_texts(self) -> list[str]:
        return [text.strip() for text in self.page.locator(BOT).all_inner_texts()]

    def user_texts(self) -> list[str]:
        return [text.strip() for text in self.page.locator(USER).all_inner_texts()]

    def wait_for_bot(self, count: int, timeout: float = 30_000) -> list[str]:
        """Wait until at least ``count`` bot messages show (typing delays included)."""
        self.page.wait_for_function(
            "([selector, count]) => document.querySelectorAll(selector).length >= count",
            arg=[BOT, count],
            timeout=timeout,
        )
        return self.bot_texts()

    def say(self, text: str) -> None:
        """Type into the widget and send with Enter, as a visitor does."""
        field = self.page.locator("textarea.rw-new-message")
        field.fill(text)
        field.press("Enter")

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(expected in e for expected in EXPECTED_CONSOLE)]


def visit(browser: Browser, url: str) -> Visit:
    """Open ``url`` in a fresh phone-sized context whose requests may only reach loopback."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True, locale="nl-NL"
    )
    page = context.new_page()
    seen = Visit(page)

    def only_loopback(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        seen.requested.append(route.request.url)
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            seen.blocked.append(route.request.url)
            route.abort()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            seen.errors.append(message.text)

    context.route("**/*", only_loopback)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(url)
    return seen


def assert_no_markup_rendered(seen: Visit) -> None:
    """HTML typed by a visitor (or echoed by the bot) shows as text and creates no elements."""
    messages = seen.page.locator(".rw-messages-container")
    assert messages.locator("img[src='x'], b, script, iframe").count() == 0
    assert seen.dialogs == []
