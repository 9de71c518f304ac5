"""JSON and CSV for other tools: the same figures as the HTML, no formatting.

CSV is one long table (section, group, key, measure, value), so a spreadsheet can pivot any part.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, fields, is_dataclass
from typing import Any

from bot.analytics.model import Report

CSV_COLUMNS = ("section", "group", "key", "measure", "value")


def to_json(report: Report) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=2) + "\n"


def _flat(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested dataclass fields as (dotted name, scalar) pairs."""
    if is_dataclass(value):
        pairs: list[tuple[str, Any]] = []
        for item in fields(value):
            pairs += _flat(getattr(value, item.name), f"{prefix}{item.name}.")
        return pairs
    return [(prefix.rstrip("."), value)]


def _rows(report: Report) -> list[tuple[str, str, str, str, Any]]:
    rows: list[tuple[str, str, str, str, Any]] = []
    rows += [("overview", "", "", name, value) for name, value in _flat(report.overview)]
    listed = {
        "funnel": ("", report.funnel, "phase"),
        "entry": ("", report.entry, "phase"),
        "dropoff": ("", report.dropoff, "phase"),
        "replies": ("", report.replies, "content_id"),
        "gaps": ("", report.gaps, "example"),
    }
    for section, (group, items, key) in listed.items():
        for item in items:
            rows += [(section, group, str(getattr(item, key)), m, v) for m, v in _flat(item) if m != key]
    for item in report.transitions:
        rows.append(("transitions", item.source, item.target, "sessions", item.sessions))
    for group, nps_rows in report.nps.items():
        for row in nps_rows:
            rows += [("nps", group, row.key, m, v) for m, v in _flat(row.nps)]
    if report.nps_overall is not None:
        rows += [("nps", "overall", "", m, v) for m, v in _flat(report.nps_overall)]
    for group, mix_rows in report.mix.items():
        rows += [("mix", group, f"{row.week} {row.key}", "sessions", row.sessions) for row in mix_rows]
    for experiment in report.experiments:
        for arm in experiment.arms:
            pairs = [(m, v) for m, v in _flat(arm) if m != "arm"]
            rows += [("experiments", experiment.experiment, arm.arm, m, v) for m, v in pairs]
        rows.append(("experiments", experiment.experiment, "", "verdict", experiment.verdict))
    return rows


def _cell(value: Any) -> Any:
    """Visitor text starting with =, +, - or @ would run as a spreadsheet formula: quote it."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in _rows(report):
        writer.writerow([_cell(value) for value in row])
    return out.getvalue()
