"""The `journey` console script: one entry point, subcommands registered by their modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from bot.analytics.cli import register as register_analytics
    from bot.content.cli import register as register_content
    from bot.handoff.cli import register as register_handoffs
    from bot.store.cli import register as register_store

    parser = argparse.ArgumentParser(prog="journey", description="Customer-journey assistant tools.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    register_content(subparsers)
    register_store(subparsers)
    register_analytics(subparsers)
    register_handoffs(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Each subcommand sets `func(args) -> int` and returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
