"""The four formats: self-contained, escaped HTML; CSV safe for spreadsheets; JSON complete."""

from __future__ import annotations

import csv
import io
import json
import re

from bot.analytics.model import Filters
from bot.analytics.render import render
from bot.analytics.service import make_report
from bot.store import TouchpointStore
from bot.store.database import make_engine
from tests.analytics import dataset, hostile


def _report(store: TouchpointStore, url: str, sessions: dict) -> object:
    dataset.load(store, sessions)
    engine = make_engine(url)
    try:
        return make_report(engine, Filters(min_answers=2), dataset.JOURNEYS)
    finally:
        engine.dispose()


def test_html_is_self_contained_and_escapes_stored_text(store: TouchpointStore, database_url: str) -> None:
    report = _report(store, database_url, hostile.SESSIONS)
    page = render(report, "html")  # type: ignore[arg-type]
    assert "<script" not in page.lower() and "<img" not in page and "<svg onload" not in page
    assert "&lt;script&gt;alert(&#x27;gap&#x27;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;svg onload=alert(3)&gt;" in page  # the persona, in the NPS and mix tables
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing fetched from elsewhere
    assert "default-src 'none'" in page and 'lang="nl"' in page


def test_text_json_and_csv(store: TouchpointStore, database_url: str) -> None:
    report = _report(store, database_url, hostile.SESSIONS)
    data = json.loads(render(report, "json"))  # type: ignore[arg-type]
    assert data["overview"]["engaged"] == 2 and data["gaps"][0]["count"] == 2
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))  # type: ignore[arg-type]
    assert rows[0] == ["section", "group", "key", "measure", "value"]
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith("=") for cell in cells)  # a formula is quoted: '=HYPERLINK(...)
    assert "Trechter" in render(report, "text")  # type: ignore[arg-type]
