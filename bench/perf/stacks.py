"""The servers under test, one stack at a time, on free loopback ports; every process stopped at the end.

The assistant starts through bot.devserver.running_stack, exactly as `make run` and the end-to-end
tests start it (own SQLite databases and a copy of journeys/ in the work directory). Its scale-out
profile is `--replicas 2` of bot.devserver on fresh PostgreSQL databases and a Redis database of
its own (bench.perf.services). The plain bot is `python -m rasa run` under the same supervisor,
without the HTTP API (nothing to protect).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.perf import services
from bench.perf.plainbot import endpoints_file
from bot.devserver import Ports, running_stack, scale_out_problems
from bot.settings import PROJECT_ROOT
from bot.supervisor import Supervisor

START_TIMEOUT_SECONDS = 300
SCALED_PROCESSES = ("rasa server", "rasa server 2", "action server", "action server 2")


@dataclass
class RunningStack:
    name: str
    rest_url: str
    pids: dict[str, int]  # process name -> pid, for memory and the profiler
    token: str | None = None  # Rasa's HTTP API token (the assistant only)
    journeys_dir: Path | None = None
    action_url: str | None = None
    action_token: str | None = None
    replica_urls: tuple[str, ...] = ()  # the scale-out profile's further Rasa servers

    @property
    def webhook(self) -> str:
        return f"{self.rest_url}/webhooks/rest/webhook"

    @property
    def rest_urls(self) -> tuple[str, ...]:
        """Every Rasa server of the stack: the first, then the replicas'."""
        return (self.rest_url, *self.replica_urls)

    @property
    def webhooks(self) -> tuple[str, ...]:
        """The REST webhook of every Rasa server; bench.perf.load spreads conversations over them."""
        return tuple(f"{url}/webhooks/rest/webhook" for url in self.rest_urls)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's high-water mark of the process's resident memory (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _log(line: str) -> None:
    print(f"  [{line}]", file=sys.stderr, flush=True)


def assistant_env(work: Path, journeys: Path) -> dict[str, str]:
    """Fresh secrets and databases under `work`; SQLite for touchpoints and conversations, as shipped."""
    return {
        "RASA_AUTH_TOKEN": secrets.token_urlsafe(24),
        "PSEUDONYM_KEY": secrets.token_urlsafe(24),
        "CONVERSATION_KEY": secrets.token_urlsafe(24),
        "ACTION_SERVER_TOKEN": secrets.token_urlsafe(24),
        "SOCKETIO_JWT_KEY": secrets.token_urlsafe(24),
        "DATABASE_URL": f"sqlite:///{work / 'journey.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{work / 'rasa_tracker.db'}",
        "SPOOL_DIR": str(work / "spool"),
        "JOURNEYS_DIR": str(journeys),
        "REDIS_URL": "",
        "REPORT_TOKEN": "",
        "HANDOFF_WEBHOOK_URL": "",
        "SMTP_HOST": "",
        "RETENTION_DAYS": "180",
        "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(16),
        "WHATSAPP_APP_SECRET": secrets.token_urlsafe(24),
        "WHATSAPP_ACCESS_TOKEN": secrets.token_urlsafe(24),
        "WHATSAPP_PHONE_NUMBER_ID": "123456789012345",
        "WHATSAPP_API_BASE": "http://127.0.0.1:9/unused",
        "TWILIO_ACCOUNT_SID": "ACbenchmark",
        "TWILIO_AUTH_TOKEN": secrets.token_urlsafe(24),
        "TWILIO_NUMBER": "+3197000000000",
        "TWILIO_PUBLIC_URL": "",
    }


@contextmanager
def assistant(work: Path, model: Path) -> Iterator[RunningStack]:
    """This assistant: Rasa server + action server (+ the demo web server running_stack brings)."""
    work.mkdir(parents=True, exist_ok=True)
    journeys = work / "journeys"
    shutil.copytree(PROJECT_ROOT / "journeys", journeys)
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    env = assistant_env(work, journeys)
    with running_stack(
        ports, env, model=model, log_dir=work / "logs", timeout=START_TIMEOUT_SECONDS, log=_log,
        max_quick_failures=1,
    ) as stack:  # fmt: skip
        pids = {
            name: pid
            for name in ("rasa server", "action server")
            if (pid := stack.supervisor.pid(name)) is not None
        }
        yield RunningStack(
            "assistant", stack.rasa_url, pids, token=stack.token, journeys_dir=journeys,
            action_url=stack.action_url, action_token=stack.action_token,
        )  # fmt: skip


@contextmanager
def assistant_scaled(work: Path, model: Path) -> Iterator[RunningStack]:
    """The scale-out profile: 2 Rasa servers + their 2 action servers, sharing PostgreSQL and Redis.

    Fresh databases for conversations and touchpoints, the benchmark's own Redis database; the
    processes stop before the databases are dropped and Redis is flushed, also on an error or Ctrl-C.
    """
    work.mkdir(parents=True, exist_ok=True)
    journeys = work / "journeys"
    shutil.copytree(PROJECT_ROOT / "journeys", journeys)
    server = services.postgres_server_url()
    with (
        services.fresh_postgres_database(server, f"{services.DATABASE_PREFIX}_tracker") as tracker_url,
        services.fresh_postgres_database(
            server, f"{services.DATABASE_PREFIX}_touchpoints"
        ) as touchpoints_url,
        services.flushed_redis_database(services.redis_url()) as redis_url,
    ):
        env = {
            **assistant_env(work, journeys),
            "TRACKER_STORE_URL": tracker_url,
            "DATABASE_URL": touchpoints_url,
            "REDIS_URL": redis_url,
        }
        if problems := scale_out_problems(env):
            raise RuntimeError("; ".join(problems))
        first = Ports(rasa=free_port(), action=free_port(), web=free_port())
        second = Ports(rasa=free_port(), action=free_port(), web=first.web)
        with running_stack(
            first, env, model=model, log_dir=work / "logs", timeout=START_TIMEOUT_SECONDS, log=_log,
            max_quick_failures=1, replicas=[second],
        ) as stack:  # fmt: skip
            pids = {name: pid for name in SCALED_PROCESSES if (pid := stack.supervisor.pid(name)) is not None}
            urls = stack.rasa_urls
            yield RunningStack(
                "assistant-scaled", urls[0], pids, token=stack.token, journeys_dir=journeys,
                action_url=stack.action_url, action_token=stack.action_token, replica_urls=tuple(urls[1:]),
            )  # fmt: skip


def _wait_for_rest(url: str, supervisor: Supervisor, deadline: float) -> None:
    """Rasa answers / only once the model is loaded; then one message proves the webhook works."""
    while time.monotonic() < deadline:
        if supervisor.gave_up:
            raise RuntimeError(f"{supervisor.gave_up} while starting")
        try:
            if httpx.get(f"{url}/", timeout=2).status_code == 200:
                reply = httpx.post(
                    f"{url}/webhooks/rest/webhook", json={"sender": "warmup", "message": "hallo"}, timeout=60
                )
                if reply.status_code == 200:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"timed out after {START_TIMEOUT_SECONDS}s waiting for the plain bot at {url}")


