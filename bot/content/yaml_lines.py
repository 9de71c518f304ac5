"""Reads one YAML file into plain data plus the line of every field, so messages can point at the line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from bot.content.errors import FieldPath, Issue, Severity, display_path, format_field_path

MAX_FILE_BYTES = 1024 * 1024
_DUPLICATE_KEY = re.compile(r'found duplicate key "(?P<key>.*?)"')


class FileProblem(Exception):
    """A file that cannot be read as YAML at all; the issue says why in plain words."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class SourceFile:
    path: Path
    data: dict[str, Any]
    lines: dict[FieldPath, int] = field(default_factory=dict)
    hidden_prefix: FieldPath = ()

    @property
    def display(self) -> str:
        return display_path(self.path)

    def line(self, path: FieldPath) -> int:
        """The line of `path`, or of its nearest parent when the field itself is absent (a missing field)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return 1

    def issue(self, path: FieldPath, message: str, severity: Severity = Severity.ERROR) -> Issue:
        """Paths are full data paths; journey files hide `journey.` so deep paths read `phases[1]`."""
        prefix = self.hidden_prefix
        shown = path[len(prefix) :] if len(path) > len(prefix) + 1 and path[: len(prefix)] == prefix else path
        return Issue(self.display, self.line(path), format_field_path(shown), message, severity)


def _file_issue(path: Path, line: int, message: str) -> FileProblem:
    return FileProblem(Issue(display_path(path), line, "", message))


def _read_text(path: Path) -> str:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _file_issue(
            path, 0, f"the file is {size / MAX_FILE_BYTES:.1f} MB; the limit is 1 MB, split the content up"
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _file_issue(
            path, line, f"the file is not saved as UTF-8 (odd byte 0x{raw[exc.start]:02x}); save it as UTF-8"
        ) from None
    for number, content in enumerate(text.splitlines(), start=1):
        indent = content[: len(content) - len(content.lstrip(" \t"))]
        if "\t" in indent:
            raise _file_issue(path, number, "a tab is used for indentation; YAML only allows spaces")
    return text


def _syntax_problem(path: Path, exc: YAMLError) -> FileProblem:
    if isinstance(exc, DuplicateKeyError) and exc.problem_mark is not None:
        match = _DUPLICATE_KEY.search(exc.problem or "")
        key = match.group("key") if match else "?"
        return _file_issue(
            path,
            exc.problem_mark.line + 1,
            f"'{key}' appears twice in the same block; each name may appear once",
        )
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        problem = exc.problem or exc.context or "unreadable YAML"
        return _file_issue(
            path,
            exc.problem_mark.line + 1,
            f"YAML syntax error: {problem} (check indentation, colons and quotes here or on the line above)",
        )
    return _file_issue(path, 0, f"YAML syntax error: {exc}")


def _plain(node: Any, path: FieldPath, lines: dict[FieldPath, int]) -> Any:
    """Converts ruamel's round-trip types to plain Python while recording each field's line."""
    if isinstance(node, CommentedMap):
        result: dict[str, Any] = {}
        for key, value in node.items():
            child = (*path, str(key))
            try:
                lines[child] = node.lc.key(key)[0] + 1
            except (KeyError, TypeError):
                lines[child] = lines.get(path, 1)
            result[str(key)] = _plain(value, child, lines)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            try:
                lines[child] = node.lc.item(index)[0] + 1
            except (KeyError, TypeError):
                lines[child] = lines.get(path, 1)
            items.append(_plain(value, child, lines))
        return items
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int) and type(node).__name__ == "ScalarBoolean":
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "something else"


def load_yaml(path: Path, expected_top: str) -> SourceFile:
    """Refuses oversized, non-UTF-8, tab-indented, empty and non-mapping files with a line-numbered reason."""
    text = _read_text(path)
    try:
        node = YAML(typ="rt", pure=True).load(text)
    except YAMLError as exc:
        raise _syntax_problem(path, exc) from None
    if node is None:
        raise _file_issue(path, 1, f"the file is empty; it should start with '{expected_top}:'")
    lines: dict[FieldPath, int] = {(): 1}
    data = _plain(node, (), lines)
    if not isinstance(data, dict):
        raise _file_issue(
            path, 1, f"the file should start with '{expected_top}:', but it holds {_kind(data)}"
        )
    return SourceFile(path, data, lines)
