"""Start the action server, the Rasa server and the demo web page together, and stop them together.

`make run` and the end-to-end tests both use this, so the tests exercise what people run.
Ctrl-C stops everything cleanly; if one process dies, the others are stopped and the exit
code says so, instead of leaving a half-working assistant behind.
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.settings import PROJECT_ROOT, SettingsError, load_env, read_settings

VENV_BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Ports:
    rasa: int
    action: int
    web: int


@dataclass
class Stack:
    """The running processes, and the URLs a client needs."""

    ports: Ports
    token: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    web_server: http.server.ThreadingHTTPServer | None = None

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.rasa}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.web}/index.html"

    def crashed(self) -> tuple[str, int] | None:
        """The first process that exited, with its exit code."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.web_server is not None:
            self.web_server.shutdown()
            self.web_server.server_close()


def latest_model(models_dir: Path) -> Path | None:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return models[-1] if models else None


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
    """Wait for both servers to answer; raise with the crashed process's name if one dies first."""
    checks = {
        "action server": f"http://127.0.0.1:{stack.ports.action}/health",
        "rasa server": f"{stack.rasa_url}/status?token={stack.token}",
    }
    deadline = time.monotonic() + timeout
    pending = dict(checks)
    while pending:
        crashed = stack.crashed()
        if crashed:
            raise RuntimeError(f"{crashed[0]} exited with code {crashed[1]} while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f}s waiting for: {', '.join(pending)}")
        for name, url in list(pending.items()):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.5)


@contextmanager
def running_stack(
    ports: Ports,
    env: Mapping[str, str],
    *,
    model: Path,
    log_dir: Path,
    credentials: Path = PROJECT_ROOT / "credentials.yml",
    timeout: float = 180,
) -> Iterator[Stack]:
    """Run the whole assistant until the block ends; logs go to log_dir/<process>.log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    child_env = {**os.environ, **env, "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{ports.action}/webhook"}
    token = child_env["RASA_AUTH_TOKEN"]
    stack = Stack(ports=ports, token=token)
    commands = {
        "action server": [str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "-p", str(ports.action)],
        "rasa server": [
            str(VENV_BIN / "rasa"), "run", "--enable-api", "--auth-token", token,
            "-i", "127.0.0.1", "-p", str(ports.rasa), "--cors", "*",
            "--credentials", str(credentials), "--endpoints", str(PROJECT_ROOT / "endpoints.yml"),
            "--model", str(model),
        ],
    }  # fmt: skip
    try:
        for name, command in commands.items():
            log = open(log_dir / f"{name.replace(' ', '_')}.log", "ab")  # noqa: SIM115 - lives as long as the child
            stack.processes[name] = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT
            )
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
            while True:
                crashed = stack.crashed()
                if crashed:
                    print(
                        f"error: {crashed[0]} exited with code {crashed[1]}; see {log_dir}", file=sys.stderr
                    )
                    return 1
                time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopped.")
        return 0
    except RuntimeError as error:
        print(f"error: {error}; see the logs in {log_dir}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
