"""CHATWOOT_* settings: off by default (also in a fresh .env), and every bad value named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from dotenv import dotenv_values

from bot import envfile
from bot.settings import PROJECT_ROOT, SettingsError, chatwoot

GOOD = {
    "CHATWOOT_URL": "https://chatwoot.example.com/",
    "CHATWOOT_API_TOKEN": "agent-token",
    "CHATWOOT_ACCOUNT_ID": "1",
    "CHATWOOT_INBOX_ID": "4",
    "CHATWOOT_WEBHOOK_TOKEN": "w" * 20,
}


def test_a_fresh_env_file_leaves_the_live_handover_off(tmp_path: Path) -> None:
    assert envfile.create_env(PROJECT_ROOT / ".env.example", tmp_path / ".env")
    values = {k: v or "" for k, v in dotenv_values(tmp_path / ".env").items()}
    assert chatwoot(values) is None


def test_good_settings_are_read() -> None:
    settings = chatwoot(GOOD)
    assert settings is not None
    assert (settings.url, settings.account_id, settings.inbox_id) == ("https://chatwoot.example.com", 1, 4)
    assert settings.webhook_secret is None and settings.timeout_seconds == 5.0


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("CHATWOOT_URL", "chatwoot.example.com", "CHATWOOT_URL"),
        ("CHATWOOT_API_TOKEN", "", "CHATWOOT_API_TOKEN"),
        ("CHATWOOT_ACCOUNT_ID", "een", "CHATWOOT_ACCOUNT_ID"),
        ("CHATWOOT_INBOX_ID", "0", "CHATWOOT_INBOX_ID"),
        ("CHATWOOT_WEBHOOK_TOKEN", "short", "CHATWOOT_WEBHOOK_TOKEN"),
        ("CHATWOOT_WEBHOOK_TOKEN", "change-me", "CHATWOOT_WEBHOOK_TOKEN"),
        ("CHATWOOT_TIMEOUT", "600", "CHATWOOT_TIMEOUT"),
    ],
)
def test_a_bad_setting_is_named(name: str, value: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        chatwoot({**GOOD, name: value})
