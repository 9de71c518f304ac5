"""`make bench` (issue 14): this assistant side by side with a plain Rasa bot, written to bench/RESULTS.md.

    .venv/bin/python -m bench.run            # the full benchmark (about 20 minutes)
    BENCH_QUICK=1 .venv/bin/python -m bench.run   # every count shrunk: a smoke test of a few minutes

One bot runs at a time, on free loopback ports, with its own databases in a temporary directory;
every process it starts is stopped at the end, also on an error or Ctrl-C. BENCH_KEEP=1 keeps the
work directory (logs, profiles). The figures mean something only on an otherwise idle machine.

The assistant is measured twice: as one Rasa server + action server on SQLite (as shipped), and in
the scale-out profile (docs/SCALING.md: 2 Rasa + 2 action servers) on fresh PostgreSQL databases
and a Redis database of its own (bench/perf/services.py), all dropped or flushed at the end.
Without PostgreSQL or Redis the scale-out profile is reported as not measured.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.perf import corpus, machine, plainbot, probes, report, services, stacks
from bench.perf.load import closed_loop, growth, open_loop, warm_up
from bench.perf.profiling_run import profiled
from bench.perf.sizes import Sizes, sizes_from_env
from bot.devserver import latest_model
from bot.settings import PROJECT_ROOT

EVALUATE_TIMEOUT_SECONDS = 1800
WARM_UP_MESSAGES = 12
ACTION_CALLS = {True: 5, False: 50}


def say(line: str) -> None:
    print(line, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def accuracy(model: Path, work: Path) -> dict[str, object] | None:
    """Blind-set scores of `model` from scripts/evaluate.py (the benchmark never reads the blind set)."""
    output = work / "evaluate.json"
    command = [
        sys.executable,
        "scripts/evaluate.py",
        "--model",
        str(model),
        "--folds",
        "0",
        "--json",
        str(output),
    ]
    with (work / "evaluate.log").open("wb") as log:
        subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=EVALUATE_TIMEOUT_SECONDS,
            check=True,
        )
    rows = json.loads(output.read_text(encoding="utf-8"))
    blind = next((row for row in rows if str(row.get("name", "")).startswith("blind")), None)
    if blind is None:
        return None
    return {
        "model": model.name,
        "phase_accuracy": blind["phase_accuracy"],
        "intent_macro_f1": blind.get("intent_macro_f1"),
    }


def measure(stack: stacks.RunningStack, messages: list[str], probe: str, sizes: Sizes) -> dict[str, object]:
    """Closed loop at each level, open loop, growing conversations: the figures of one bot."""
    tag, webhooks = stack.name, stack.webhooks  # several: one per Rasa server (bench.perf.load.url_for)
    asyncio.run(warm_up(webhooks, messages, WARM_UP_MESSAGES, tag))
    result: dict[str, object] = {"load_average_before": machine.load_average()}
    closed = {}
    for clients in sizes.concurrency:
        error_kinds: dict[str, int] = {}
        summary = asyncio.run(
            closed_loop(
                webhooks,
                messages,
                clients=clients,
                seconds=sizes.closed_seconds,
                conversation_length=sizes.conversation_length,
                tag=tag,
                error_kinds=error_kinds,
            )
        )
        closed[str(clients)] = {**summary.as_dict(), "error_kinds": error_kinds}
        say(
            f"  {clients:>3} clients: p50 {summary.p50_ms} / p95 {summary.p95_ms} / p99 {summary.p99_ms} ms, "
            f"{summary.msg_per_s} msg/s, {summary.errors} errors{report.kinds_note(error_kinds)}"
        )
    result["closed"] = closed
    summary, kinds = asyncio.run(
        open_loop(
            webhooks,
            messages,
            rate=sizes.open_rate,
            seconds=sizes.open_seconds,
            conversations=sizes.open_conversations,
            seed=14,
            tag=tag,
        )
    )
    result["open"] = {
        "rate": sizes.open_rate,
        "conversations": sizes.open_conversations,
        "summary": summary.as_dict(),
        "error_kinds": kinds,
    }
    say(
        f"  open loop {sizes.open_rate}/s: p50 {summary.p50_ms} / p95 {summary.p95_ms} ms, "
        f"{summary.errors} errors{report.kinds_note(kinds)}"
    )
    marks = asyncio.run(
        growth(
            webhooks,
            messages,
            probe,
            conversations=sizes.growth_conversations,
            length=sizes.growth_length,
            marks=sizes.growth_marks,
            tag=tag,
        )
    )
    result["growth"] = {str(mark): s.as_dict() for mark, s in marks.items()}
    say("  growing: " + ", ".join(f"msg {m} p50 {s.p50_ms} ms" for m, s in marks.items()))
    return result


def plain_model(work: Path, sizes: Sizes) -> tuple[Path, Path, float | None]:
    """The plain bot's project and model; a quick run reuses the last one trained from the same inputs."""
    project = plainbot.write_project(work / "plain")
    cached = PROJECT_ROOT / "var" / "bench" / f"plain-{plainbot.inputs_hash(project)}.tar.gz"
    if sizes.quick and cached.exists():
        say(f"plain bot: reusing {cached.relative_to(PROJECT_ROOT)} (quick run)")
        return project, cached, None
    say("plain bot: training from scratch ...")
    model, seconds = plainbot.train_plain(work)
    cached.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model, cached)
    say(f"plain bot: trained in {seconds:.0f} s")
    return project, model, seconds


