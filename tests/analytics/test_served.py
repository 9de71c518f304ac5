"""The report on the demo web server: only with REPORT_TOKEN, filters as query parameters."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.analytics.server import ReportSite
from bot.settings import PROJECT_ROOT, SettingsError, report_token
from bot.store import TouchpointStore
from bot.webserver import serve_web
from tests.analytics.dataset import load

TOKEN = "report-token-" + "r" * 24


@pytest.fixture
def site(store: TouchpointStore, database_url: str) -> Iterator[str]:
    load(store)
    report = ReportSite(TOKEN, database_url)
    server = serve_web(PROJECT_ROOT / "web", 0, None, report=report)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        report.close()


def test_refused_without_the_token(site: str) -> None:
    for headers, url in (
        ({}, f"{site}/report"),
        ({}, f"{site}/report?token=wrong"),
        ({"Authorization": "Bearer wrong"}, f"{site}/report"),
    ):
        answer = httpx.get(url, headers=headers, timeout=30)
        assert answer.status_code == 401 and "REPORT_TOKEN" in answer.text
        assert "Klantreisrapport" not in answer.text


def test_served_with_the_token_and_filters(site: str) -> None:
    answer = httpx.get(f"{site}/report", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
    assert answer.status_code == 200 and "Klantreisrapport" in answer.text
    assert answer.headers["cache-control"] == "no-store" and "default-src 'none'" in answer.headers[
        "content-security-policy"]  # fmt: skip
    filtered = httpx.get(f"{site}/report", params={"token": TOKEN, "channel": "sms"}, timeout=60)
    assert filtered.status_code == 200 and "kanaal = sms" in filtered.text
    bad = httpx.get(f"{site}/report", params={"token": TOKEN, "channel": "fax"}, timeout=30)
    assert bad.status_code == 400 and "known values: sms, web, whatsapp" in bad.text
    assert httpx.get(f"{site}/index.html", timeout=10).status_code == 200  # the widget page still served


def test_report_token_setting() -> None:
    assert report_token({}) is None and report_token({"REPORT_TOKEN": "change-me"}) is None
    assert report_token({"REPORT_TOKEN": TOKEN}) == TOKEN
    with pytest.raises(SettingsError, match="REPORT_TOKEN is too short"):
        report_token({"REPORT_TOKEN": "short"})
