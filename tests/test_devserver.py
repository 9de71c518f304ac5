"""`make run`'s supervisor: busy ports are named, a crashed server is reported, not hidden."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.devserver import Ports, busy_ports, running_stack
from tests.conftest import free_port, stack_env


def test_a_busy_port_is_named_by_its_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert busy_ports(Ports(rasa=port, action=free_port(), web=free_port())) == [f"RASA_PORT={port}"]


def test_a_server_that_dies_at_start_is_reported_by_name(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("no.such.Channel:\n  key: value\n")
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    with (
        pytest.raises(RuntimeError, match=r"rasa server exited with code \d+"),
        running_stack(
            ports,
            stack_env(tmp_path),
            model=tmp_path / "unused.tar.gz",
            log_dir=tmp_path / "logs",
            credentials=credentials,
            timeout=120,
        ),
    ):
        pass
