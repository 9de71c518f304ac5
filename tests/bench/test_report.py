"""The report writer keeps the hand-written sections of bench/RESULTS.md and replaces only its own."""

from __future__ import annotations

import json
from pathlib import Path

from bench.perf.report import END, START, replace_section, section, targets, write


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


def results() -> dict[str, object]:
    def stack(scale: float, rate: float) -> dict[str, object]:
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
    assert "| plain Rasa, SQL tracker store (SQLite) | 1 | 4.00× | 4.00× |" in text
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
