"""`journey validate`: every je-form text that a formal visitor may get has a rule for its u-form."""

from __future__ import annotations

from collections.abc import Iterator

from bot.content.crosscheck import Parsed
from bot.content.errors import FieldPath, Issue, Severity
from bot.content.formal import FormalRewriter
from bot.content.model import IntentContent
from bot.content.yaml_lines import SourceFile


def _texts(base: FieldPath, content: IntentContent) -> Iterator[tuple[FieldPath, str]]:
    for index, variant in enumerate(content.replies):
        if variant.address is None:  # a variant written for one form is used as written
            for number, text in enumerate(variant.text):
                yield (*base, "replies", index, "text", number), text


def check_formal(parsed: Parsed) -> list[Issue]:
    """One warning per text a formal_rewrites rule does not fully cover (the visitor would get 'je').

    Without any rules the u-form is switched off: everyone gets the texts as written.
    """
    if parsed.common is None or not parsed.common[1].formal_rewrites:
        return []
    common_source, common_file = parsed.common
    rewriter = FormalRewriter((r.informal, r.formal) for r in common_file.formal_rewrites)
    places: list[tuple[SourceFile, FieldPath, str]] = []
    for source, journey in parsed.journeys:
        if journey.address != "informal":
            continue
        for p_index, phase in enumerate(journey.phases):
            for intent, content in phase.intents.items():
                base: FieldPath = ("journey", "phases", p_index, "intents", intent)
                places += [(source, path, text) for path, text in _texts(base, content)]
    for key, content in common_file.general.items():
        places += [(common_source, path, text) for path, text in _texts(("general", key), content)]
    issues = []
    for source, path, text in places:
        left = rewriter.leftovers(text)
        if left:
            issues.append(
                source.issue(
                    path,
                    f"no u-form for '…{left[0]}…': add a formal_rewrites rule in common.yml "
                    "or a variant with 'address: formal'",
                    Severity.WARNING,
                )
            )
    return issues
