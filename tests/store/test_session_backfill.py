"""Migration 0006 on a database filled at the older revision: the session fields are filled in SQL,
equal to what the store writes itself, and a downgrade keeps every turn."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from bot.analytics.cli import open_engine
from bot.analytics.model import Filters
from bot.analytics.service import make_report
from bot.store import TouchpointStore
from bot.store.database import alembic_config, make_engine, upgrade
from tests.analytics.dataset import JOURNEYS, T0, load
from tests.store.session_helpers import products, sessions, turn_fields


def test_rows_stored_at_0005_get_the_fields_the_store_would_have_written(
    store: TouchpointStore, database_url: str
) -> None:
    load(store)  # written at head: the store's own write-time fields
    written = (turn_fields(database_url), sessions(database_url), products(database_url))
    engine = make_engine(database_url)
    before = make_report(engine, Filters(min_answers=2), JOURNEYS)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0005")
    assert "session_no" not in {c["name"] for c in inspect(engine).get_columns("turns")}
    assert "touchpoint_sessions" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM turns")).scalar_one() == 20
        old_view = connection.execute(text("SELECT COUNT(*) FROM analytics_sessions")).scalar_one()
    assert old_view == 8, "the downgrade re-creates the window-function views"
    upgrade(engine)  # the backfill, at the start of the next store or report
    after = make_report(engine, Filters(min_answers=2), JOURNEYS)
    engine.dispose()
    assert (turn_fields(database_url), sessions(database_url), products(database_url)) == written
    before.generated_at = after.generated_at
    assert after == before


def test_a_database_filled_at_0005_is_backfilled_and_its_views_read_the_stored_fields(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0005")
    naive = T0.replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO touchpoints (id, sender_key, session_started_at, channel, phases_visited,"
                " started_at, ended_at, outcome) VALUES (7, 'old', :t, 'web', '[]', :t, :t, 'answered')"
            ),
            {"t": naive},
        )
        # A greeting, two typed messages, then 31 minutes of silence and a button tap.
        for number, (minutes, phase, said, outcome, product) in enumerate(
            [(0, None, "/greet", "answered", None), (1, "need", "hoge rekening", "answered", "warmtepomp"),
             (2, "need", "laadpaal?", "fallback", None), (33, "orientation", "/savings", "answered", None)]
        ):  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO turns (record_id, touchpoint_id, at, phase, intent, text, outcome, product)"
                    " VALUES (:r, 7, :t, :phase, 'x', :said, :outcome, :product)"
                ),
                {"r": f"old-{number}", "t": naive.replace(minute=minutes % 60, hour=9 + minutes // 60),
                 "phase": phase, "said": said, "outcome": outcome, "product": product},
            )  # fmt: skip
    engine.dispose()
    migrated = open_engine(database_url)  # what `journey report` does first
    try:
        assert turn_fields(database_url) == {
            "old-0": (1, "need", "continued", True, False),
            "old-1": (1, "need", "fell_back", True, False),
            "old-2": (1, None, "left", True, False),
            "old-3": (2, None, "left", False, False),
        }
        assert [row[1:10] for row in sessions(database_url)] == [
            (1, 3, True, False, False, False, "need", "need", 0b1),
            (2, 1, False, False, False, False, "orientation", "orientation", 0b10),
        ]
        assert [row[1:] for row in products(database_url)] == [(1, "warmtepomp")]
        with migrated.connect() as connection:
            funnel = connection.execute(text("SELECT phase, sessions, to_next FROM analytics_funnel")).all()
            view = connection.execute(
                text("SELECT sk, engaged, dropped FROM analytics_sessions ORDER BY sk")
            ).all()
            steps = connection.execute(
                text("SELECT content_id, shown, fell_back, left_chat FROM analytics_content_performance")
            ).all()
        assert [tuple(row) for row in funnel] == [("need", 1, 0)]
        assert [tuple(row) for row in view] == [(700001, 1, 1), (700002, 0, 0)]
        assert steps == []  # no content ids stored
        report = make_report(migrated, Filters(), JOURNEYS)
        assert (report.overview.sessions, report.overview.engaged, report.overview.dropped) == (2, 1, 1)
    finally:
        migrated.dispose()
