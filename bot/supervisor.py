"""Keep a few child processes running: a dead one is restarted with backoff, the others keep running.

One crash (the kernel killing Rasa for memory, a bug in an action) must not take the whole
assistant down. A process that dies is restarted after a delay that doubles with each quick
failure in a row (1 s, 2 s, 4 s, ... capped); a process that ran longer than `quick_seconds`
before dying starts the count afresh. After `max_quick_failures` quick failures in a row the
supervisor gives up on it, says so in `gave_up`, and the caller decides to stop (make run does).
Every death and restart is one log line naming the process and its log file.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

STOP_GRACE_SECONDS = 15.0
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Child:
    name: str
    command: list[str]
    env: Mapping[str, str]
    cwd: Path
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    quick_failures: int = 0
    restart_at: float | None = None
    restarts: int = 0
    log_file: IO[bytes] | None = field(default=None, repr=False)


class Supervisor:
    """Starts the children, watches them from a thread, restarts the ones that die."""

    def __init__(
        self,
        *,
        log: Callable[[str], None],
        max_quick_failures: int = 5,
        quick_seconds: float = 60.0,
        backoff_seconds: float = 1.0,
        poll_seconds: float = 0.5,
    ) -> None:
        self.children: dict[str, Child] = {}
        self.gave_up: str | None = None
        self._log = log
        self._max_quick_failures = max_quick_failures
        self._quick_seconds = quick_seconds
        self._backoff_seconds = backoff_seconds
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def add(
        self, name: str, command: list[str], *, env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> None:
        """Start a child now; its output is appended to log_path."""
        child = Child(name=name, command=command, env=env, cwd=cwd, log_path=log_path)
        with self._lock:
            self.children[name] = child
            self._spawn(child)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def pid(self, name: str) -> int | None:
        process = self.children[name].process
        return process.pid if process is not None and process.poll() is None else None

    def _spawn(self, child: Child) -> None:
        if child.log_file is None:
            child.log_file = open(child.log_path, "ab")  # noqa: SIM115 - lives as long as the child
        child.process = subprocess.Popen(
            child.command, cwd=child.cwd, env=dict(child.env), stdout=child.log_file, stderr=subprocess.STDOUT
        )
        child.started_at = time.monotonic()
        child.restart_at = None

    def _watch(self) -> None:
        while not self._stopping.wait(self._poll_seconds):
            with self._lock:
                if self._stopping.is_set():
                    return
                for child in self.children.values():
                    self._check(child, time.monotonic())

    def _check(self, child: Child, now: float) -> None:
        if child.restart_at is not None:
            if now >= child.restart_at:
                self._spawn(child)
                child.restarts += 1
                self._log(
                    f"supervisor: {child.name} restarted (pid {child.process.pid if child.process else '?'})"
                )
            return
        process = child.process
        if process is None or process.poll() is None:
            return
        uptime = now - child.started_at
        child.quick_failures = child.quick_failures + 1 if uptime < self._quick_seconds else 1
        where = f"log: {child.log_path}"
        if child.quick_failures >= self._max_quick_failures:
            child.process = None
            self.gave_up = (
                f"{child.name} exited with code {process.returncode} {child.quick_failures} times in a row, "
                f"each within {self._quick_seconds:.0f}s of starting; not restarting it ({where})"
            )
            self._log(f"supervisor: {self.gave_up}")
            return
        delay = min(self._backoff_seconds * 2 ** (child.quick_failures - 1), MAX_BACKOFF_SECONDS)
        child.restart_at = now + delay
        self._log(
            f"supervisor: {child.name} exited with code {process.returncode} after {uptime:.0f}s; "
            f"restarting it in {delay:.0f}s (quick failure {child.quick_failures} of "
            f"{self._max_quick_failures}; {where})"
        )

    def stop(self) -> None:
        """Stop watching, then terminate every child (kill after a grace period)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            running = [c.process for c in self.children.values() if c.process and c.process.poll() is None]
            for process in running:
                process.terminate()
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            for process in running:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for child in self.children.values():
                if child.log_file is not None:
                    child.log_file.close()
                    child.log_file = None
