"""Revision 0003 on a database still at 0001 with data: migrated by the report, data kept, views work."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from bot.analytics.cli import open_engine
from bot.analytics.model import Filters
from bot.analytics.service import make_report
from bot.store.database import alembic_config, make_engine
from tests.analytics.dataset import JOURNEYS, T0


def test_an_older_schema_is_migrated_and_its_turns_counted(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    naive = T0.replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO touchpoints (id, sender_key, session_started_at, channel, phases_visited,"
                " started_at, ended_at, outcome) VALUES (1, 'old', :t, 'web', '[]', :t, :t, 'answered')"
            ),
            {"t": naive},
        )
        for number, said in enumerate(("/greet", "hoe werkt een warmtepomp")):
            connection.execute(
                text(
                    "INSERT INTO turns (record_id, touchpoint_id, at, phase, intent, text, outcome)"
                    " VALUES (:r, 1, :t, 'orientation', 'how_it_works', :said, 'answered')"
                ),
                {"r": f"old-{number}", "t": naive, "said": said},
            )
    assert "typed" not in {c["name"] for c in inspect(engine).get_columns("turns")}
    engine.dispose()

    migrated = open_engine(database_url)  # what `journey report` does first
    try:
        columns = {c["name"] for c in inspect(migrated).get_columns("turns")}
        assert {"product", "typed", "experiment", "arm"} <= columns
        with migrated.connect() as connection:
            typed = connection.execute(text("SELECT text, typed FROM turns ORDER BY id")).all()
            funnel = connection.execute(text("SELECT phase, sessions FROM analytics_funnel")).all()
            sessions = connection.execute(text("SELECT engaged, dropped FROM analytics_sessions")).all()
        assert [(said, bool(flag)) for said, flag in typed] == [
            ("/greet", False),
            ("hoe werkt een warmtepomp", True),
        ]
        assert [tuple(row) for row in funnel] == [("orientation", 1)]
        assert [tuple(row) for row in sessions] == [(1, 1)]
        report = make_report(migrated, Filters(), JOURNEYS)
        assert (report.overview.sessions, report.overview.engaged, report.overview.dropped) == (1, 1, 1)
    finally:
        migrated.dispose()


def test_large_touchpoint_ids_do_not_overflow_the_session_key(database_url: str) -> None:
    """Session keys are touchpoint id × 100,000 + n: beyond 32-bit integers from id 21,475 on."""
    engine = open_engine(database_url)
    naive = T0.replace(tzinfo=None)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO touchpoints (id, sender_key, session_started_at, channel, phases_visited,"
                    " started_at, ended_at, outcome) VALUES (3000000, 'big', :t, 'web', '[]', :t, :t, 'answered')"
                ),
                {"t": naive},
            )
            connection.execute(
                text(
                    "INSERT INTO turns (record_id, touchpoint_id, at, phase, intent, text, outcome, typed)"
                    " VALUES ('big-1', 3000000, :t, 'need', 'energy_costs', 'hoge rekening', 'answered', :yes)"
                ),
                {"t": naive, "yes": True},
            )
        report = make_report(engine, Filters(), JOURNEYS)
        assert (report.overview.sessions, report.funnel[0].sessions) == (1, 1)
    finally:
        engine.dispose()
