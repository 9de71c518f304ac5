"""`.env` creation and validation: a bad or missing setting names the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot import envfile
from bot.settings import (
    DEFAULT_TRACKER_CACHE_EVENTS,
    SettingsError,
    check_env_file,
    read_settings,
    tracker_cache_events,
)

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"
VALID = {
    "RASA_AUTH_TOKEN": "t" * 32,
    "PSEUDONYM_KEY": "k" * 32,
    "RASA_PORT": "5005",
    "ACTION_PORT": "5055",
    "WEB_PORT": "8080",
    "RETENTION_DAYS": "180",
    "DATABASE_URL": "",
    "TRACKER_STORE_URL": "",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in VALID.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_first_run_creates_env_with_distinct_random_secrets(tmp_path: Path) -> None:
    (tmp_path / ".env.example").write_text(EXAMPLE.read_text())
    assert envfile.create_env(tmp_path / ".env.example", tmp_path / ".env")
    created = dict(
        line.split("=", 1)
        for line in (tmp_path / ".env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert "change-me" not in created.values()
    assert len(created["RASA_AUTH_TOKEN"]) >= 32
    assert created["RASA_AUTH_TOKEN"] != created["PSEUDONYM_KEY"]
    assert oct((tmp_path / ".env").stat().st_mode)[-3:] == "600"
    assert not envfile.create_env(tmp_path / ".env.example", tmp_path / ".env"), "an existing .env is kept"


def test_valid_settings_are_typed(env: pytest.MonkeyPatch) -> None:
    settings = read_settings()
    assert settings.rasa_port == 5005
    assert settings.database_url.startswith("sqlite:///")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RASA_AUTH_TOKEN", "", "RASA_AUTH_TOKEN is not set"),
        ("RASA_AUTH_TOKEN", "change-me", "RASA_AUTH_TOKEN is not set"),
        ("PSEUDONYM_KEY", "short", "PSEUDONYM_KEY is too short"),
        ("RASA_PORT", "50x5", "RASA_PORT must be a port number"),
        ("WEB_PORT", "70000", "WEB_PORT must be a port number"),
        ("RETENTION_DAYS", "-1", "RETENTION_DAYS must be a whole number"),
        ("DATABASE_URL", "localhost/db", "DATABASE_URL must be a database URL"),
    ],
)
def test_a_bad_setting_names_the_variable(
    env: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        read_settings()


def test_malformed_lines_are_reported_with_their_line_number(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\nRASA_AUTH_TOKEN=abc\nthis is not a setting\n\nexport PSEUDONYM_KEY=x\n")
    assert check_env_file(path) == [".env:3: expected NAME=value, got 'this is not a setting'"]


def test_envfile_main_fails_clearly_on_a_broken_env(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "environ", {})  # main() loads .env into the environment: keep it local
    (tmp_path / ".env.example").write_text(EXAMPLE.read_text())
    (tmp_path / ".env").write_text("RASA_AUTH_TOKEN=\nnonsense line\n")
    assert envfile.main(tmp_path) == 1
    err = capsys.readouterr().err
    assert ".env:2: expected NAME=value" in err


def test_tracker_cache_events_is_a_bounded_whole_number() -> None:
    assert tracker_cache_events({}) == DEFAULT_TRACKER_CACHE_EVENTS
    assert tracker_cache_events({"TRACKER_CACHE_EVENTS": "0"}) == 0
    for bad in ("-1", "lots", "1e6", "10000001"):
        with pytest.raises(SettingsError, match="TRACKER_CACHE_EVENTS"):
            tracker_cache_events({"TRACKER_CACHE_EVENTS": bad})
