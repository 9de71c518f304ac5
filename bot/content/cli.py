"""`journey validate` and `journey schema`: checks marketers and CI run before content goes live."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bot.content.errors import ContentError, Issue, sort_issues
from bot.content.loader import load_content
from bot.content.repository import PROJECT_ROOT
from bot.content.schema import schema_text
from bot.phases import PHASES


def _default_dir() -> Path:
    return Path(os.environ.get("JOURNEYS_DIR") or PROJECT_ROOT / "journeys")


def _summary(issues: list[Issue]) -> str:
    errors = sum(issue.is_error for issue in issues)
    warnings = len(issues) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def run_validate(args: argparse.Namespace) -> int:
    domain = None if args.no_domain else args.domain
    try:
        loaded = load_content(args.dir, domain)
    except ContentError as exc:
        for issue in exc.issues:
            print(issue)
        print(f"FAILED: {_summary(list(exc.issues))}")
        return 1
    for warning in sort_issues(loaded.warnings):
        print(warning)
    book = loaded.book
    print(
        f"OK: {len(book.journey_ids)} journeys, {len(PHASES)} phases each, {len(book.persona_ids)} personas"
    )
    return 0


def run_schema(args: argparse.Namespace) -> int:
    if args.output is None:
        sys.stdout.write(schema_text())
    else:
        args.output.write_text(schema_text(), encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    validate = subparsers.add_parser("validate", help="check journeys/*.yml; exit code 1 on errors")
    validate.add_argument("--dir", type=Path, default=_default_dir(), help="journeys folder")
    validate.add_argument("--domain", type=Path, default=PROJECT_ROOT / "domain.yml", help="Rasa domain file")
    validate.add_argument("--no-domain", action="store_true", help="skip the checks against domain.yml")
    validate.set_defaults(func=run_validate)
    schema = subparsers.add_parser("schema", help="write the JSON schema of the content files")
    schema.add_argument("--output", type=Path, default=None, help="file to write (default: print it)")
    schema.set_defaults(func=run_schema)


def main(argv: list[str] | None = None) -> int:
    """Runs without the other subcommands, e.g. `python -m bot.content.cli validate`."""
    parser = argparse.ArgumentParser(prog="journey")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
