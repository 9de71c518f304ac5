"""`journey purge | forget | export`: exit 0 on success, 1 with one clear `error:` line otherwise."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import PROJECT_ROOT
from bot.store import TouchpointStore
from tests.store.helpers import KEY, closed_port_url, count_events, save_rasa_conversation, turn


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "DATABASE_URL": database_url,
        "TRACKER_STORE_URL": database_url,
        "PSEUDONYM_KEY": KEY,
        "SPOOL_DIR": str(tmp_path / "spool"),
        "RETENTION_DAYS": "180",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def recorded(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    store = TouchpointStore(database_url, KEY, tmp_path / "spool", database_url)
    old = datetime.now(timezone.utc) - timedelta(days=400)
    store.record_turn(turn("visitor-1", session=old))
    store.record_turn(turn("visitor-2", session=datetime.now(timezone.utc)))
    store.close()
    save_rasa_conversation(database_url, "visitor-1", ["hoi"], at=old)


def test_export_to_a_file(recorded: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "turns.json"
    assert main(["export", "--table", "turns", "--format", "json", "--output", str(target)]) == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 2
    assert "Exported 2 turns" in capsys.readouterr().err


def test_export_to_standard_output_keeps_the_status_apart(
    recorded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--table", "touchpoints", "--format", "csv"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("id,sender_key,")
    assert len(captured.out.strip().splitlines()) == 3
    assert "Exported 2 touchpoints" in captured.err


def test_forget(recorded: None, database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forget", "visitor-1"]) == 0
    output = capsys.readouterr().out
    assert "removed 1 touchpoints, 1 turns" in output
    assert "visitor-1" not in output
    assert count_events(database_url, "visitor-1") == 0


def test_forget_by_phone_number_finds_the_keyed_whatsapp_conversation(
    env: dict[str, str],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.conversation_ids import conversation_id
    from bot.settings import conversation_key

    monkeypatch.setenv("CONVERSATION_KEY", "k" * 32)
    keyed = conversation_id("whatsapp", "+31612345678", conversation_key())
    store = TouchpointStore(database_url, KEY, tmp_path / "spool", database_url)
    store.record_turn(turn(keyed, session=datetime.now(timezone.utc)))
    store.close()
    save_rasa_conversation(database_url, keyed, ["hoi"], at=datetime.now(timezone.utc))
    assert main(["forget", "--channel", "whatsapp", "+31 6 12345678"]) == 0
    assert "removed 1 touchpoints, 1 turns" in capsys.readouterr().out
    assert count_events(database_url, keyed) == 0


def test_forget_erases_a_waiting_whatsapp_message_from_the_inbox(
    env: dict[str, str],
    database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.conversation_ids import conversation_id
    from bot.inbox.store import InboxStore, Received
    from bot.settings import conversation_key

    monkeypatch.setenv("CONVERSATION_KEY", "k" * 32)
    keyed = conversation_id("whatsapp", "+31612345678", conversation_key())
    other = conversation_id("whatsapp", "+31687654321", conversation_key())
    inbox = InboxStore(database_url, "s" * 32, channel="whatsapp")
    inbox.add([Received("whatsapp", "wamid.1", keyed, {"text": "mijn adres is Dorpsstraat 1"}),
               Received("whatsapp", "wamid.2", other, {"text": "hallo"})])  # fmt: skip
    assert main(["forget", "--channel", "whatsapp", "+31 6 12345678"]) == 0
    assert inbox.backlog(keyed) == 0 and inbox.backlog(other) == 1
    inbox.close()


def test_purge_with_the_default_retention(
    recorded: None, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["purge"]) == 0
    assert "Removed 1 touchpoints, 1 turns" in capsys.readouterr().out
    assert count_events(database_url) == 0


def test_purge_with_a_shorter_period(recorded: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purge", "--older-than-days", "500"]) == 0
    assert "Removed 0 touchpoints, 0 turns and 0 conversation events older than 500 days" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["purge", "--older-than-days", "0"], "--older-than-days"),
        (["purge", "--older-than-days", "-5"], "--older-than-days"),
        (["purge", "--older-than-days", "een week"], "--older-than-days"),
        (["forget", "  "], "SENDER_ID"),
        (["forget"], "SENDER_ID is required"),
        (["export", "--format", "csv"], "--table must be one of touchpoints, turns"),
        (["export", "--table", "events", "--format", "csv"], "--table"),
        (["export", "--table", "turns", "--format", "xlsx"], "--format"),
        (["export", "--table", "turns", "--format", "csv", "--output", "/no/such/dir/x.csv"], "No such file"),
    ],
)
def test_bad_input_gives_one_error_line(
    env: dict[str, str], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and message in error
    assert "Traceback" not in error


def test_a_missing_pseudonym_key_is_named(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PSEUDONYM_KEY", "")
    assert main(["forget", "visitor-1"]) == 1
    assert "PSEUDONYM_KEY is not set" in capsys.readouterr().err


def test_an_unreachable_database_is_reported(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", closed_port_url().replace("postgres@", "postgres:secret@"))
    assert main(["purge"]) == 1
    error = capsys.readouterr().err
    assert "unreachable" in error
    assert "secret" not in error


def test_the_console_script_prints_no_traceback() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "purge", "--older-than-days", "x"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: --older-than-days")
    assert "Traceback" not in result.stderr
