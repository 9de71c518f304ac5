"""One profiled closed-loop run: py-spy on every server process of a stack while one client talks."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bench.perf import profile
from bench.perf.load import closed_loop
from bench.perf.stacks import RunningStack
from bot.settings import PROJECT_ROOT

EXTRA_WAIT_SECONDS = 60


def profiled(stack: RunningStack, messages: Sequence[str], seconds: float, length: int, out: Path) -> dict:
    """Samples per part and per answered message for each process, and our hottest functions."""
    out.mkdir(parents=True, exist_ok=True)
    recorders = {
        name: (profile.record(pid, seconds + 1, out / f"{stack.name}-{name.replace(' ', '_')}.txt"), pid)
        for name, pid in stack.pids.items()
    }
    try:
        return _collect(stack, recorders, messages, seconds, length, out)
    finally:
        for process, _pid in recorders.values():
            if process.poll() is None:  # interrupted: py-spy would otherwise run to its duration
                process.kill()
                process.wait(timeout=10)


def _collect(
    stack: RunningStack,
    recorders: dict[str, tuple[subprocess.Popen[bytes], int]],
    messages: Sequence[str],
    seconds: float,
    length: int,
    out: Path,
) -> dict:
    """One client for `seconds` while py-spy samples, then each process's samples sorted into parts."""
    summary = asyncio.run(
        closed_loop(
            stack.webhook,
            messages,
            clients=1,
            seconds=seconds,
            conversation_length=length,
            tag=f"{stack.name}-profile",
        )
    )
    result: dict[str, dict] = {}
    for name, (process, _pid) in recorders.items():
        try:
            _, stderr = process.communicate(timeout=seconds + EXTRA_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            result[name] = {"error": "py-spy did not finish"}
            continue
        path = out / f"{stack.name}-{name.replace(' ', '_')}.txt"
        if process.returncode != 0 or not path.exists():
            result[name] = {"error": stderr.decode(errors="replace")[-300:]}
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        parts = profile.parse_collapsed(lines)
        result[name] = {
            "samples": sum(parts.values()),
            "messages": summary.count,
            "per_message_ms": profile.per_message_ms(parts, summary.count),
            "hot_own_code": profile.hottest(lines, f"{PROJECT_ROOT}/bot/", f"{PROJECT_ROOT}/"),
        }
    return result
