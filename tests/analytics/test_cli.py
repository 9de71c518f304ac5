"""`journey report` and `journey demo-data` on bad input: one clear `error:` line, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import TouchpointStore
from tests.analytics.dataset import load


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_empty_database_gives_an_empty_valid_report(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report")
    assert code == 0 and "Geen gesprekken in deze periode" in out and "Traceback" not in err
    code, out, _ = run(capsys, "report", "--format", "json")
    assert code == 0 and json.loads(out)["overview"]["sessions"] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--since", "2025-13-01"), "--since '2025-13-01' is not a date"),
        (("--until", "gisteren"), "--until 'gisteren' is not a date"),
        (("--since", "2025-03-05", "--until", "2025-03-01"), "--since must be before --until"),
        (("--format", "pdf"), "--format must be one of text, html, json, csv"),
        (("--session-gap", "0"), "--session-gap must be a whole number from 1"),
        (("--journey", "retail"), "--journey 'retail' is not a journey; known: business, consumer"),
    ],
)
def test_bad_arguments(
    env: str, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, "report", *argv)
    assert code == 1 and err.startswith("error: ") and message in err and "Traceback" not in err


def test_an_unknown_filter_value_names_the_known_ones(
    env: str, store: TouchpointStore, capsys: pytest.CaptureFixture[str]
) -> None:
    load(store)
    code, _, err = run(capsys, "report", "--channel", "fax")
    assert code == 1 and "known values: sms, web, whatsapp" in err
    code, _, err = run(capsys, "report", "--persona", "alien")
    assert code == 1 and "known values: homeowner, senior, tenant" in err
    code, _, err = run(capsys, "report", "--product", "laadpaal")
    assert code == 1 and "known values: thuisbatterij, warmtepomp, zonnepanelen" in err


def test_formats_to_a_file(
    env: str, store: TouchpointStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load(store)
    for fmt in ("text", "html", "json", "csv"):
        target = tmp_path / f"report.{fmt}"
        code, _, err = run(
            capsys, "report", "--format", fmt, "--output", str(target), "--until", "2025-03-09"
        )
        assert code == 0 and f"Wrote the {fmt} report" in err
        assert target.stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text())["overview"]["sessions"] == 7
    assert "overview,,,sessions,7" in (tmp_path / "report.csv").read_text()


def test_demo_data_is_marked_and_refused_on_real_data(
    env: str, store: TouchpointStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo-data", "--sessions", "40")
    assert code == 0 and "Added 40 synthetic touchpoints" in out
    code, out, _ = run(capsys, "demo-data", "--sessions", "10")  # synthetic only: more may be added
    assert code == 0
    code, out, _ = run(capsys, "report", "--format", "json")
    data = json.loads(out)
    assert data["synthetic"] is True and data["overview"]["sessions"] >= 50
    load(store)  # real conversations arrive
    code, _, err = run(capsys, "demo-data", "--sessions", "10")
    assert code == 1 and "holds 7 real conversations" in err and "--force" in err
    code, out, _ = run(capsys, "demo-data", "--sessions", "10", "--force")
    assert code == 0
    code, _, err = run(capsys, "demo-data", "--sessions", "lots")
    assert code == 1 and "--sessions must be a whole number" in err
    store.record_turn(store_turn())  # the store still writes after explicit demo ids (PostgreSQL sequence)


def store_turn():  # type: ignore[no-untyped-def]
    from tests.store.helpers import turn

    return turn("after-demo")


def test_unreachable_database(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.store.helpers import closed_port_url

    monkeypatch.setenv("DATABASE_URL", closed_port_url())
    code, _, err = run(capsys, "report")
    assert code == 1 and "unreachable" in err and "Traceback" not in err
