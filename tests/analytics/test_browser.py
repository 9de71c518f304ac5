"""The HTML report in headless Chromium: offline, charts drawn, no console errors, no script run."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from bot.analytics.demo import generate
from bot.analytics.model import Filters
from bot.analytics.render import render
from bot.analytics.service import make_report
from bot.store import TouchpointStore
from bot.store.database import make_engine, upgrade
from tests.analytics import dataset, hostile
from tests.browser.conftest import browser  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
OUTPUT = Path(__file__).resolve().parents[1] / "output" / "analytics"


def test_report_opens_offline_with_its_charts(browser: Browser, tmp_path: Path) -> None:  # noqa: F811
    url = f"sqlite:///{tmp_path / 'journey.db'}"
    engine = make_engine(url)
    upgrade(engine)
    generate(engine, 400, seed=3)
    store = TouchpointStore(url, "browser-test-key-" + "k" * 20, tmp_path / "spool", tracker_store_url=url)
    dataset.load(store, hostile.SESSIONS)
    store.close()
    report = make_report(engine, Filters(), dataset.JOURNEYS)
    engine.dispose()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page_file = OUTPUT / "report.html"
    page_file.write_text(render(report, "html"), encoding="utf-8")

    context = browser.new_context(viewport={"width": 1100, "height": 900}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(page_file.as_uri())
    page.screenshot(path=str(OUTPUT / "report.png"), full_page=True)
    charts = page.locator("svg.chart")
    assert charts.count() >= 10
    assert page.locator("#trechter svg.chart rect.bar").count() == 8  # one bar per phase
    assert page.locator("#stromen svg.chart path.flow").count() >= 5
    assert page.locator("#nps svg.chart").count() >= 5
    assert page.locator("#experimenten").inner_text().count("arm B") >= 1
    assert "Oriëntatie" in page.locator("#trechter").inner_text()
    assert "<script>alert('gap')</script>" in page.locator("#ontbreekt").inner_text()  # shown as text
    assert errors == [] and dialogs == []
    context.close()
