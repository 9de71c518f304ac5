"""The report writer keeps the hand-written sections of bench/RESULTS.md and replaces only its own,
and shows both assistant profiles (single process, scale-out) against the plain bots."""

from __future__ import annotations

import json
from pathlib import Path

from bench.perf.report import END, START, kinds_note, ratio_lines, replace_section, section, targets, write

SCALED = "this assistant, scale-out: 2 Rasa + 2 action servers (PostgreSQL, Redis locks)"


def _summary(p50: float, p95: float, rate: float | None = None, errors: int = 0) -> dict[str, object]:
    return {
        "count": 100,
        "errors": errors,
        "seconds": 10.0,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p95 * 1.2,
        "max_ms": p95 * 2,
        "msg_per_s": rate,
    }


def stack(scale: float, rate: float) -> dict[str, object]:
    """One bot's figures: latencies `scale` × the plain SQL bot's, `rate` msg/s at every level."""
    return {
        "closed": {
            "1": _summary(10 * scale, 12 * scale, rate),
            "10": _summary(50 * scale, 90 * scale, rate),
        },
        "open": {
            "rate": 10,
            "conversations": 200,
            "summary": _summary(11 * scale, 15 * scale),
            "error_kinds": {},
        },
        "growth": {"1": _summary(10 * scale, 12 * scale), "100": _summary(20 * scale, 25 * scale)},
        "rss_mb": {"rasa server": 900.0},
    }


def results() -> dict[str, object]:
    return {
        "machine": {
            "date": "2026-12-01 17:15 UTC",
            "cpu": "x86",
            "cores": 2,
            "memory_mb": 24000,
            "python": "3.10.13",
            "rasa": "3.6.21",
            "git_commit": "abc1234",
            "load_average_at_start": [0.1, 0.2, 0.3],
        },
        "quick": False,
        "sizes": {"conversation_length": 8, "closed_seconds": 30},
        "messages": 210,
        "stacks": {
            "assistant": stack(4.0, 20.0),
            "plain-sql": stack(1.0, 70.0),
            "plain-memory": stack(0.8, 110.0),
        },
        "training": {"project_seconds": 150.0, "plain_seconds": 90.0},
        "reload": {"repeats": 5, "median_ms": 60.0, "max_ms": 80.0, "messages_until_shown": [1] * 5},
        "accuracy": {"model": "m.tar.gz", "phase_accuracy": 0.907, "intent_macro_f1": 0.904},
        "profile": {},
        "load_average_at_end": [0.5, 0.4, 0.3],
    }


def test_section_names_machine_ratios_and_targets() -> None:
    text = section(results())
    assert text.startswith(START) and text.rstrip().endswith(END)
    assert "2 cores" in text and "Rasa 3.6.21" in text and "abc1234" in text and "0.1, 0.2, 0.3" in text
    assert "| single process | plain Rasa, SQL tracker store (SQLite) | 1 | 4.00× | 4.00× |" in text
    assert "0.907" in text and "150 s" in text


def test_targets_say_met_or_not() -> None:
    lines = targets(results())
    assert "4.00× — **NOT met**" in lines[0]
    assert "60.0 ms, 0 errors — **met**" in lines[1]
    assert "**NOT met**" in lines[2] and "2.00× — **NOT met**" in lines[3]


def test_replace_section_keeps_other_sections(tmp_path: Path) -> None:
    original = "# Benchmarks\n\n## Analytics report\n\nfigures\n\n## Reliability (issue 11)\n\nmore\n"
    first = replace_section(original, section(results()))
    assert first.startswith(original.rstrip("\n")) and first.count(START) == 1
    again = replace_section(first.replace("\n## Reliability", "\n## Reliability"), "X\n".join((START, END)))
    assert "## Analytics report\n\nfigures" in again and "## Reliability (issue 11)\n\nmore" in again
    assert again.count(START) == 1 and "Performance (issue 14)" not in again
    markdown, data = tmp_path / "RESULTS.md", tmp_path / "results.json"
    markdown.write_text(original + "\n## Hand-written\n\nkept\n", encoding="utf-8")
    write(results(), markdown, data)
    write(results(), markdown, data)
    text = markdown.read_text(encoding="utf-8")
    assert text.count(START) == 1 and "## Hand-written\n\nkept" in text and "## Analytics report" in text
    assert json.loads(data.read_text(encoding="utf-8"))["accuracy"]["phase_accuracy"] == 0.907


