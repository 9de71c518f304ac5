"""deploy/: the Procfile and the systemd units run what `make run` runs, and they start."""

from __future__ import annotations

import configparser
import contextlib
import os
import re
import secrets
import shlex
import shutil
import signal
import string
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from honcho.environ import parse_procfile

from bot.devserver import RASA_ENV, Ports, latest_model, process_commands
from bot.settings import PROJECT_ROOT
from tests.conftest import free_port, stack_env

DEPLOY = PROJECT_ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").iterdir())
SERVER_UNITS = {"action server": "journey-actions.service", "rasa server": "journey-rasa.service"}
PROCFILE_NAMES = {"action server": "action", "rasa server": "rasa"}
PRODUCTION_PATHS = {
    "model": Path("models"),
    "credentials": Path("credentials.yml"),
    "endpoints": Path("endpoints.yml"),
}


def expanded_argv(command: str, env: dict[str, str]) -> list[str]:
    """The argv a shell (as honcho uses) makes of a Procfile command, without running it."""
    script = f"set -- {command}; printf '%s\\0' \"$@\""
    result = subprocess.run(["bash", "-c", script], env=env, capture_output=True, check=True)
    return result.stdout.decode().split("\0")[:-1]


def split_env(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """`env A=1 B=2 cmd ...` into ({A: 1, B: 2}, [cmd, ...])."""
    if argv[0] != "env":
        return {}, argv
    assignments = [arg for arg in argv[1:] if re.fullmatch(r"[A-Z_]+=.*", arg)]
    return dict(arg.split("=", 1) for arg in assignments), argv[1 + len(assignments) :]


def test_the_procfile_runs_the_commands_of_make_run() -> None:
    procfile = parse_procfile((DEPLOY / "Procfile").read_text(encoding="utf-8"))
    assert set(procfile.processes) == set(PROCFILE_NAMES.values())
    ports = Ports(rasa=5005, action=5055, web=8080)
    expected = process_commands(ports, python=".venv/bin/python", **PRODUCTION_PATHS)
    shell_env = {"PATH": os.environ["PATH"], "RASA_PORT": "5005", "ACTION_PORT": "5055"}
    for name, procfile_name in PROCFILE_NAMES.items():
        env, argv = split_env(expanded_argv(procfile.processes[procfile_name], shell_env))
        assert argv == expected[name], procfile_name
        if name == "rasa server":
            assert RASA_ENV.items() <= env.items(), "the Rasa process gets the same environment"
            assert env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"


def unit(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def environment_lines(path: Path) -> dict[str, str]:
    """Every Environment= assignment of a unit (configparser keeps only the last line of a key)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Environment="):
            values.update(item.split("=", 1) for item in shlex.split(line.removeprefix("Environment=")))
    return values


def test_the_systemd_units_parse_and_run_the_commands_of_make_run() -> None:
    for path in UNITS:
        parsed = unit(path)
        assert parsed.has_section("Unit"), path.name
        assert parsed.has_section("Install") or path.name == "journey-purge.service", path.name
    ports = Ports(rasa=5005, action=5055, web=8080)
    expected = process_commands(ports, python="/opt/journey/.venv/bin/python", **PRODUCTION_PATHS)
    for name, file_name in SERVER_UNITS.items():
        path = DEPLOY / "systemd" / file_name
        service = unit(path)["Service"]
        env = environment_lines(path)
        exec_start = string.Template(service["ExecStart"]).substitute(env)
        assert shlex.split(exec_start) == expected[name], file_name
        assert service["Restart"] == "always"
        assert service["User"] != "root"
        if name == "rasa server":
            assert RASA_ENV.items() <= env.items()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    """Verified as installed here: /opt/journey is this checkout and the service user is this one."""
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    for path in UNITS:
        text = path.read_text(encoding="utf-8").replace("/opt/journey", str(PROJECT_ROOT))
        text = re.sub(r"^(User|Group)=journey$", rf"\1={user}", text, flags=re.MULTILINE)
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(path) for path in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
        result.stdout + result.stderr
    )


@pytest.mark.e2e
def test_the_procfile_starts_the_assistant_under_honcho(tmp_path: Path) -> None:
    if latest_model(PROJECT_ROOT / "models") is None:
        pytest.skip("no trained model in models/: `make test` trains one first")
    ports = Ports(rasa=free_port(), action=free_port(), web=free_port())
    env = stack_env(
        tmp_path,
        RASA_PORT=str(ports.rasa),
        ACTION_PORT=str(ports.action),
        ACTION_SERVER_TOKEN=secrets.token_urlsafe(32),
    )
    env_file = tmp_path / "production.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in env.items()), encoding="utf-8")
    honcho = [str(PROJECT_ROOT / ".venv" / "bin" / "honcho"), "-f", str(DEPLOY / "Procfile")]
    with open(tmp_path / "honcho.log", "wb") as log:
        process = subprocess.Popen(
            [*honcho, "-d", str(PROJECT_ROOT), "-e", str(env_file), "--no-colour", "start"],
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        rasa = f"http://127.0.0.1:{ports.rasa}"
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, (tmp_path / "honcho.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the servers did not come up"
            try:
                if (
                    httpx.get(f"http://127.0.0.1:{ports.action}/health", timeout=2).status_code == 200
                    and httpx.get(f"{rasa}/status", params={"token": env["RASA_AUTH_TOKEN"]}).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        replies = httpx.post(
            f"{rasa}/webhooks/rest/webhook",
            json={"sender": "honcho-1", "message": "Hoeveel kan ik besparen met zonnepanelen?"},
            timeout=60,
        ).json()
        assert any(reply.get("text") for reply in replies), replies
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """honcho and the servers it started (their own process group); SIGKILL if they linger."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
            return
        except subprocess.TimeoutExpired:
            continue
