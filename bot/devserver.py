"""Start the action server, the Rasa server and the demo web page together, and keep them running.

`make run` and the end-to-end tests both use this, so the tests exercise what people run.
Ctrl-C stops everything cleanly. If one process dies, bot.supervisor restarts it with backoff
and a log line naming it while the others keep running; after a few quick failures in a row it
gives up with a clear message and everything stops. deploy/ runs the same commands in
production (honcho or systemd); a test keeps them identical.

`--replicas 2` is the scale-out profile on one machine (docs/SCALING.md): two Rasa servers and
two action servers on their own ports, each Rasa server with its own action server, sharing
PostgreSQL (conversations and touchpoints) and Redis (conversation locks).
"""

from __future__ import annotations

import argparse
import http.server
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.analytics.server import REPORT_PATH, ReportSite
from bot.settings import (
    PROJECT_ROOT,
    SettingsError,
    action_host,
    database_url,
    load_env,
    read_settings,
    report_token,
)
from bot.supervisor import Supervisor
from bot.webserver import serve_web

# Only for Rasa: Sanic refuses request bodies over 64 KB (the action server takes larger trackers),
# and Rasa sends no usage data.
RASA_ENV = {"SANIC_REQUEST_MAX_SIZE": "65536", "RASA_TELEMETRY_ENABLED": "false"}


@dataclass(frozen=True)
class Ports:
    rasa: int
    action: int
    web: int


@dataclass
class Stack:
    """The supervised processes, and the URLs a client needs."""

    ports: Ports
    token: str
    action_token: str
    action_url: str
    supervisor: Supervisor
    web_server: http.server.ThreadingHTTPServer | None = None
    report: ReportSite | None = None
    replicas: tuple[Ports, ...] = ()

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa server: the first, then the replicas'."""
        return [self.rasa_url, *(f"http://127.0.0.1:{ports.rasa}" for ports in self.replicas)]

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}/index.html"

    @property
    def report_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}{REPORT_PATH}"

    def stop(self) -> None:
        self.supervisor.stop()
        if self.web_server is not None:
            self.web_server.shutdown()
            self.web_server.server_close()
        if self.report is not None:
            self.report.close()


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return models[-1] if models else None


def process_commands(
    ports: Ports,
    *,
    model: Path,
    credentials: Path,
    endpoints: Path,
    python: str = sys.executable,
) -> dict[str, list[str]]:
    """The two server commands; deploy/Procfile and the systemd units run the same ones."""
    return {
        "action server": [python, "-m", "bot.actionserver", "--port", str(ports.action)],
        "rasa server": [
            python, "-m", "bot.rasaserver", "--enable-api",
            "-i", "127.0.0.1", "-p", str(ports.rasa), "--cors", "*",
            "--credentials", str(credentials), "--endpoints", str(endpoints), "--model", str(model),
        ],
    }  # fmt: skip


def action_base_url(env: Mapping[str, str], port: int) -> str:
    """Where Rasa reaches the action server: its own address, or loopback when it listens on all."""
    host = action_host(env)
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def busy_ports(ports: Ports) -> list[str]:
    """Settings whose port something else already listens on, so start-up can say which."""
    named = (("RASA_PORT", ports.rasa), ("ACTION_PORT", ports.action), ("WEB_PORT", ports.web))
    return [f"{name}={port}" for name, port in named if not _free(port)]


def _suffix(replica: int) -> str:
    """Process names: "rasa server", then "rasa server 2", "rasa server 3" for the replicas."""
    return "" if replica == 1 else f" {replica}"


def _wait_until_ready(stack: Stack, timeout: float) -> None:
    """Wait for every server to answer; raise with the supervisor's message if it gives up on one."""
    checks: dict[str, str] = {}
    for replica, ports in enumerate((stack.ports, *stack.replicas), start=1):
        action_url = f"{stack.action_url.rsplit(':', 1)[0]}:{ports.action}"
        checks[f"action server{_suffix(replica)}"] = f"{action_url}/health"
        checks[f"rasa server{_suffix(replica)}"] = f"http://127.0.0.1:{ports.rasa}/status?token={stack.token}"
    deadline = time.monotonic() + timeout
    pending = dict(checks)
    while pending:
        if stack.supervisor.gave_up:
            raise RuntimeError(f"{stack.supervisor.gave_up} while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for: {', '.join(pending)}")
        for name, url in list(pending.items()):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.5)


