"""One entry point for the four formats of the report."""

from __future__ import annotations

from collections.abc import Callable

from bot.analytics.model import Report
from bot.analytics.render_data import to_csv, to_json
from bot.analytics.render_html import render_html
from bot.analytics.render_text import render_text

RENDERERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "html": render_html,
    "json": to_json,
    "csv": to_csv,
}
FORMATS: tuple[str, ...] = tuple(RENDERERS)


def render(report: Report, fmt: str) -> str:
    return RENDERERS[fmt](report)
