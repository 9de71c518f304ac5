"""`journey handoffs`: the open callback requests, for the colleague who calls back; `--done N` closes one.

Prints name and phone number in clear: this is the place they are for. Exit 0, or 1 with an
`error:` line for a bad value, a missing setting or an unreachable database.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dotenv import load_dotenv
from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.seal import Sealer
from bot.handoff.store import HandoffStore, RequestView
from bot.settings import PROJECT_ROOT, SettingsError, database_url, handoff_key

LOCAL = ZoneInfo("Europe/Amsterdam")


def _open() -> HandoffStore:
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return HandoffStore(database_url(), os.environ.get("PSEUDONYM_KEY", ""), Sealer(handoff_key()))


def _local(moment: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    return moment.astimezone(LOCAL).strftime(fmt) if moment else "-"


def _line(view: RequestView) -> str:
    window = (
        f"{_local(view.callback_from)}-{_local(view.callback_until, '%H:%M')}"
        if view.callback_from
        else "z.s.m."
    )
    delivered = (
        ", ".join(f"{target} {state}" for target, state in sorted(view.deliveries.items())) or "stored only"
    )
    return (
        f"#{view.id} [{view.status}] {window} {view.name} {view.phone} - {view.reason or '-'} "
        f"({view.channel}, {view.phase or '-'}, {delivered})"
    )


def _as_json(view: RequestView) -> dict[str, object]:
    data = {name: getattr(view, name) for name in view.__dataclass_fields__}
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in data.items()}


def run(args: argparse.Namespace) -> int:
    try:
        done = None
        if args.done is not None:
            if not args.done.isdigit():
                raise ValueError(f"--done takes a request number such as 12, got {args.done!r}")
            done = int(args.done)
        store = _open()
        try:
            if done is not None:
                if not store.mark_done(done, datetime.now(timezone.utc)):
                    raise ValueError(f"there is no open callback request #{done}")
                print(f"Callback request #{done} marked done.")
                return 0
            views = store.requests(include_done=args.all)
        finally:
            store.close()
    except (SettingsError, ValueError, SQLAlchemyError, OSError) as error:
        print(f"error: {str(error).splitlines()[0][:300]}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([_as_json(view) for view in views], ensure_ascii=False, indent=2))
    elif not views:
        print("No open callback requests." if not args.all else "No callback requests.")
    else:
        for view in views:
            print(_line(view))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("handoffs", help="list open callback requests, or mark one done")
    parser.add_argument("--all", action="store_true", help="include requests marked done")
    parser.add_argument("--json", action="store_true", help="print JSON instead of one line per request")
    parser.add_argument("--done", metavar="N", help="mark callback request N as done")
    parser.set_defaults(func=run)
