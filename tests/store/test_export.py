"""Exports for analysis: CSV and JSON with every column, pseudonymised and masked, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from bot.store import TouchpointStore
from bot.store.models import Touchpoint, Turn
from tests.store.helpers import T0, turn


@pytest.fixture
def filled(store: TouchpointStore) -> TouchpointStore:
    store.record_turn(turn(minute=0, phase="use", intent="performance", text="mail mij op a@b.nl"))
    store.record_turn(turn(minute=1, phase="aftercare", intent="thanks", outcome="completed"))
    store.record_nps(
        "visitor-1", T0, 10, '=HYPERLINK("http://x")', "aftercare", "web", "senior", T0 + timedelta(2)
    )
    store.record_turn(turn("visitor-2", minute=0, text="-1+1"))
    return store


def test_turns_as_csv(filled: TouchpointStore) -> None:
    out = io.StringIO()
    assert filled.export("turns", "csv", out) == 3
    lines = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(lines[0]) == list(Turn.__table__.c.keys())
    assert [line["intent"] for line in lines] == ["performance", "thanks", "energy_costs"]
    assert lines[0]["text"] == "mail mij op [e-mail]"
    assert lines[0]["at"] == T0.isoformat()
    assert lines[2]["text"] == "'-1+1"  # a spreadsheet would run it as a formula


def test_touchpoints_as_csv(filled: TouchpointStore) -> None:
    out = io.StringIO()
    assert filled.export("touchpoints", "csv", out) == 2
    first, _second = csv.DictReader(io.StringIO(out.getvalue()))
    assert json.loads(first["phases_visited"]) == ["use", "aftercare"]
    assert first["nps_score"] == "10"
    assert first["nps_reason"] == '\'=HYPERLINK("http://x")'


def test_touchpoints_as_json(filled: TouchpointStore) -> None:
    out = io.StringIO()
    assert filled.export("touchpoints", "json", out) == 2
    data = json.loads(out.getvalue())
    assert [set(row) for row in data] == [set(Touchpoint.__table__.c.keys())] * 2
    assert data[0]["phases_visited"] == ["use", "aftercare"]
    assert data[0]["nps_reason"] == '=HYPERLINK("http://x")'  # JSON is data, not a spreadsheet
    assert data[0]["outcome"] == "completed"
    assert data[1]["outcome"] == "answered"
    assert data[0]["started_at"] == T0.isoformat()


def test_an_empty_table_is_valid_output(store: TouchpointStore) -> None:
    as_json, as_csv = io.StringIO(), io.StringIO()
    assert store.export("turns", "json", as_json) == 0
    assert store.export("turns", "csv", as_csv) == 0
    assert json.loads(as_json.getvalue()) == []
    assert as_csv.getvalue().strip() == ",".join(Turn.__table__.c.keys())


@pytest.mark.parametrize(("table", "fmt"), [("events", "csv"), ("turns", "xlsx"), ("turns; DROP", "json")])
def test_unknown_table_or_format_is_refused(store: TouchpointStore, table: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="choose one of"):
        store.export(table, fmt, io.StringIO())
