"""Settings from `.env` and the environment, checked up front so a bad value fails with a clear message."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "change-me"
_LINE = re.compile(r"^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=.*$")
_SECRETS = ("RASA_AUTH_TOKEN", "PSEUDONYM_KEY")
_PORTS = ("RASA_PORT", "ACTION_PORT", "WEB_PORT")
_LOGGED_SECRETS = (
    "RASA_AUTH_TOKEN",
    "PSEUDONYM_KEY",
    "ACTION_SERVER_TOKEN",
    "CONVERSATION_KEY",
    "SOCKETIO_JWT_KEY",
    "REST_TOKEN",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_ACCESS_TOKEN",
    "TWILIO_AUTH_TOKEN",
)


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable and what to do."""


@dataclass(frozen=True)
class Settings:
    rasa_auth_token: str
    pseudonym_key: str
    rasa_port: int
    action_port: int
    web_port: int
    retention_days: int
    database_url: str
    tracker_store_url: str


def check_env_file(path: Path) -> list[str]:
    """Return one message per line of the file that python-dotenv would silently skip."""
    problems = []
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _LINE.match(line):
            problems.append(f"{path.name}:{number}: expected NAME=value, got {stripped[:40]!r}")
    return problems


def load_env(path: Path | None = None) -> None:
    """Put `.env` values into os.environ without overriding what the environment already set."""
    env_path = path or PROJECT_ROOT / ".env"
    if not env_path.exists():
        return
    for key, value in dotenv_values(env_path).items():
        if value is not None:
            os.environ.setdefault(key, value)


def _port(name: str) -> int:
    raw = os.environ.get(name, "")
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{name} must be a port number from 1 to 65535, got {raw!r}")
    return int(raw)


def _secret(name: str, env: Mapping[str, str] | None = None) -> str:
    value = (env if env is not None else os.environ).get(name, "")
    if not value or value == PLACEHOLDER:
        raise SettingsError(f"{name} is not set: run `make run` once to generate .env, or set it in .env")
    if len(value) < 16:
        raise SettingsError(
            f"{name} is too short ({len(value)} characters): use at least 16 random characters"
        )
    return value


def rasa_auth_token() -> str:
    """Rasa's HTTP API token, for bot.rasaserver, which hands it to Rasa without the command line."""
    return _secret("RASA_AUTH_TOKEN")


def action_server_token() -> str:
    """The secret Rasa sends the action server with every call (endpoints.yml) and it checks."""
    return _secret("ACTION_SERVER_TOKEN")


def action_host(env: Mapping[str, str] | None = None) -> str:
    """The address the action server listens on: loopback unless it runs on another host than Rasa."""
    return (os.environ if env is None else env).get("ACTION_HOST") or "127.0.0.1"


def secret_values() -> tuple[str, ...]:
    """Every configured secret, so log lines can be scrubbed of them (short values would over-match)."""
    values = (os.environ.get(name, "") for name in _LOGGED_SECRETS)
    return tuple(value for value in values if len(value) >= 8 and value != PLACEHOLDER)


def sqlite_url(file_name: str) -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / file_name}"


def read_settings() -> Settings:
    """Validate the environment (after load_env) and return typed settings."""
    retention = os.environ.get("RETENTION_DAYS", "180") or "180"
    if not retention.isdigit() or int(retention) < 1:
        raise SettingsError(f"RETENTION_DAYS must be a whole number of days (1 or more), got {retention!r}")
    for name in ("DATABASE_URL", "TRACKER_STORE_URL"):
        url = os.environ.get(name, "")
        if url and "://" not in url:
            raise SettingsError(
                f"{name} must be a database URL such as postgresql://user@host/db, got {url!r}"
            )
    return Settings(
        rasa_auth_token=_secret("RASA_AUTH_TOKEN"),
        pseudonym_key=_secret("PSEUDONYM_KEY"),
        rasa_port=_port("RASA_PORT"),
        action_port=_port("ACTION_PORT"),
        web_port=_port("WEB_PORT"),
        retention_days=int(retention),
        database_url=os.environ.get("DATABASE_URL") or sqlite_url("journey.db"),
        tracker_store_url=os.environ.get("TRACKER_STORE_URL") or sqlite_url("rasa_tracker.db"),
    )


DEFAULT_MAX_MESSAGE_CHARS = 2000
MAX_MESSAGE_CHARS_CEILING = 10_000


def max_message_chars(env: Mapping[str, str] | None = None) -> int:
    """MAX_MESSAGE_CHARS: longer messages are cut before NLU (its cost grows with the square of the length)."""
    env = env if env is not None else os.environ
    raw = env.get("MAX_MESSAGE_CHARS", "") or str(DEFAULT_MAX_MESSAGE_CHARS)
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_MESSAGE_CHARS_CEILING:
        raise SettingsError(
            f"MAX_MESSAGE_CHARS must be a whole number from 1 to {MAX_MESSAGE_CHARS_CEILING}, got {raw!r}"
        )
    return int(raw)


def conversation_key(env: Mapping[str, str] | None = None) -> str:
    """CONVERSATION_KEY, which keys the hashed conversation ids of the phone channels.

    A `.env` made before the key existed has none: then a key is derived from PSEUDONYM_KEY (its own
    HMAC domain), so existing installations keep working; rotating PSEUDONYM_KEY then changes it too.
    """
    env = env if env is not None else os.environ
    if env.get("CONVERSATION_KEY", "") not in ("", PLACEHOLDER):
        return _secret("CONVERSATION_KEY", env)
    base = _secret("PSEUDONYM_KEY", env).encode("utf-8")
    return hmac.new(base, b"conversation-id-key", hashlib.sha256).hexdigest()
