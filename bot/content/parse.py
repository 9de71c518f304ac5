"""Turns a loaded YAML file into the content model, translating pydantic's errors into plain words."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import SHAPE_DICT, SHAPE_LIST, SHAPE_MAPPING

from bot.content.errors import FieldPath, Issue
from bot.content.model import MAX_BUTTONS, MAX_TEXT
from bot.content.yaml_lines import SourceFile

M = TypeVar("M", bound=BaseModel)


def closest(word: str, choices: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return close[0] if close else None


def suggest(word: str, choices: Sequence[str]) -> str:
    """A ' (did you mean ...?)' hint for a likely typo, or nothing."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""


@dataclass(frozen=True)
class _Problem:
    path: FieldPath
    message: str
    missing: str | None = None
    typo_of: str | None = None


def _model_at(model: type[BaseModel], loc: FieldPath) -> type[BaseModel] | None:
    """The model class that owns the field at `loc`, to know which field names are allowed there."""
    current: Any = model
    parts = list(loc)
    while parts:
        name = parts.pop(0)
        if (
            not (isinstance(current, type) and issubclass(current, BaseModel))
            or name not in current.__fields__
        ):
            return None
        field = current.__fields__[name]
        if field.shape in (SHAPE_LIST, SHAPE_DICT, SHAPE_MAPPING) and parts:
            parts.pop(0)
        current = field.type_
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _value_at(data: Any, loc: FieldPath) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a block of fields"
    if isinstance(value, str):
        return f"text ('{value}')"
    return f"'{value}'"


def _problem(error: dict[str, Any], model: type[BaseModel], data: Any) -> _Problem:
    loc: FieldPath = tuple(error["loc"])
    kind: str = error["type"]
    ctx: dict[str, Any] = error.get("ctx", {})
    value = _value_at(data, loc)
    name = loc[-1] if loc else ""
    if kind == "value_error.extra":
        owner = _model_at(model, loc[:-1])
        allowed = list(owner.__fields__) if owner else []
        match = closest(str(name), allowed)
        hint = f" (did you mean '{match}'?)" if match else f" (allowed here: {', '.join(allowed)})"
        return _Problem(loc[:-1], f"unknown field '{name}'{hint if allowed else ''}", typo_of=match)
    if kind == "value_error.missing":
        return _Problem(loc[:-1], f"missing required field '{name}'", missing=str(name))
    if kind == "type_error.str":
        return _Problem(
            loc, f"should be text, but is {_kind(value)}; put text in quotes if it looks like a number"
        )
    if kind == "type_error.list":
        return _Problem(loc, f"should be a list (one '- ' item per line), but is {_kind(value)}")
    if kind == "type_error.dict":
        return _Problem(loc, f"should be a block of 'name: value' fields, but is {_kind(value)}")
    if kind in ("value_error.strictbool", "type_error.bool"):
        return _Problem(loc, f"should be true or false, but is {_kind(value)}")
    if kind in ("type_error.integer", "value_error.strictint"):
        return _Problem(loc, f"should be a whole number, but is {_kind(value)}")
    if kind == "value_error.number.not_ge":
        return _Problem(loc, f"should be {ctx['limit_value']} or more")
    if kind == "value_error.const":
        permitted = [str(option) for option in ctx.get("permitted", ())]
        hint = suggest(str(ctx.get("given")), permitted)
        return _Problem(
            loc, f"'{ctx.get('given')}' is not allowed{hint}; choose one of: {', '.join(permitted)}"
        )
    if kind == "value_error.any_str.min_length":
        what = "phrasing" if len(loc) > 1 and loc[-2] == "text" else "text"
        return _Problem(loc, f"empty {what}: write something or remove the line")
    if kind == "value_error.any_str.max_length":
        return _Problem(loc, f"text is {len(str(value))} characters long; the maximum is {MAX_TEXT}")
    if kind == "value_error.list.min_items":
        return _Problem(loc, f"needs at least {ctx['limit_value']} item(s)")
    if kind == "value_error.list.max_items":
        count = len(value) if isinstance(value, list) else "too many"
        return _Problem(loc, f"{count} buttons; at most {MAX_BUTTONS} fit in one WhatsApp list message")
    if kind == "value_error.str.regex":
        return _Problem(
            loc, f"'{value}' is not a valid id: use lowercase letters, digits, '_' and '-' only, no spaces"
        )
    return _Problem(loc, str(error["msg"]))


def parse_model(source: SourceFile, model: type[M]) -> tuple[M | None, list[Issue]]:
    try:
        return model.parse_obj(source.data), []
    except ValidationError as exc:
        problems = [_problem(error, model, source.data) for error in exc.errors()]
    # A typo such as 'repy' also makes 'replies' missing; the typo message explains both.
    typos = {(problem.path, problem.typo_of) for problem in problems if problem.typo_of}
    issues = [
        source.issue(problem.path, problem.message)
        for problem in problems
        if not (problem.missing and (problem.path, problem.missing) in typos)
    ]
    return None, list(dict.fromkeys(issues))