def _print_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextmanager
def running_stack(
    ports: Ports,
    env: Mapping[str, str],
    *,
    model: Path,
    log_dir: Path,
    credentials: Path = PROJECT_ROOT / "credentials.yml",
    timeout: float = 180,
    log: Callable[[str], None] = _print_to_stderr,
    max_quick_failures: int = 5,
    backoff_seconds: float = 1.0,
    replicas: Sequence[Ports] = (),
) -> Iterator[Stack]:
    """Run the whole assistant, supervised, until the block ends; logs go to log_dir/<process>.log.

    Each of `replicas` adds a Rasa server and its own action server on those ports (the web port
    is not used): the scale-out profile, which needs shared stores (docs/SCALING.md).

    Without ACTION_SERVER_TOKEN or SOCKETIO_JWT_KEY in the environment (a .env from before they
    existed, or a test), this run gets its own random one: only its own processes share it.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    child_env.setdefault("ACTION_SERVER_TOKEN", secrets.token_urlsafe(32))
    if not child_env.get("SOCKETIO_JWT_KEY"):
        child_env["SOCKETIO_JWT_KEY"] = secrets.token_urlsafe(32)
    action_url = action_base_url(child_env, ports.action)
    child_env["ACTION_ENDPOINT_URL"] = f"{action_url}/webhook"
    supervisor = Supervisor(log=log, max_quick_failures=max_quick_failures, backoff_seconds=backoff_seconds)
    stack = Stack(
        ports=ports,
        token=child_env["RASA_AUTH_TOKEN"],
        action_token=child_env["ACTION_SERVER_TOKEN"],
        action_url=action_url,
        supervisor=supervisor,
        replicas=tuple(replicas),
    )
    try:
        for replica, replica_ports in enumerate((ports, *replicas), start=1):
            commands = process_commands(
                replica_ports, model=model, credentials=credentials, endpoints=PROJECT_ROOT / "endpoints.yml"
            )
            endpoint = f"{action_base_url(child_env, replica_ports.action)}/webhook"
            for name, command in commands.items():
                rasa = name == "rasa server"
                process_env = (
                    {**child_env, **RASA_ENV, "ACTION_ENDPOINT_URL": endpoint} if rasa else child_env
                )
                named = f"{name}{_suffix(replica)}"
                log_path = log_dir / f"{named.replace(' ', '_')}.log"
                supervisor.add(named, command, env=process_env, cwd=PROJECT_ROOT, log_path=log_path)
        supervisor.start()
        stack.report = _report_site(child_env, log)
        stack.web_server = serve_web(
            PROJECT_ROOT / "web", ports.web, child_env["SOCKETIO_JWT_KEY"], report=stack.report
        )
        _wait_until_ready(stack, timeout)
        yield stack
    finally:
        stack.stop()


def _report_site(env: Mapping[str, str], log: Callable[[str], None]) -> ReportSite | None:
    """The analytics report at /report, behind REPORT_TOKEN; without a usable token it is not served."""
    try:
        token = report_token(env)
    except SettingsError as error:
        log(f"analytics report not served: {error}")
        return None
    return None if token is None else ReportSite(token, database_url(env))


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def scale_out_problems(env: Mapping[str, str]) -> list[str]:
    """What several Rasa servers need and `env` lacks: shared conversations, touchpoints and locks."""
    problems = []
    for name in ("TRACKER_STORE_URL", "DATABASE_URL"):
        if not (env.get(name) or "").startswith("postgresql"):
            problems.append(
                f"{name} must be a postgresql:// URL (SQLite files are not shared between servers)"
            )
    if not env.get("REDIS_URL"):
        problems.append("REDIS_URL must be set (conversation locks shared between Rasa servers)")
    return problems


def replica_ports(ports: Ports, count: int) -> list[Ports]:
    """Replica k (2, 3, ...) listens on RASA_PORT + k - 1 and ACTION_PORT + k - 1."""
    return [Ports(rasa=ports.rasa + k, action=ports.action + k, web=ports.web) for k in range(1, count)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.devserver", description="run the assistant")
    parser.add_argument(
        "--replicas", type=int, default=1, choices=range(1, 5), metavar="N",
        help="N Rasa servers, each with its own action server (needs PostgreSQL and Redis; docs/SCALING.md)",
    )  # fmt: skip
    replicas = parser.parse_args(argv).replicas
    # Explicit handlers: a shell that starts us in the background leaves SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    load_env()
    try:
        settings = read_settings()
    except SettingsError as error:
        print(f"error: .env: {error}", file=sys.stderr)
        return 1
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        print("error: no trained model in models/: run `make train`", file=sys.stderr)
        return 1
    ports = Ports(rasa=settings.rasa_port, action=settings.action_port, web=settings.web_port)
    more = replica_ports(ports, replicas)
    if more and (problems := scale_out_problems(os.environ)):
        print(f"error: --replicas {replicas}: {'; '.join(problems)}", file=sys.stderr)
        return 1
    busy = busy_ports(ports) + [f"{name} {port}" for extra in more for name, port in (
        ("rasa port", extra.rasa), ("action port", extra.action)) if not _free(port)]  # fmt: skip
    if busy:
        print(
            f"error: port already in use: {', '.join(busy)} (stop the other process or change .env)",
            file=sys.stderr,
        )
        return 1
    log_dir = PROJECT_ROOT / "var" / "log"
    print(f"Starting the assistant with {model.name}; logs in {log_dir} ...", flush=True)
    try:
        with running_stack(ports, {}, model=model, log_dir=log_dir, replicas=more) as stack:
            print(
                f"\nReady.\n  Chat widget (demo page): {stack.web_url}\n"
                f"  REST channel:            {', '.join(f'{url}/webhooks/rest/webhook' for url in stack.rasa_urls)}\n"
                f"  WhatsApp webhook:        {stack.rasa_url}/webhooks/whatsapp/webhook\n"
                f"  Twilio webhook:          {stack.rasa_url}/webhooks/twilio/webhook\n"
                + (
                    f"  Analytics report:        {stack.report_url}?token=<REPORT_TOKEN from .env>\n"
                    if stack.report is not None
                    else "  Analytics report:        not served (set REPORT_TOKEN in .env)\n"
                )
                + "Press Ctrl-C to stop.",
                flush=True,
            )
            while not stack.supervisor.gave_up:
                time.sleep(1)
            print(f"error: {stack.supervisor.gave_up}; stopping everything", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nStopped.")
        return 0
    except RuntimeError as error:
        print(f"error: {error}; see the logs in {log_dir}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
