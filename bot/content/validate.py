"""Checks inside one file that the schema cannot express: phase order, defaults, references, limits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.analytics.arms import MAX_ARMS
from bot.content.domain import DomainIntents
from bot.content.errors import FieldPath, Issue, Severity
from bot.content.model import MAX_TITLE, ButtonModel, IntentContent, Journey, Variant
from bot.content.parse import suggest
from bot.content.yaml_lines import SourceFile
from bot.phases import PHASES

PHASE_LIST = ", ".join(PHASES)
RETRAIN_HINT = "NLU examples in data/nlu/ and then `rasa train`"
HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")


@dataclass(frozen=True)
class Known:
    """What references may point at; None when that file is itself broken, so no cascade of errors."""

    personas: frozenset[str] | None
    products: frozenset[str] | None
    domain: DomainIntents | None
    subjects: frozenset[str] | None = None


def _check_buttons(
    source: SourceFile, path: FieldPath, buttons: list[ButtonModel], known: Known, *, whatsapp: bool = True
) -> list[Issue]:
    """`whatsapp`: these buttons can reach WhatsApp, which refuses titles over 20 characters."""
    issues: list[Issue] = []
    for index, button in enumerate(buttons):
        here = (*path, index)
        if len(button.title) > MAX_TITLE:
            issues.append(
                source.issue(
                    (*here, "title"),
                    f"button title '{button.title}' is {len(button.title)} characters; WhatsApp "
                    + (
                        f"refuses titles over {MAX_TITLE}"
                        if whatsapp
                        else f"would cut it off after {MAX_TITLE}"
                    ),
                    Severity.ERROR if whatsapp else Severity.WARNING,
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


def _check_references(source: SourceFile, here: FieldPath, variant: Variant, known: Known) -> list[Issue]:
    """A condition naming a persona, product or phase that does not exist can never fit anyone."""
    issues: list[Issue] = []
    checks = (
        ("persona", variant.persona, known.personas, "personas.yml"),
        ("product", variant.product, known.products, "common.yml under products"),
        ("subject", variant.subject, known.subjects, "common.yml under subjects"),
        ("phase", variant.phase, frozenset(PHASES), f"the phases ({PHASE_LIST})"),
    )
    for name, value, allowed, where in checks:
        if value is not None and allowed is not None and value not in allowed:
            hint = suggest(value, sorted(allowed))
            issues.append(
                source.issue(
                    (*here, name),
                    f"{name} '{value}' is not in {where}{hint}, so this variant can never be chosen",
                )
            )
    return issues


def _check_experiment(source: SourceFile, here: FieldPath, variant: Variant) -> list[Issue]:
    """An experiment's phrasings are its arms: at least two, at most MAX_ARMS."""
    if variant.experiment is None:
        return []
    count = len(variant.text)
    if count < 2:
        return [
            source.issue(
                (*here, "experiment"),
                f"experiment '{variant.experiment}' has {count} phrasing; it compares two or more "
                "phrasings (A, B, ...) of this reply: add one under text or remove 'experiment'",
            )
        ]
    if count > MAX_ARMS:
        return [
            source.issue(
                (*here, "experiment"),
                f"experiment '{variant.experiment}' has {count} phrasings; at most {MAX_ARMS} arms, "
                "so each gets enough visitors to compare",
            )
        ]
    return []


def check_experiment_ids(source: SourceFile, journey: Journey) -> list[Issue]:
    """One experiment id names one reply in a journey, or its arms' results would be mixed."""
    issues: list[Issue] = []
    first: dict[str, str] = {}
    for p_index, phase in enumerate(journey.phases):
        for intent, content in phase.intents.items():
            for v_index, variant in enumerate(content.replies):
                name = variant.experiment
                if name is None:
                    continue
                here: FieldPath = ("journey", "phases", p_index, "intents", intent, "replies", v_index)
                if name in first:
                    issues.append(
                        source.issue(
                            (*here, "experiment"),
                            f"experiment '{name}' is also used by {first[name]}; give each experiment "
                            "its own id",
                        )
                    )
                first.setdefault(name, f"intent '{intent}' in phase '{phase.id}'")
    return issues


def check_content(source: SourceFile, path: FieldPath, content: IntentContent, known: Known) -> list[Issue]:
    """Rules for every replies/buttons block, in a journey or in common.yml's general section."""
    issues: list[Issue] = []
    if not any(not variant.conditions() for variant in content.replies):
        issues.append(
            source.issue(
                (*path, "replies"),
                "no default reply: add one without conditions (phase, subject, product, persona, address, channel) "
                "so every visitor gets an answer",
            )
        )
    seen: dict[tuple[tuple[str, str], ...], int] = {}
    for index, variant in enumerate(content.replies):
        here = (*path, "replies", index)
        key = tuple(variant.conditions().items())
        if key in seen:
            issues.append(
                source.issue(
                    here,
                    f"same conditions as replies[{seen[key]}], so this variant can never be chosen; "
                    "merge its phrasings into that one or change a condition",
                )
            )
        seen.setdefault(key, index)
        issues += _check_references(source, here, variant, known)
        for number, phrasing in enumerate(variant.text):
            if not phrasing.strip():
                issues.append(
                    source.issue(
                        (*here, "text", number), "empty phrasing: write something or remove the line"
                    )
                )
            elif HTML_TAG.search(phrasing):
                issues.append(
                    source.issue(
                        (*here, "text", number),
                        "raw HTML in a text: WhatsApp and SMS show it as code and the widget does not "
                        "render it; use *bold*, _italic_ or a plain link",
                    )
                )
        whatsapp = variant.channel in (None, "whatsapp")
        issues += _check_buttons(source, (*here, "buttons"), variant.buttons, known, whatsapp=whatsapp)
        issues += _check_experiment(source, here, variant)
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
    issues += check_experiment_ids(source, journey)
    return issues
