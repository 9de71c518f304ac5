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
    "HANDOFF_KEY",
    "HANDOFF_WEBHOOK_SECRET",
    "SMTP_PASSWORD",
    "CHATWOOT_API_TOKEN",
    "CHATWOOT_WEBHOOK_TOKEN",
    "CHATWOOT_WEBHOOK_SECRET",
    "REPORT_TOKEN",
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


def database_url(env: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL, the touchpoint database (also the channels' inbox); SQLite under var/ by default."""
    return (os.environ if env is None else env).get("DATABASE_URL") or sqlite_url("journey.db")


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


@dataclass(frozen=True)
class HandoffDelivery:
    """Where callback requests go (bot.handoff): a signed webhook, e-mail, or both; None = not used."""

    webhook_url: str | None
    webhook_secret: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str | None
    smtp_to: tuple[str, ...]
    smtp_starttls: bool
    timeout_seconds: float

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(name for name, on in (("webhook", self.webhook_url), ("email", self.smtp_host)) if on)


def handoff_key(env: Mapping[str, str] | None = None) -> str:
    """HANDOFF_KEY seals callback contact data; without it a key is derived from PSEUDONYM_KEY."""
    env = env if env is not None else os.environ
    if env.get("HANDOFF_KEY", "") not in ("", PLACEHOLDER):
        return _secret("HANDOFF_KEY", env)
    base = _secret("PSEUDONYM_KEY", env).encode("utf-8")
    return hmac.new(base, b"handoff-key", hashlib.sha256).hexdigest()


def handoff_delivery(env: Mapping[str, str] | None = None) -> HandoffDelivery:
    """HANDOFF_WEBHOOK_URL/_SECRET, SMTP_HOST/_PORT/_USER/_PASSWORD/_FROM/_TO/_STARTTLS, HANDOFF_TIMEOUT."""
    env = env if env is not None else os.environ
    url = env.get("HANDOFF_WEBHOOK_URL", "").strip() or None
    if url and not url.startswith(("http://", "https://")):
        raise SettingsError(f"HANDOFF_WEBHOOK_URL must start with http:// or https://, got {url[:40]!r}")
    secret = _secret("HANDOFF_WEBHOOK_SECRET", env) if url else None
    host = env.get("SMTP_HOST", "").strip() or None
    raw_port = env.get("SMTP_PORT", "").strip() or "587"
    if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
        raise SettingsError(f"SMTP_PORT must be a port number from 1 to 65535, got {raw_port!r}")
    recipients = tuple(a.strip() for a in env.get("SMTP_TO", "").split(",") if a.strip())
    sender = env.get("SMTP_FROM", "").strip() or None
    if host and (not recipients or not sender):
        raise SettingsError("SMTP_HOST is set: SMTP_FROM and SMTP_TO (comma-separated) are needed too")
    raw_timeout = env.get("HANDOFF_TIMEOUT", "").strip() or "10"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = 0.0
    if not 0.1 <= timeout <= 120:
        raise SettingsError(f"HANDOFF_TIMEOUT must be seconds from 0.1 to 120, got {raw_timeout!r}")
    starttls = env.get("SMTP_STARTTLS", "true").strip().lower() not in ("false", "0", "no", "")
    return HandoffDelivery(
        webhook_url=url,
        webhook_secret=secret,
        smtp_host=host,
        smtp_port=int(raw_port),
        smtp_user=env.get("SMTP_USER", "").strip() or None,
        smtp_password=env.get("SMTP_PASSWORD", "") or None,
        smtp_from=sender,
        smtp_to=recipients,
        smtp_starttls=starttls,
        timeout_seconds=timeout,
    )


@dataclass(frozen=True)
class ChatwootSettings:
    """The live handover to an agent inbox (bot.channels.chatwoot); see docs/HANDOFF.md."""

    url: str
    api_token: str
    account_id: int
    inbox_id: int
    webhook_token: str
    webhook_secret: str | None
    timeout_seconds: float


def chatwoot(env: Mapping[str, str] | None = None) -> ChatwootSettings | None:
    """CHATWOOT_URL/_API_TOKEN/_ACCOUNT_ID/_INBOX_ID/_WEBHOOK_TOKEN/_WEBHOOK_SECRET/_TIMEOUT; None = off."""
    env = env if env is not None else os.environ
    url = env.get("CHATWOOT_URL", "").strip().rstrip("/")
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"CHATWOOT_URL must start with http:// or https://, got {url[:40]!r}")
    token = env.get("CHATWOOT_API_TOKEN", "").strip()
    if not token or token == PLACEHOLDER:
        raise SettingsError("CHATWOOT_URL is set: CHATWOOT_API_TOKEN (an agent's access token) is needed too")
    ids = {}
    for name in ("CHATWOOT_ACCOUNT_ID", "CHATWOOT_INBOX_ID"):
        raw = env.get(name, "").strip()
        if not raw.isdigit() or int(raw) < 1:
            raise SettingsError(f"{name} must be Chatwoot's numeric id (1 or more), got {raw[:20]!r}")
        ids[name] = int(raw)
    raw_timeout = env.get("CHATWOOT_TIMEOUT", "").strip() or "5"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        timeout = 0.0
    if not 0.1 <= timeout <= 60:
        raise SettingsError(f"CHATWOOT_TIMEOUT must be seconds from 0.1 to 60, got {raw_timeout!r}")
    secret = env.get("CHATWOOT_WEBHOOK_SECRET", "").strip()
    return ChatwootSettings(
        url=url,
        api_token=token,
        account_id=ids["CHATWOOT_ACCOUNT_ID"],
        inbox_id=ids["CHATWOOT_INBOX_ID"],
        webhook_token=_secret("CHATWOOT_WEBHOOK_TOKEN", env),
        webhook_secret=secret if secret and secret != PLACEHOLDER else None,
        timeout_seconds=timeout,
    )


def report_token(env: Mapping[str, str] | None = None) -> str | None:
    """REPORT_TOKEN guards the HTML report on the demo web server; None (unset) = not served."""
    env = env if env is not None else os.environ
    if env.get("REPORT_TOKEN", "") in ("", PLACEHOLDER):
        return None
    return _secret("REPORT_TOKEN", env)


DEFAULT_BURST_MAX_WAITING = 20
DEFAULT_BURST_WAIT_SECONDS = 10.0


def burst_max_waiting(env: Mapping[str, str] | None = None) -> int:
    """BURST_MAX_WAITING: how many messages of one conversation may wait for their turn (bot.channels.bursts)."""
    raw = (env if env is not None else os.environ).get("BURST_MAX_WAITING", "") or str(
        DEFAULT_BURST_MAX_WAITING
    )
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise SettingsError(f"BURST_MAX_WAITING must be a whole number from 1 to 1000, got {raw!r}")
    return int(raw)


def burst_wait_seconds(env: Mapping[str, str] | None = None) -> float:
    """BURST_WAIT_SECONDS: how long a message waits for its conversation's turn before the channel says so."""
    raw = (env if env is not None else os.environ).get("BURST_WAIT_SECONDS", "") or str(
        DEFAULT_BURST_WAIT_SECONDS
    )
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0.1 <= seconds <= 300:
        raise SettingsError(f"BURST_WAIT_SECONDS must be a number of seconds from 0.1 to 300, got {raw!r}")
    return seconds


DEFAULT_ACTION_WAIT_SECONDS = 20.0


def action_wait_seconds(env: Mapping[str, str] | None = None) -> float:
    """ACTION_WAIT_SECONDS: how long Rasa waits for an unreachable action server (bot.action_retry); 0 = not."""
    raw = (env if env is not None else os.environ).get("ACTION_WAIT_SECONDS", "") or str(
        DEFAULT_ACTION_WAIT_SECONDS
    )
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 120:
        raise SettingsError(f"ACTION_WAIT_SECONDS must be a number of seconds from 0 to 120, got {raw!r}")
    return seconds


DEFAULT_TRACKER_CACHE_EVENTS = 50_000  # about 1.7 KB each: ~80 MB per Rasa process


def tracker_cache_events(env: Mapping[str, str] | None = None) -> int:
    """TRACKER_CACHE_EVENTS: how many conversation events each Rasa process keeps read (bot.rasa_stores); 0 = none."""
    raw = (env if env is not None else os.environ).get("TRACKER_CACHE_EVENTS", "") or str(
        DEFAULT_TRACKER_CACHE_EVENTS
    )
    if not raw.isdigit() or int(raw) > 10_000_000:
        raise SettingsError(f"TRACKER_CACHE_EVENTS must be a whole number from 0 to 10000000, got {raw!r}")
    return int(raw)
