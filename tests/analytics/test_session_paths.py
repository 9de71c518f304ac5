"""The report's two paths agree: the session fields stored at write time (30 minutes) and the
window-function derivation it falls back to for another gap or for turns written outside the store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.analytics.demo import generate
from bot.analytics.model import Filters, Report
from bot.analytics.queries import stored_fields_complete
from bot.analytics.service import make_report
from bot.store import TouchpointStore
from bot.store.database import make_engine
from tests.analytics.dataset import JOURNEYS, load
from tests.store.session_helpers import turn_fields, window_fields

FILTERS = (
    Filters(min_answers=2),
    Filters(channel="whatsapp"),
    Filters(product="zonnepanelen", persona="homeowner"),
    Filters(journey="consumer", min_answers=5),
)


@pytest.fixture
def engine(store: TouchpointStore, database_url: str) -> Iterator[Engine]:
    load(store)  # the hand-computed data set, written through the store
    engine = make_engine(database_url)
    generate(engine, 300, seed=3, force=True)  # plus demo sessions, with 40-minute pauses now and then
    yield engine
    engine.dispose()


def reports(engine: Engine) -> list[Report]:
    found = [make_report(engine, filters, JOURNEYS) for filters in FILTERS]
    for report in found:
        report.generated_at = ""
    return found


def test_demo_data_fills_the_fields_as_the_store_derives_them(engine: Engine, database_url: str) -> None:
    fields = turn_fields(database_url)
    assert len(fields) > 1000 and all(value[0] is not None for value in fields.values())
    assert fields == window_fields(database_url)


def test_turns_without_stored_fields_are_reported_through_the_window_functions(engine: Engine) -> None:
    stored = reports(engine)
    assert stored[0].overview.sessions > 300 and stored[0].experiments
    with engine.begin() as connection:
        assert stored_fields_complete(connection)
        connection.execute(text("UPDATE turns SET session_no = NULL WHERE id = (SELECT MIN(id) FROM turns)"))
        assert not stored_fields_complete(connection)
    assert reports(engine) == stored


def test_another_session_gap_is_derived_at_report_time(engine: Engine) -> None:
    """A 24-hour gap joins the demo sessions split by a 40-minute pause, and S4 of the data set."""
    default, wide = (make_report(engine, Filters(gap_minutes=gap), JOURNEYS) for gap in (30, 24 * 60))
    assert wide.overview.turns == default.overview.turns
    assert wide.overview.sessions < default.overview.sessions
    assert make_report(engine, Filters(gap_minutes=30), JOURNEYS).overview == default.overview