def scaled_results(rate: float) -> dict[str, object]:
    """results() with the scale-out profile: twice the single process's latencies, `rate` msg/s."""
    data = results()
    single = data["stacks"]  # type: ignore[index]
    data["stacks"] = {"assistant": single["assistant"], "assistant-scaled": stack(8.0, rate), **single}
    data["stacks"]["assistant-scaled"]["closed"]["10"]["errors"] = 3  # type: ignore[index]
    data["stacks"]["assistant-scaled"]["closed"]["10"]["error_kinds"] = {"HTTP 429": 2, "timeout": 1}  # type: ignore[index]
    data["stacks"]["assistant-scaled"]["rss_mb"] = {"rasa server": 900.0, "rasa server 2": 910.0}  # type: ignore[index]
    return data


def test_section_shows_the_scaled_stack_in_every_table() -> None:
    text = section(scaled_results(140.0))
    assert f"| {SCALED} | 1 | 80.0 | 96.0 |" in text  # closed loop
    assert f"| {SCALED} | 10 | 400 | 720 | 864 | 140.0 | 100 | 3 (HTTP 429: 2, timeout: 1) |" in text
    assert f"| {SCALED} | 10/s | 10.0 | 200 | 100 | 88.0 | 120 |" in text  # open loop
    assert f"| {SCALED} | 80.0 / 96.0 | 160 / 200 | 2.00× |" in text  # growth
    assert f"- peak RSS (VmHWM), {SCALED}: rasa server 900 MB, rasa server 2 910 MB" in text
    assert "by a hash of its sender" in text
    assert "Not measured" not in text


def test_ratio_rows_for_each_assistant_profile_against_each_plain_bot() -> None:
    rows = ratio_lines(scaled_results(140.0)["stacks"])  # type: ignore[arg-type]
    assert rows[0].startswith("| assistant profile |")
    labels = [row.split(" | ")[0:3] for row in rows[2:]]
    assert len(rows) == 2 + 2 * 2 * 2  # 2 profiles × 2 plain bots × 2 levels
    assert ["| single process", "plain Rasa, SQL tracker store (SQLite)", "1"] in labels
    assert ["| scale-out (2 Rasa + 2 action servers)", "plain Rasa, in-memory tracker store", "10"] in labels
    scaled_vs_sql = "| scale-out (2 Rasa + 2 action servers) | plain Rasa, SQL tracker store (SQLite) | 10 |"
    assert f"{scaled_vs_sql} 8.00× | 8.00× | 8.00× | 2.00× |" in rows


def test_throughput_target_takes_the_best_profile_and_names_it() -> None:
    scaled_best = targets(scaled_results(140.0))
    assert "140.0 msg/s (scale-out (2 Rasa + 2 action servers)) vs 70.0 msg/s" in scaled_best[2]
    assert "(2.00×; the 2× aim reached) — **met**" in scaled_best[2]
    single_best = targets(scaled_results(15.0))
    assert (
        "20.0 msg/s (single process) vs 70.0 msg/s (0.29×; the 2× aim not reached) — **NOT met**"
        in (single_best[2])
    )
    between = targets(scaled_results(100.0))[2]
    assert "(1.43×; the 2× aim not reached) — **met**" in between
    without = targets(results())[2]
    assert "20.0 msg/s (single process)" in without and "**NOT met**" in without


def test_other_targets_stay_on_the_single_process() -> None:
    """The scaled stack's latencies (twice as high here) must not change the other three lines."""
    lines, single = targets(scaled_results(140.0)), targets(results())
    for number in (0, 1, 3):
        assert lines[number] == single[number] and "single process" in lines[number]
    assert "4.00× — **NOT met**" in lines[0] and "60.0 ms, 0 errors" in lines[1]


def test_a_stack_not_measured_says_why() -> None:
    data = results()
    data["not_measured"] = {"assistant-scaled": "Redis is not reachable at 127.0.0.1:6379"}
    text = section(data)
    assert f"Not measured: {SCALED}: Redis is not reachable at 127.0.0.1:6379." in text
    assert "by a hash of its sender" not in text
    assert kinds_note({}) == "" and kinds_note({"HTTP 429": 2}) == " (HTTP 429: 2)"
