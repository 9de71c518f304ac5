"""The intents Rasa's NLU knows, read from domain.yml so content and model cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.errors import Issue, display_path
from bot.content.model import GENERAL_INTENTS
from bot.content.yaml_lines import FileProblem, load_yaml


@dataclass(frozen=True)
class DomainIntents:
    intents: tuple[str, ...]

    @property
    def phase_intents(self) -> tuple[str, ...]:
        return tuple(intent for intent in self.intents if intent not in GENERAL_INTENTS)

    @property
    def general_intents(self) -> tuple[str, ...]:
        return tuple(intent for intent in self.intents if intent in GENERAL_INTENTS)


def read_domain(path: Path) -> DomainIntents:
    """Intents may be plain names or `{name: {use_entities: ...}}` mappings, as Rasa allows."""
    if not path.is_file():
        raise FileProblem(Issue(display_path(path), 0, "", "domain file not found"))
    source = load_yaml(path, "version")
    names: list[str] = []
    for entry in source.data.get("intents") or []:
        if isinstance(entry, dict):
            names.extend(str(name) for name in entry)
        else:
            names.append(str(entry))
    return DomainIntents(tuple(dict.fromkeys(names)))
