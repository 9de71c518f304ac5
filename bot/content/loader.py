"""Loads and validates a journeys folder in one pass, so a single run reports every problem."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from bot.content.book import JourneyBook
from bot.content.crosscheck import Parsed, check_common, check_journeys, check_personas
from bot.content.domain import DomainIntents, read_domain
from bot.content.errors import ContentError, Issue, Severity, display_path
from bot.content.formal_check import check_formal
from bot.content.model import CommonFile, JourneyFile, PersonasFile
from bot.content.parse import parse_model
from bot.content.validate import Known, check_journey
from bot.content.yaml_lines import FileProblem, SourceFile, load_yaml

COMMON_FILE = "common.yml"
PERSONAS_FILE = "personas.yml"
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Loaded:
    book: JourneyBook
    warnings: tuple[Issue, ...]


def content_files(directory: Path) -> list[Path]:
    """Every file that makes up the content; the repository watches exactly these."""
    return sorted(directory.glob("*.yml"))


def _load(path: Path, model: type[M], top: str, issues: list[Issue]) -> tuple[SourceFile, M] | None:
    try:
        source = load_yaml(path, top)
    except FileProblem as problem:
        issues.append(problem.issue)
        return None
    if model is JourneyFile:
        source.hidden_prefix = ("journey",)
    parsed, problems = parse_model(source, model)
    issues += problems
    return (source, parsed) if parsed is not None else None


def _read_domain(domain_path: Path | None, issues: list[Issue]) -> DomainIntents | None:
    if domain_path is None:
        return None
    try:
        return read_domain(domain_path)
    except FileProblem as problem:
        issues.append(problem.issue)
        return None


def _parse_folder(directory: Path, issues: list[Issue]) -> Parsed:
    files = content_files(directory)
    shown = display_path(directory)
    for stray in sorted(directory.glob("*.yaml")):
        issues.append(
            Issue(display_path(stray), 0, "", "ignored: content files must end in .yml", Severity.WARNING)
        )
    names = {path.name for path in files}
    for required in (COMMON_FILE, PERSONAS_FILE):
        if required not in names:
            issues.append(Issue(f"{shown}/{required}", 0, "", "the file is missing"))
    journey_paths = [path for path in files if path.name not in (COMMON_FILE, PERSONAS_FILE)]
    if not journey_paths:
        issues.append(Issue(shown, 0, "", "no journey files (<journey>.yml) found"))
    journeys = [_load(path, JourneyFile, "journey", issues) for path in journey_paths]
    common = _load(directory / COMMON_FILE, CommonFile, "general", issues) if COMMON_FILE in names else None
    personas = (
        _load(directory / PERSONAS_FILE, PersonasFile, "personas", issues) if PERSONAS_FILE in names else None
    )
    return Parsed(
        journeys=[(source, parsed.journey) for source, parsed in filter(None, journeys)],
        common=(common[0], common[1]) if common else None,
        personas=(personas[0], personas[1]) if personas else None,
        all_journeys_parsed=all(journeys),
    )


def load_content(directory: Path, domain_path: Path | None = None) -> Loaded:
    """Raises ContentError with all errors (and warnings) when anything is wrong."""
    issues: list[Issue] = []
    if not directory.is_dir():
        raise ContentError([Issue(display_path(directory), 0, "", "the journeys folder does not exist")])
    domain = _read_domain(domain_path, issues)
    parsed = _parse_folder(directory, issues)
    known = Known(
        personas=frozenset(p.id for p in parsed.personas[1].personas) if parsed.personas else None,
        products=frozenset(p.id for p in parsed.common[1].products) if parsed.common else None,
        domain=domain,
        subjects=frozenset(s.id for s in parsed.common[1].subjects) if parsed.common else None,
    )
    for source, journey in parsed.journeys:
        issues += check_journey(source, journey, known)
    issues += check_journeys(parsed, known)
    issues += check_common(parsed, known)
    issues += check_personas(parsed)
    issues += check_formal(parsed)
    if any(issue.is_error for issue in issues) or parsed.common is None or parsed.personas is None:
        raise ContentError(issues)
    book = JourneyBook(
        journeys={journey.id: journey for _, journey in parsed.journeys},
        common=parsed.common[1],
        personas=parsed.personas[1].personas,
    )
    return Loaded(book=book, warnings=tuple(issue for issue in issues if not issue.is_error))