@contextmanager
def plain(work: Path, project: Path, model: Path, *, sql: bool) -> Iterator[RunningStack]:
    """The plain bot, with Rasa's SQL tracker store on a fresh SQLite file (sql) or in memory."""
    work.mkdir(parents=True, exist_ok=True)
    tracker_db = work / "rasa_tracker.db"
    endpoints = endpoints_file(work, tracker_db if sql else None)
    port = free_port()
    command = [
        sys.executable, "-m", "rasa", "run", "-i", "127.0.0.1", "-p", str(port),
        "--model", str(model), "--endpoints", str(endpoints), "--credentials", str(project / "credentials.yml"),
    ]  # fmt: skip
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    env["TRACKER_STORE_URL"] = f"sqlite:///{tracker_db}"
    supervisor = Supervisor(log=_log, max_quick_failures=1)
    name = f"plain-{'sql' if sql else 'memory'}"
    try:
        supervisor.add("rasa server", command, env=env, cwd=work, log_path=work / f"{name}.log")
        supervisor.start()
        url = f"http://127.0.0.1:{port}"
        _wait_for_rest(url, supervisor, time.monotonic() + START_TIMEOUT_SECONDS)
        pid = supervisor.pid("rasa server")
        yield RunningStack(name, url, {"rasa server": pid} if pid else {})
    finally:
        supervisor.stop()
