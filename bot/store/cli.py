"""`journey purge`, `forget`, `export` and `spool replay`: retention, erasure, analysis and refused records.

Each command prints one clear line and exits 0, or 1 with an `error:` line; no tracebacks for
a bad value, a missing setting or an unreachable database.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection
from contextlib import nullcontext
from typing import TextIO

from dotenv import load_dotenv

from bot.settings import PROJECT_ROOT, SettingsError
from bot.store.database import StoreUnavailable
from bot.store.export import FORMATS, TABLES
from bot.store.store import TouchpointStore


def _open_store() -> TouchpointStore:
    # The environment wins over .env, as in the servers.
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return TouchpointStore.from_env()


Check = Callable[[argparse.Namespace], None]
Command = Callable[[argparse.Namespace, TouchpointStore], str]


def _guarded(
    command: Command, check: Check, status_to_stderr: bool = False
) -> Callable[[argparse.Namespace], int]:
    """Check the arguments, then run the command; known failures become an `error:` line and exit code 1.

    An export may write its data to standard output, so its status line goes to standard error.
    """

    def run(args: argparse.Namespace) -> int:
        try:
            check(args)
            store = _open_store()
            try:
                message = command(args, store)
            finally:
                store.close()
        except (SettingsError, StoreUnavailable, ValueError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(message, file=sys.stderr if status_to_stderr else sys.stdout)
        return 0

    return run


def _check_purge(args: argparse.Namespace) -> None:
    raw = args.older_than_days
    if raw is not None and (not raw.isdigit() or int(raw) < 1):
        raise ValueError(f"--older-than-days must be a whole number of days (1 or more), got {raw!r}")


def _purge(args: argparse.Namespace, store: TouchpointStore) -> str:
    days = None if args.older_than_days is None else int(args.older_than_days)
    counts = store.purge(days)
    return (
        f"Removed {counts['touchpoints']} touchpoints, {counts['turns']} turns and {counts['events']} "
        f"conversation events older than {days or store.retention_days} days, and {counts['spooled']} "
        "waiting or refused records in the spool."
    )


def _check_forget(args: argparse.Namespace) -> None:
    if not (args.sender_id or "").strip():
        raise ValueError("SENDER_ID is required: the sender id as the channel reports it")


def _forget(args: argparse.Namespace, store: TouchpointStore) -> str:
    """With --channel, SENDER_ID is the customer's phone number (or widget session id): the
    conversation id is derived from it as the channel derives it, so an erasure request by phone works."""
    sender = args.sender_id
    if args.channel:
        from bot.conversation_ids import conversation_id
        from bot.settings import conversation_key

        sender = conversation_id(args.channel, sender, conversation_key())
    counts = store.forget(sender)
    return (
        f"Forgot the sender: removed {counts['touchpoints']} touchpoints, {counts['turns']} turns, "
        f"{counts['spooled']} spooled records and {counts['events']} conversation events."
    )


def _one_of(option: str, value: str | None, choices: Collection[str]) -> None:
    if value not in choices:
        given = "" if value is None else f", got {value!r}"
        raise ValueError(f"{option} must be one of {', '.join(choices)}{given}")


def _check_export(args: argparse.Namespace) -> None:
    _one_of("--table", args.table, TABLES)
    _one_of("--format", args.format, FORMATS)


def _export(args: argparse.Namespace, store: TouchpointStore) -> str:
    stdout: TextIO = sys.stdout
    with open(args.output, "w", encoding="utf-8", newline="") if args.output else nullcontext(stdout) as out:
        count = store.export(args.table, args.format, out)
    return f"Exported {count} {args.table} as {args.format} to {args.output or 'standard output'}."


def _no_check(args: argparse.Namespace) -> None:
    return None


def _spool_replay(args: argparse.Namespace, store: TouchpointStore) -> str:
    result = store.replay_rejected()
    path = store.spool.rejected_path
    return (
        f"Replayed {result.stored} refused records into the database; {result.refused} refused again and "
        f"{result.damaged} damaged lines skipped (both kept in {path})."
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the store's subcommands to the `journey` parser."""
    purge = subparsers.add_parser(
        "purge", help="remove touchpoints and conversations older than the retention period"
    )
    purge.add_argument(
        "--older-than-days", metavar="N", help="override RETENTION_DAYS (default 180) for this run"
    )
    purge.set_defaults(func=_guarded(_purge, _check_purge))

    forget = subparsers.add_parser(
        "forget", help="erase everything stored about one sender (erasure request)"
    )
    forget.add_argument(
        "sender_id", nargs="?", metavar="SENDER_ID", help="the sender id as the channel reports it"
    )
    forget.add_argument(
        "--channel",
        choices=("whatsapp", "sms", "web"),
        help="SENDER_ID is a phone number (whatsapp, sms) or widget session id (web) on this channel",
    )
    forget.set_defaults(func=_guarded(_forget, _check_forget))

    export = subparsers.add_parser("export", help="write the touchpoints or turns table as CSV or JSON")
    # Checked by the command rather than argparse, so a missing value exits 1 like any bad input.
    export.add_argument("--table", metavar="|".join(TABLES), help="which table (required)")
    export.add_argument("--format", metavar="|".join(FORMATS), help="file format (required)")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(func=_guarded(_export, _check_export, status_to_stderr=True))

    spool = subparsers.add_parser("spool", help="records the database refused (touchpoints.rejected.jsonl)")
    spool_commands = spool.add_subparsers(dest="spool_command", required=True, metavar="replay")
    replay = spool_commands.add_parser(
        "replay", help="try the refused records again (after fixing the cause); damaged lines are skipped"
    )
    replay.set_defaults(func=_guarded(_spool_replay, _no_check))
