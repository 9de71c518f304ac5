"""`make run`'s supervisor: busy ports are named, a dead process is restarted, repeated crashes reported."""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.devserver import Ports, busy_ports, latest_model, running_stack
from bot.settings import PROJECT_ROOT
from bot.supervisor import Supervisor
from tests.conftest import free_port, stack_env

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def supervised(tmp_path: Path) -> Iterator[tuple[Callable[..., Supervisor], list[str]]]:
    lines: list[str] = []
    made: list[Supervisor] = []

    def make(**options: float) -> Supervisor:
        supervisor = Supervisor(log=lines.append, poll_seconds=0.05, **options)  # type: ignore[arg-type]
        made.append(supervisor)
        return supervisor

    yield make, lines
    for supervisor in made:
        supervisor.stop()


def add(supervisor: Supervisor, name: str, command: list[str], tmp_path: Path) -> None:
    supervisor.add(name, command, env=os.environ, cwd=tmp_path, log_path=tmp_path / f"{name}.log")


def test_a_busy_port_is_named_by_its_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert busy_ports(Ports(rasa=port, action=free_port(), web=free_port())) == [f"RASA_PORT={port}"]


def test_a_killed_process_is_restarted_and_the_others_keep_running(
    supervised: tuple[Callable[..., Supervisor], list[str]], tmp_path: Path
) -> None:
    make, lines = supervised
    supervisor = make(backoff_seconds=0.1)
    add(supervisor, "action server", SLEEPER, tmp_path)
    add(supervisor, "rasa server", SLEEPER, tmp_path)
    supervisor.start()
    action_pid, rasa_pid = supervisor.pid("action server"), supervisor.pid("rasa server")
    assert action_pid and rasa_pid

    os.kill(action_pid, signal.SIGKILL)
    wait_for(lambda: supervisor.pid("action server") not in (None, action_pid), "the restart")

    assert supervisor.pid("rasa server") == rasa_pid, "the other process was left alone"
    assert supervisor.gave_up is None
    assert any(
        line.startswith("supervisor: action server exited with code -9") and "restarting it in" in line
        for line in lines
    ), lines
    assert any(line.startswith("supervisor: action server restarted (pid") for line in lines), lines


def test_after_quick_failures_in_a_row_it_gives_up_with_a_clear_message(
    supervised: tuple[Callable[..., Supervisor], list[str]], tmp_path: Path
) -> None:
    make, lines = supervised
    supervisor = make(max_quick_failures=3, backoff_seconds=0.05)
    add(supervisor, "action server", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path)
    add(supervisor, "rasa server", SLEEPER, tmp_path)
    supervisor.start()
    wait_for(lambda: supervisor.gave_up, "giving up")

    assert supervisor.gave_up is not None
    assert supervisor.gave_up.startswith("action server exited with code 3 3 times in a row")
    assert str(tmp_path / "action server.log") in supervisor.gave_up, "the message says where to look"
    assert sum("restarting it in" in line for line in lines) == 2
    assert supervisor.pid("rasa server"), "giving up on one stops nothing by itself"


def test_a_process_that_ran_a_while_before_dying_starts_the_count_afresh(
    supervised: tuple[Callable[..., Supervisor], list[str]], tmp_path: Path
) -> None:
    make, lines = supervised
    supervisor = make(max_quick_failures=2, quick_seconds=0.2, backoff_seconds=0.05)
    add(
        supervisor,
        "worker",
        [sys.executable, "-c", "import time; time.sleep(0.6); raise SystemExit(1)"],
        tmp_path,
    )
    supervisor.start()
    wait_for(lambda: supervisor.children["worker"].restarts >= 3, "three restarts")
    assert supervisor.gave_up is None
    assert all("quick failure 1 of 2" in line for line in lines if "exited" in line), lines


def test_a_server_that_keeps_dying_at_start_is_reported_by_name(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("no.such.Channel:\n  key: value\n")
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    lines: list[str] = []
    with (
        pytest.raises(RuntimeError, match=r"rasa server exited with code \d+ 2 times in a row"),
        running_stack(
            ports,
            stack_env(tmp_path),
            model=tmp_path / "unused.tar.gz",
            log_dir=tmp_path / "logs",
            credentials=credentials,
            timeout=240,
            log=lines.append,
            max_quick_failures=2,
            backoff_seconds=0.1,
        ),
    ):
        pass
    assert any(line.startswith("supervisor: rasa server exited") for line in lines), lines


@pytest.mark.e2e
def test_the_real_action_server_comes_back_after_a_kill_and_rasa_stays_up(tmp_path: Path) -> None:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    lines: list[str] = []
    with running_stack(
        ports, stack_env(tmp_path), model=model, log_dir=tmp_path / "logs", log=lines.append
    ) as stack:
        rasa_pid, action_pid = stack.supervisor.pid("rasa server"), stack.supervisor.pid("action server")
        assert rasa_pid and action_pid
        os.kill(action_pid, signal.SIGKILL)
        wait_for(lambda: stack.supervisor.pid("action server") not in (None, action_pid), "the restart")

        def answers() -> bool:
            try:
                return httpx.get(f"{stack.action_url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(answers, "the restarted action server", timeout=120)
        replies = httpx.post(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": "supervised-1", "message": "Hoeveel kan ik besparen met zonnepanelen?"},
            timeout=30,
        ).json()
        assert any(reply.get("text") for reply in replies), replies
        assert stack.supervisor.pid("rasa server") == rasa_pid, "Rasa kept running"
    assert any("action server exited with code -9" in line for line in lines), lines
