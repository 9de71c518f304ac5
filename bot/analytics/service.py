"""The report from an engine: one transaction, and the journey ids the --journey filter accepts."""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from sqlalchemy.engine import Engine

from bot.analytics.model import Filters, Report
from bot.analytics.queries import build_report
from bot.content.loader import COMMON_FILE, PERSONAS_FILE, content_files
from bot.settings import PROJECT_ROOT

# libyaml's safe loader when installed: the ids are read on every report, the pure-Python one is slow.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def journey_ids(directory: Path | None = None) -> tuple[str, ...]:
    """The journey ids in journeys/*.yml (read directly: a broken content edit must not block the report)."""
    folder = directory or Path(os.environ.get("JOURNEYS_DIR") or PROJECT_ROOT / "journeys")
    found = []
    for path in content_files(folder):
        if path.name in (COMMON_FILE, PERSONAS_FILE):
            continue
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except (OSError, yaml.YAMLError):
            continue
        journey = data.get("journey") if isinstance(data, dict) else None
        if isinstance(journey, dict) and isinstance(journey.get("id"), str):
            found.append(journey["id"])
    return tuple(sorted(found))


def make_report(engine: Engine, filters: Filters, journeys: tuple[str, ...]) -> Report:
    with engine.begin() as connection:
        return build_report(connection, filters, journeys)
