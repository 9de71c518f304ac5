"""Where the time goes: py-spy samples the running servers, and the stacks are sorted into parts.

py-spy (a sampling profiler, pinned in requirements.lock) attaches to a running process without
changing its code. It pauses the process for each sample (100 a second); `--nonblocking` would
not, but then counts threads waiting on a queue as running. Only samples of running threads are
kept, so the figures are CPU time per message of each part; the time Rasa waits for the action
server shows up as the action server's own CPU time plus Rasa's HTTP client's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

RATE_HZ = 100
# The deepest frame matching one of these names the part of the work, so a tracker-store read
# inside the processor counts as the store; library frames only when no component frame matches.
COMPONENTS: Sequence[tuple[str, str]] = (
    ("/rasa/core/processor.py", "Rasa message processor (other)"),
    ("/rasa/engine/", "Rasa graph runner"),
    ("/rasa/nlu/", "NLU (Rasa components)"),
    ("/bot/nlu/", "NLU (topic and phase classifiers)"),
    ("/rasa/core/policies/ensemble.py", "policies: ensemble"),
    ("/rasa/core/policies/ted_policy.py", "policies: TED"),
    ("/rasa/core/policies/rule_policy.py", "policies: RulePolicy"),
    ("/rasa/core/policies/memoization.py", "policies: Memoization"),
    ("/rasa/core/featurizers/", "policies: tracker featurisation"),
    ("/rasa/core/tracker_store.py", "tracker store (read + write)"),
    ("/bot/rasa_stores.py", "tracker store (read + write)"),
    ("/rasa/core/lock_store.py", "lock store"),
    ("_validate_action_result (", "action round trip: Rasa validating the answer (jsonschema)"),
    ("/rasa/core/actions/", "Rasa actions (building the action server call)"),
    ("/rasa/utils/endpoints.py", "action round trip: HTTP client"),
    ("/bot/action_retry.py", "action round trip: HTTP client"),
    ("/rasa/core/channels/", "REST channel"),
    ("/bot/channels/", "REST channel"),
    ("/actions/", "actions: glue"),
    ("/rasa_sdk/", "action server: rasa_sdk (tracker parsing, dispatch)"),
    ("/bot/understanding.py", "actions: understanding (phase, product, persona)"),
    ("/bot/dialogue.py", "actions: dialogue rules"),
    ("/bot/content/", "actions: journey content lookup"),
    ("/bot/store/", "actions: touchpoint writes"),
    ("/bot/privacy.py", "masking personal data"),
    ("/bot/nps.py", "actions: NPS"),
    ("/bot/handoff/", "actions: handoff"),
    ("/bot/logs.py", "log redaction"),
)
LIBRARIES: Sequence[tuple[str, str]] = (
    ("/sanic/", "HTTP server (Sanic)"),
    ("/aiohttp/", "HTTP client (aiohttp)"),
    ("/sqlalchemy/", "SQL (SQLAlchemy)"),
    ("/json/", "JSON"),
    ("/logging/", "logging"),
    ("/asyncio/", "event loop"),
)
OTHER = "other"
# Our wrappers around Rasa's own work: a sample whose innermost frame of ours is one of these is
# Rasa's time, which the parts above already show.
WRAPPERS: Sequence[str] = (
    "bot/rasaserver.py",
    "bot/actionserver.py",
    "bot/channels/rest.py",
    "bot/action_retry.py",
)
WAITING = "waiting (idle thread)"
# Leaf frames of threads that wait (queue, epoll, sleep): py-spy sometimes still reports them as
# running on a busy machine; they are counted apart and left out of the per-message figures.
WAITING_LEAVES: Sequence[str] = (
    "_worker (",  # concurrent.futures: a pool thread waiting for work
    "/sanic/server/runners.py:",  # the event loop's run_forever (epoll)
    "run_forever (",
    "_run_once (",
    "select (",
    "wait (",
    "_keep_flushing (",  # actions.runtime: the spool flusher sleeping
)
_LINE_NUMBER = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `seconds` into `output` (collapsed stacks); wait on the Popen."""
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed: `make setup` installs it from requirements.lock")
    command = [
        binary, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", str(RATE_HZ),
        "--format", "raw", "--full-filenames", "--output", str(output),
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def classify(stack: str) -> str:
    """The part of the work a collapsed stack (root;...;leaf) belongs to: its deepest known frame."""
    frames = stack.split(";")
    if any(leaf in frames[-1] for leaf in WAITING_LEAVES):
        return WAITING
    for table in (COMPONENTS, LIBRARIES):
        for frame in reversed(frames):
            for needle, part in table:
                if needle in frame:
                    return part
    return OTHER


def parse_collapsed(lines: Iterable[str]) -> Counter[str]:
    """Samples per part from py-spy's raw format: `frame;frame;... count` per line."""
    parts: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if stack and count.isdigit():
            parts[classify(stack)] += int(count)
    return parts


def per_message_ms(parts: Counter[str], messages: int, rate_hz: float = RATE_HZ) -> dict[str, float]:
    """Milliseconds of CPU per answered message for each part, largest first."""
    if messages <= 0:
        return {}
    scale = 1000 / rate_hz / messages
    return {part: round(samples * scale, 2) for part, samples in parts.most_common() if part != WAITING}


def hottest(lines: Iterable[str], needle: str, root: str, top: int = 8) -> list[tuple[str, int]]:
    """Our functions (frames containing `needle`) that are innermost in most samples, `root` cut off.

    Innermost of our own frames, so a sample inside SQLAlchemy called from the touchpoint store
    counts for the store's function; entry points and wrappers (WRAPPERS) are left out.
    """
    counts: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not count.isdigit():
            continue
        ours = [f for f in stack.split(";") if needle in f and not any(w in f for w in WRAPPERS)]
        if ours:
            counts[_LINE_NUMBER.sub(")", ours[-1]).replace(root, "")] += int(count)
    return counts.most_common(top)
