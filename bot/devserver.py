"""Start the action server, the Rasa server and the demo web page together, and keep them running.

`make run` and the end-to-end tests both use this, so the tests exercise what people run.
Ctrl-C stops everything cleanly. If one process dies, bot.supervisor restarts it with backoff
and a log line naming it while the others keep running; after a few quick failures in a row it
gives up with a clear message and everything stops. deploy/ runs the same commands in
production (honcho or systemd); a test keeps them identical.
"""

from __future__ import annotations

import functools
import http.server
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT, SettingsError, action_host, load_env, read_settings
from bot.supervisor import Supervisor

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

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}/index.html"

    def stop(self) -> None:
        self.supervisor.stop()
        if self.web_server is not None:
            self.web_server.shutdown()
            self.web_server.server_close()


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


def _serve_web(directory: Path, port: int) -> http.server.ThreadingHTTPServer:
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    return server


def busy_ports(ports: Ports) -> list[str]:
    """Settings whose port something else already listens on, so start-up can say which."""
    busy = []
    for name, port in (("RASA_PORT", ports.rasa), ("ACTION_PORT", ports.action), ("WEB_PORT", ports.web)):
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"{name}={port}")
    return busy


def _wait_until_ready(stack: Stack, timeout: float) -> None:
    """Wait for both servers to answer; raise with the supervisor's message if it gives up on one."""
    checks = {
        "action server": f"{stack.action_url}/health",
        "rasa server": f"{stack.rasa_url}/status?token={stack.token}",
    }
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
) -> Iterator[Stack]:
    """Run the whole assistant, supervised, until the block ends; logs go to log_dir/<process>.log.

    Without ACTION_SERVER_TOKEN in the environment (a .env from before it existed, or a test),
    this run gets its own random one: only the two child processes need to share it.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    child_env.setdefault("ACTION_SERVER_TOKEN", secrets.token_urlsafe(32))
    action_url = action_base_url(child_env, ports.action)
    child_env["ACTION_ENDPOINT_URL"] = f"{action_url}/webhook"
    commands = process_commands(
        ports, model=model, credentials=credentials, endpoints=PROJECT_ROOT / "endpoints.yml"
    )
    supervisor = Supervisor(log=log, max_quick_failures=max_quick_failures, backoff_seconds=backoff_seconds)
    stack = Stack(
        ports=ports,
        token=child_env["RASA_AUTH_TOKEN"],
        action_token=child_env["ACTION_SERVER_TOKEN"],
        action_url=action_url,
        supervisor=supervisor,
    )
    try:
        for name, command in commands.items():
            process_env = {**child_env, **RASA_ENV} if name == "rasa server" else child_env
            log_path = log_dir / f"{name.replace(' ', '_')}.log"
            supervisor.add(name, command, env=process_env, cwd=PROJECT_ROOT, log_path=log_path)
        supervisor.start()
        stack.web_server = _serve_web(PROJECT_ROOT / "web", ports.web)
        _wait_until_ready(stack, timeout)
        yield stack
    finally:
        stack.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
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
    busy = busy_ports(ports)
    if busy:
        print(
            f"error: port already in use: {', '.join(busy)} (stop the other process or change .env)",
            file=sys.stderr,
        )
        return 1
    log_dir = PROJECT_ROOT / "var" / "log"
    print(f"Starting the assistant with {model.name}; logs in {log_dir} ...", flush=True)
    try:
        with running_stack(ports, {}, model=model, log_dir=log_dir) as stack:
            print(
                f"\nReady.\n  Chat widget (demo page): {stack.web_url}\n"
                f"  REST channel:            {stack.rasa_url}/webhooks/rest/webhook\n"
                f"  WhatsApp webhook:        {stack.rasa_url}/webhooks/whatsapp/webhook\n"
                f"  Twilio webhook:          {stack.rasa_url}/webhooks/twilio/webhook\n"
                "Press Ctrl-C to stop.",
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
