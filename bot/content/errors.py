"""Problems found in journey content, phrased for the marketers who edit it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

PathPart = str | int
FieldPath = tuple[PathPart, ...]


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


def display_path(path: Path) -> str:
    """Paths relative to the working directory read like `journeys/consumer.yml`, as editors show them."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def format_field_path(path: Sequence[PathPart]) -> str:
    """`phases[1].intents.savings`: the spelling a marketer can follow in the file."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class Issue:
    file: str
    line: int
    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        location = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        if self.severity is Severity.WARNING:
            location += "warning: "
        return location + (f"{self.field}: {self.message}" if self.field else self.message)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def sort_issues(issues: Iterable[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda issue: (issue.file, issue.line, issue.field, issue.message))


class ContentError(Exception):
    """Raised when content cannot be served; carries every problem so one run shows them all."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(sort_issues(issues))
        errors = [issue for issue in self.issues if issue.is_error]
        super().__init__("\n".join(str(issue) for issue in errors) or "invalid journey content")

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(issue for issue in self.issues if issue.is_error)
