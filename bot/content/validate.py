"""Checks inside one file that the schema cannot express: phase order, defaults, references, limits."""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.domain import DomainIntents
from bot.content.errors import FieldPath, Issue, Severity
from bot.content.model import MAX_TITLE, ButtonModel, IntentContent, Journey
from bot.content.parse import suggest
from bot.content.yaml_lines import SourceFile
from bot.phases import PHASES

PHASE_LIST = ", ".join(PHASES)
RETRAIN_HINT = "NLU examples in data/nlu/ and then `rasa train`"


@dataclass(frozen=True)
class Known:
    """What references may point at; None when that file is itself broken, so no cascade of errors."""

    personas: frozenset[str] | None
    products: frozenset[str] | None
    domain: DomainIntents | None


def _check_buttons(
    source: SourceFile, path: FieldPath, buttons: list[ButtonModel], known: Known
) -> list[Issue]:
    issues: list[Issue] = []
    for index, button in enumerate(buttons):
        here = (*path, index)
        if len(button.title) > MAX_TITLE:
            issues.append(
                source.issue(
                    (*here, "title"),
                    f"button title '{button.title}' is {len(button.title)} characters; "
                    f"WhatsApp cuts it off after {MAX_TITLE}",
                    Severity.WARNING,
                )
            )
        if button.product is not None:
            if known.products is not None and button.product not in known.products:
                hint = suggest(button.product, sorted(known.products))
                issues.append(
                    source.issue(
                        (*here, "product"), f"product '{button.product}' is not defined in common.yml{hint}"
                    )
                )
            if not button.sales:
                issues.append(
                    source.issue(
                        (*here, "product"),
                        "'product' only hides sales buttons; add 'sales: true' or remove 'product'",
                        Severity.WARNING,
                    )
                )
        if button.payload.startswith("/") and known.domain is not None:
            intent = button.payload[1:].split("{", 1)[0]
            if intent not in known.domain.intents:
                hint = suggest(intent, known.domain.intents)
                issues.append(
                    source.issue((*here, "payload"), f"'/{intent}' is not an intent in domain.yml{hint}")
                )
    return issues


def check_content(source: SourceFile, path: FieldPath, content: IntentContent, known: Known) -> list[Issue]:
    """Rules for every replies/buttons block, in a journey or in common.yml's general section."""
    issues: list[Issue] = []
    if not any(variant.persona is None and variant.channel is None for variant in content.replies):
        issues.append(
            source.issue(
                (*path, "replies"),
                "no default reply: add one without 'persona' and 'channel' so every visitor gets an answer",
            )
        )
    seen: dict[tuple[str | None, str | None], int] = {}
    for index, variant in enumerate(content.replies):
        here = (*path, "replies", index)
        key = (variant.persona, variant.channel)
        if key in seen:
            issues.append(
                source.issue(
                    here,
                    f"same persona and channel as replies[{seen[key]}]; only the first one is ever used",
                    Severity.WARNING,
                )
            )
        seen.setdefault(key, index)
        if (
            variant.persona is not None
            and known.personas is not None
            and variant.persona not in known.personas
        ):
            hint = suggest(variant.persona, sorted(known.personas))
            issues.append(
                source.issue(
                    (*here, "persona"), f"persona '{variant.persona}' is not defined in personas.yml{hint}"
                )
            )
        for number, phrasing in enumerate(variant.text):
            if not phrasing.strip():
                issues.append(
                    source.issue(
                        (*here, "text", number), "empty phrasing: write something or remove the line"
                    )
                )
        issues += _check_buttons(source, (*here, "buttons"), variant.buttons, known)
    issues += _check_buttons(source, (*path, "buttons"), content.buttons, known)
    return issues


def _check_phase_list(source: SourceFile, journey: Journey) -> list[Issue]:
    issues: list[Issue] = []
    base: FieldPath = ("journey", "phases")
    listed: list[str] = []
    for index, phase in enumerate(journey.phases):
        if phase.id not in PHASES:
            issues.append(
                source.issue(
                    (*base, index, "id"),
                    f"unknown phase '{phase.id}'{suggest(phase.id, PHASES)}; the phases are: {PHASE_LIST}",
                )
            )
        elif phase.id in listed:
            first = listed.index(phase.id)
            issues.append(
                source.issue((*base, index, "id"), f"phase '{phase.id}' appears twice (also phases[{first}])")
            )
        listed.append(phase.id)
    present = [phase for phase in dict.fromkeys(listed) if phase in PHASES]
    for phase in PHASES:
        if phase not in present:
            issues.append(
                source.issue(
                    base,
                    f"phase '{phase}' is missing; every journey has these eight phases: {PHASE_LIST}",
                )
            )
    expected = [phase for phase in PHASES if phase in present]
    for phase, wanted in zip(present, expected, strict=True):
        if phase != wanted:
            issues.append(
                source.issue(
                    (*base, listed.index(phase), "id"),
                    f"phase '{phase}' is out of order (expected '{wanted}' here); the order is: {PHASE_LIST}",
                )
            )
            break
    return issues


def check_journey(source: SourceFile, journey: Journey, known: Known) -> list[Issue]:
    """Structure of one journey: the eight phases in order, each intent once and known to the NLU."""
    issues = _check_phase_list(source, journey)
    placed: dict[str, int] = {}
    general = set(known.domain.general_intents) if known.domain else set()
    for index, phase in enumerate(journey.phases):
        base: FieldPath = ("journey", "phases", index)
        if not any(content.replies for content in phase.intents.values()):
            issues.append(
                source.issue(
                    (*base, "intents"),
                    f"phase '{phase.id}' has no intent with a reply, so it can never be reached",
                )
            )
        for intent, content in phase.intents.items():
            here = (*base, "intents", intent)
            if intent in placed:
                other = journey.phases[placed[intent]].id
                issues.append(
                    source.issue(
                        here, f"intent '{intent}' appears twice: also in phase '{other}' of this journey"
                    )
                )
            placed.setdefault(intent, index)
            if intent in general:
                issues.append(
                    source.issue(
                        here,
                        f"'{intent}' is a general intent; its replies belong in common.yml under general",
                    )
                )
            elif known.domain is not None and intent not in known.domain.intents:
                hint = suggest(intent, known.domain.phase_intents)
                issues.append(
                    source.issue(
                        here,
                        f"domain.yml does not know intent '{intent}'{hint}; a new intent must be added to "
                        f"domain.yml and needs {RETRAIN_HINT}",
                    )
                )
            issues += check_content(source, here, content, known)
    return issues
