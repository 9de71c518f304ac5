"""Content fixtures: `valid/` is a complete minimal set; each `broken/<case>/` replaces one or two of its
files to show exactly one kind of mistake, so every broken case differs from the valid set by that mistake."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.content import JourneyBook
from bot.content.loader import load_content

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "journeys"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"
DOMAIN = FIXTURES / "domain.yml"

MakeContent = Callable[[str | None], Path]


@pytest.fixture
def make_content(tmp_path: Path) -> MakeContent:
    """A writable journeys folder: the valid set, with a broken case's files laid over it when named."""

    def make(case: str | None = None) -> Path:
        target = tmp_path / "journeys"
        shutil.copytree(VALID, target)
        if case is not None:
            for path in (BROKEN / case).iterdir():
                shutil.copyfile(path, target / path.name)
        return target

    return make


@pytest.fixture(scope="session")
def book() -> JourneyBook:
    return load_content(VALID, DOMAIN).book