def run(sizes: Sizes, work: Path) -> dict[str, object]:
    model = latest_model(PROJECT_ROOT / "models")
    if model is None:
        raise SystemExit("error: no trained model in models/: run `make train`")
    results: dict[str, object] = {"machine": machine.describe(), "quick": sizes.quick, "sizes": asdict(sizes)}
    say(report.machine_line(results["machine"]))  # type: ignore[arg-type]
    nlu = corpus.read_nlu(PROJECT_ROOT / "data" / "nlu")
    messages, probe = corpus.messages(nlu), corpus.probe(nlu)
    results["messages"] = len(messages)
    results["model"] = model.name
    project, plain, plain_seconds = plain_model(work, sizes)
    training: dict[str, float | None] = {"plain_seconds": plain_seconds, "project_seconds": None}
    if sizes.train_project:
        say("this project: `rasa train` from scratch into a temporary directory ...")
        _, seconds = plainbot.train_project(work)
        training["project_seconds"] = round(seconds, 1)
        say(f"this project: trained in {seconds:.0f} s")
    results["training"] = training
    if sizes.evaluate:
        say(f"blind-set accuracy of {model.name} (scripts/evaluate.py) ...")
        results["accuracy"] = accuracy(model, work)
    measured: dict[str, object] = {}
    profiles: dict[str, object] = {}
    runs = (("plain-memory", False), ("plain-sql", True))
    for name, sql in runs:
        say(f"{report.STACK_NAMES[name]}:")
        with stacks.plain(work / name, project, plain, sql=sql) as stack:
            measured[name] = measure(stack, messages, probe, sizes)
            if sql:
                profiles[name] = profiled(
                    stack, messages, sizes.profile_seconds, sizes.conversation_length, work / "profiles"
                )
            measured[name]["rss_mb"] = {n: stacks.peak_rss_mb(pid) for n, pid in stack.pids.items()}  # type: ignore[index]
    say(f"{report.STACK_NAMES['assistant']}:")
    with stacks.assistant(work / "assistant", model) as stack:
        measured["assistant"] = ours = measure(stack, messages, probe, sizes)
        assert stack.journeys_dir is not None and stack.token and stack.action_url and stack.action_token
        results["reload"] = probes.edit_to_reply(stack.webhook, stack.journeys_dir, sizes.reload_repeats)
        say(f"  journey edit → reply: median {results['reload']['median_ms']} ms")  # type: ignore[index]
        call = probes.action_call(
            stack.rest_url, stack.token, stack.action_url, stack.action_token, ACTION_CALLS[sizes.quick]
        )
        results["action_call"] = call.as_dict()
        say(f"  action server alone: p50 {call.p50_ms} / p95 {call.p95_ms} ms")
        profiles["assistant"] = profiled(
            stack, messages, sizes.profile_seconds, sizes.conversation_length, work / "profiles"
        )
        ours["rss_mb"] = {n: stacks.peak_rss_mb(pid) for n, pid in stack.pids.items()}
    say(f"{report.STACK_NAMES['assistant-scaled']}:")
    missing = services.unreachable(services.postgres_server_url(), services.redis_url())
    if missing:
        results["not_measured"] = {"assistant-scaled": "; ".join(missing)}
        say(f"  not measured: {'; '.join(missing)}")
    else:
        with stacks.assistant_scaled(work / "assistant-scaled", model) as stack:
            measured["assistant-scaled"] = scaled = measure(stack, messages, probe, sizes)
            scaled["rss_mb"] = {n: stacks.peak_rss_mb(pid) for n, pid in stack.pids.items()}
    order = ("assistant", "assistant-scaled", "plain-sql", "plain-memory")
    results["stacks"] = {name: measured[name] for name in order if name in measured}
    results["profile"] = profiles
    results["load_average_at_end"] = machine.load_average()
    return results


def main() -> int:
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    sizes = sizes_from_env()
    work = Path(tempfile.mkdtemp(prefix="journey-bench-"))
    started = time.monotonic()
    keep = os.environ.get("BENCH_KEEP") == "1"
    try:
        results = run(sizes, work)
        results["bench_seconds"] = round(time.monotonic() - started, 1)
        report.write(results, PROJECT_ROOT / "bench" / "RESULTS.md", PROJECT_ROOT / "bench" / "results.json")
        say("")
        say("\n".join(report.ratio_lines(results["stacks"])))  # type: ignore[arg-type]
        say("\n".join(report.targets(results)))
        say(f"wrote bench/RESULTS.md and bench/results.json in {time.monotonic() - started:.0f} s")
        return 0
    except KeyboardInterrupt:
        say("interrupted: every process started was stopped")
        return 130
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        keep = True  # the servers' logs say why
        say(f"error: {error}")
        return 1
    finally:
        if keep:
            say(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
