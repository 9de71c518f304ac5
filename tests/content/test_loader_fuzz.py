"""Property tests: no journey file, however broken, makes the YAML loader fail other than with issues.

A marketer edits these files by hand; whatever they save, `journey validate` and the hot reload
must answer with line-numbered problems (and the assistant keep the last good content), never a
traceback.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from ruamel.yaml import YAML

from bot.content.errors import ContentError, Issue
from bot.content.loader import load_content
from bot.content.model import CommonFile, JourneyFile, PersonasFile
from bot.content.parse import parse_model
from bot.content.yaml_lines import FileProblem, load_yaml
from bot.settings import PROJECT_ROOT

JOURNEYS = PROJECT_ROOT / "journeys"
MODELS: list[tuple[type[BaseModel], str]] = [
    (JourneyFile, "journey"),
    (CommonFile, "general"),
    (PersonasFile, "personas"),
]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=15,
)
FIELD_NAMES = st.sampled_from(
    ["id", "label", "phase", "topics", "variants", "when", "text", "buttons", "title", "payload", "persona"]
)
PERSONAS_LINES = (JOURNEYS / "personas.yml").read_text(encoding="utf-8").splitlines()
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def work() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        yield Path(directory)


def read(path: Path, model: type[BaseModel], top: str) -> list[Issue]:
    """What the loader makes of one file: the parsed model's issues, or the file's own problem."""
    try:
        source = load_yaml(path, top)
    except FileProblem as problem:
        return [problem.issue]
    parsed, issues = parse_model(source, model)
    assert parsed is not None or any(issue.is_error for issue in issues)
    return issues


def assert_reported(issues: list[Issue]) -> None:
    for issue in issues:
        assert isinstance(issue.line, int) and issue.line >= 0
        assert isinstance(issue.message, str) and issue.message.strip()
        assert "Traceback" not in str(issue)


@FUZZ
@given(raw=st.binary(max_size=400), which=st.sampled_from(MODELS))
def test_any_bytes_give_issues_not_exceptions(work: Path, raw: bytes, which: tuple[type, str]) -> None:
    path = work / "bytes.yml"
    path.write_bytes(raw)
    assert_reported(read(path, *which))


@FUZZ
@given(
    document=st.dictionaries(st.sampled_from(["journey", "general", "personas"]), JSON_VALUES, max_size=2)
    | st.fixed_dictionaries(
        {
            "journey": st.dictionaries(
                FIELD_NAMES, JSON_VALUES | st.lists(st.dictionaries(FIELD_NAMES, JSON_VALUES))
            )
        }
    ),
    which=st.sampled_from(MODELS),
)
def test_wrongly_shaped_documents_give_issues(
    work: Path, document: dict[str, Any], which: tuple[type, str]
) -> None:
    path = work / "shaped.yml"
    with path.open("w", encoding="utf-8") as out:
        YAML(typ="safe", pure=True).dump(document, out)
    assert_reported(read(path, *which))


@st.composite
def edited_personas(draw: st.DrawFn) -> str:
    """personas.yml after a clumsy edit: a line dropped, doubled, re-indented or overwritten."""
    lines = list(PERSONAS_LINES)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["drop", "double", "indent", "dedent", "overwrite", "tab"]))
        if edit == "drop":
            del lines[index]
        elif edit == "double":
            lines.insert(index, lines[index])
        elif edit == "indent":
            lines[index] = "   " + lines[index]
        elif edit == "dedent":
            lines[index] = lines[index].lstrip()
        elif edit == "tab":
            lines[index] = "\t" + lines[index]
        else:
            lines[index] = draw(st.text(max_size=40))
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=edited_personas())
def test_clumsy_edits_of_a_real_file_give_issues(work: Path, text: str) -> None:
    path = work / "personas.yml"
    path.write_text(text, encoding="utf-8")
    assert_reported(read(path, PersonasFile, "personas"))


@settings(max_examples=4, deadline=None)
@given(text=edited_personas())
def test_a_whole_folder_with_a_clumsy_edit_loads_or_reports(work: Path, text: str) -> None:
    folder = work / "journeys"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(JOURNEYS, folder)
    (folder / "personas.yml").write_text(text, encoding="utf-8")
    try:
        loaded = load_content(folder, PROJECT_ROOT / "domain.yml")
    except ContentError as error:
        assert_reported(list(error.issues))
        assert any(issue.is_error for issue in error.issues)
    else:
        assert loaded.book.persona_ids
