"""Checks across files: unique ids, references between journeys, personas, products and domain.yml."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.domain import DomainIntents
from bot.content.errors import FieldPath, Issue, Severity
from bot.content.model import GENERAL_INTENTS, MESSAGE_KEYS, CommonFile, Journey, PersonasFile
from bot.content.parse import suggest
from bot.content.select import normalise
from bot.content.validate import PHASE_LIST, RETRAIN_HINT, Known, check_content
from bot.content.yaml_lines import SourceFile
from bot.phases import PHASES

DEFAULT_JOURNEY = "consumer"


@dataclass(frozen=True)
class Parsed:
    """The files that passed the schema check, each with its source for line numbers."""

    journeys: list[tuple[SourceFile, Journey]]
    common: tuple[SourceFile, CommonFile] | None
    personas: tuple[SourceFile, PersonasFile] | None
    all_journeys_parsed: bool


def _duplicates(source: SourceFile, entries: list[tuple[FieldPath, str]], what: str) -> list[Issue]:
    first: dict[str, FieldPath] = {}
    issues = []
    for path, value in entries:
        if value in first:
            issues.append(
                source.issue(
                    path, f"{what} id '{value}' is used twice (first on line {source.line(first[value])})"
                )
            )
        first.setdefault(value, path)
    return issues


def check_journeys(parsed: Parsed, known: Known) -> list[Issue]:
    issues: list[Issue] = []
    owner: dict[str, SourceFile] = {}
    for source, journey in parsed.journeys:
        if journey.id in owner:
            other = owner[journey.id].display
            issues.append(
                source.issue(("journey", "id"), f"journey id '{journey.id}' is also used in {other}")
            )
        owner.setdefault(journey.id, source)
        if journey.id != source.path.stem:
            issues.append(
                source.issue(
                    ("journey", "id"),
                    f"journey id '{journey.id}' differs from the file name '{source.path.name}'",
                    Severity.WARNING,
                )
            )
    if parsed.all_journeys_parsed and parsed.journeys and DEFAULT_JOURNEY not in owner:
        source = parsed.journeys[0][0]
        issues.append(
            source.issue(
                ("journey", "id"), f"there is no '{DEFAULT_JOURNEY}' journey; it is the default for everyone"
            )
        )
    issues += _check_phase_agreement(parsed)
    if known.domain is not None:
        issues += _check_domain_coverage(parsed, known.domain)
    return issues


def _phase_places(journey: Journey) -> dict[str, tuple[int, str]]:
    return {
        intent: (index, phase.id) for index, phase in enumerate(journey.phases) for intent in phase.intents
    }


def _check_phase_agreement(parsed: Parsed) -> list[Issue]:
    """An intent must mean the same phase in every journey, or the phase slot would depend on the persona.

    The default journey is the reference: another journey that disagrees with it is the one blamed.
    """
    seen: dict[str, dict[str, tuple[SourceFile, Journey, int]]] = {}
    for source, journey in parsed.journeys:
        counted: set[str] = set()
        placed: set[str] = set()
        for index, phase in enumerate(journey.phases):
            if phase.id not in PHASES or phase.id in counted:
                continue  # reported as an unknown or duplicate phase already
            counted.add(phase.id)
            for intent in set(phase.intents) - placed:
                seen.setdefault(intent, {}).setdefault(phase.id, (source, journey, index))
            placed.update(phase.intents)
    issues: list[Issue] = []
    for intent, by_phase in seen.items():
        if len(by_phase) < 2:
            continue
        in_default = [phase for phase, (_, journey, _) in by_phase.items() if journey.id == DEFAULT_JOURNEY]
        preferred = in_default[0] if in_default else next(iter(by_phase))
        expected_journey = by_phase[preferred][1].id
        for phase, (source, _, index) in by_phase.items():
            if phase != preferred:
                issues.append(
                    source.issue(
                        ("journey", "phases", index, "intents", intent),
                        f"intent '{intent}' is in phase '{phase}' here but in phase '{preferred}' in journey "
                        f"'{expected_journey}'; an intent belongs to the same phase in every journey",
                    )
                )
    return issues


def _check_domain_coverage(parsed: Parsed, domain: DomainIntents) -> list[Issue]:
    issues: list[Issue] = []
    places = {journey.id: _phase_places(journey) for _, journey in parsed.journeys}
    for intent in domain.phase_intents:
        homes = {jid: place[intent] for jid, place in places.items() if intent in place}
        for source, journey in parsed.journeys:
            if intent in places[journey.id]:
                continue
            if homes:
                other, (_, phase) = next(iter(homes.items()))
                index = next((i for i, p in enumerate(journey.phases) if p.id == phase), None)
                path: FieldPath = (
                    ("journey", "phases") if index is None else ("journey", "phases", index, "intents")
                )
                message = (
                    f"intent '{intent}' has no replies in this journey "
                    f"(journey '{other}' has it in '{phase}')"
                )
            else:
                path = ("journey", "phases")
                message = (
                    f"domain.yml lists intent '{intent}' but no journey has replies for it; "
                    f"add it to a phase in every journey (a new intent also needs {RETRAIN_HINT})"
                )
            issues.append(source.issue(path, message))
    return issues


def check_common(parsed: Parsed, known: Known) -> list[Issue]:
    if parsed.common is None:
        return []
    source, common = parsed.common
    general = known.domain.general_intents if known.domain else GENERAL_INTENTS
    allowed = (*general, *MESSAGE_KEYS)
    phase_intents = set(known.domain.phase_intents) if known.domain else set()
    issues: list[Issue] = []
    for key, content in common.general.items():
        path: FieldPath = ("general", key)
        if key in phase_intents:
            issues.append(
                source.issue(path, f"'{key}' is a phase intent; its replies belong in the journey files")
            )
        elif key not in allowed:
            issues.append(
                source.issue(path, f"unknown general intent or message '{key}'{suggest(key, allowed)}")
            )
        issues += check_content(source, path, content, known)
    for key in general:
        if key not in common.general:
            issues.append(
                source.issue(("general",), f"general intent '{key}' from domain.yml has no replies")
            )
    for key in MESSAGE_KEYS:
        if key not in common.general:
            issues.append(source.issue(("general",), f"message '{key}' is missing; the assistant needs it"))
    issues += _duplicates(
        source, [(("products", i, "id"), product.id) for i, product in enumerate(common.products)], "product"
    )
    issues += _duplicates(
        source, [(("subjects", i, "id"), subject.id) for i, subject in enumerate(common.subjects)], "subject"
    )
    rules = [(("rules", "sales_phases", i), phase) for i, phase in enumerate(common.rules.sales_phases)]
    rules += [
        (("rules", "nps", "ask_after_phases", i), phase)
        for i, phase in enumerate(common.rules.nps.ask_after_phases)
    ]
    for path, phase in rules:
        if phase not in PHASES:
            issues.append(
                source.issue(
                    path,
                    f"unknown phase '{phase}'{suggest(phase, PHASES)}; the phases are: {PHASE_LIST}",
                )
            )
    return issues


def check_personas(parsed: Parsed) -> list[Issue]:
    if parsed.personas is None:
        return []
    source, personas = parsed.personas
    issues = _duplicates(
        source,
        [(("personas", i, "id"), persona.id) for i, persona in enumerate(personas.personas)],
        "persona",
    )
    journeys = sorted({journey.id for _, journey in parsed.journeys})
    keyword_owner: dict[str, str] = {}
    for index, persona in enumerate(personas.personas):
        if parsed.all_journeys_parsed and persona.journey not in journeys:
            issues.append(
                source.issue(
                    ("personas", index, "journey"),
                    f"journey '{persona.journey}' does not exist{suggest(persona.journey, journeys)}; "
                    f"the journeys are: {', '.join(journeys)}",
                )
            )
        for number, keyword in enumerate(persona.recognise.keywords):
            owner = keyword_owner.setdefault(normalise(keyword), persona.id)
            if owner != persona.id:
                issues.append(
                    source.issue(
                        ("personas", index, "recognise", "keywords", number),
                        f"keyword '{keyword}' also recognises persona '{owner}'; the first persona wins",
                        Severity.WARNING,
                    )
                )
    return issues
