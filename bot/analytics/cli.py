"""`journey report` and `journey demo-data`: the analytics report for marketers, and demo sessions.

Bad input (a date, a filter value, an unreachable database) is one `error:` line and exit code 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from dotenv import load_dotenv
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.analytics.model import Filters, ReportError
from bot.analytics.render import FORMATS, render
from bot.analytics.service import journey_ids, make_report
from bot.settings import PROJECT_ROOT, SettingsError, sqlite_url
from bot.store.database import UNREACHABLE, make_engine, safe_url, upgrade

MAX_GAP_MINUTES = 24 * 60
MAX_DEMO_SESSIONS = 2_000_000


def database_url() -> str:
    load_dotenv(PROJECT_ROOT / ".env", override=False)
    return os.environ.get("DATABASE_URL") or sqlite_url("journey.db")


def open_engine(url: str) -> Engine:
    """The store's database at the newest schema (an older revision is migrated first)."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    except UNREACHABLE as error:
        engine.dispose()
        raise ReportError(f"the touchpoint database {safe_url(url)} is unreachable") from error
    return engine


def parse_moment(option: str, raw: str | None, *, end: bool = False) -> datetime | None:
    """YYYY-MM-DD (an --until day counts in full) or an ISO date-time; naive means UTC."""
    if raw is None:
        return None
    try:
        if len(raw) == 10:
            day = datetime.strptime(raw, "%Y-%m-%d").date()
            moment = datetime.combine(day + timedelta(days=1) if end else day, time(), timezone.utc)
        else:
            moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ReportError(f"{option} {raw!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _bounded(option: str, raw: str, low: int, high: int) -> int:
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ReportError(f"{option} must be a whole number from {low} to {high}, got {raw!r}")
    return int(raw)


def filters_from(args: argparse.Namespace) -> Filters:
    since = parse_moment("--since", args.since)
    until = parse_moment("--until", args.until, end=True)
    if since and until and since >= until:
        raise ReportError("--since must be before --until")
    if args.format not in FORMATS:
        raise ReportError(f"--format must be one of {', '.join(FORMATS)}, got {args.format!r}")
    return Filters(
        since=since,
        until=until,
        channel=args.channel,
        persona=args.persona,
        journey=args.journey,
        product=args.product,
        gap_minutes=_bounded("--session-gap", args.session_gap, 1, MAX_GAP_MINUTES),
        min_answers=_bounded("--min-answers", args.min_answers, 1, 100_000),
    )


def run_report(args: argparse.Namespace) -> int:
    try:
        filters = filters_from(args)
        engine = open_engine(database_url())
        try:
            report = make_report(engine, filters, journey_ids())
        finally:
            engine.dispose()
        output = render(report, args.format)
        if args.output:
            Path(args.output).write_text(output, encoding="utf-8")
            print(f"Wrote the {args.format} report to {args.output}.", file=sys.stderr)
        else:
            sys.stdout.write(output)
    except (ReportError, SettingsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(
            f"error: the report query failed ({type(error).__name__}); is DATABASE_URL the store?",
            file=sys.stderr,
        )
        return 1
    return 0


def run_demo_data(args: argparse.Namespace) -> int:
    from bot.analytics.demo import DemoRefused, generate

    try:
        sessions = _bounded("--sessions", args.sessions, 1, MAX_DEMO_SESSIONS)
        engine = open_engine(database_url())
        try:
            counts = generate(engine, sessions, seed=int(args.seed), force=args.force)
        finally:
            engine.dispose()
    except (ReportError, DemoRefused, SettingsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"error: writing demo data failed ({type(error).__name__})", file=sys.stderr)
        return 1
    print(
        f"Added {counts['touchpoints']} synthetic touchpoints with {counts['turns']} turns (marked synthetic)."
    )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = subparsers.add_parser(
        "report", help="journey analytics: funnel, drop-off, NPS, content, experiments"
    )
    report.add_argument(
        "--since", metavar="YYYY-MM-DD", help="first day (sessions that started then or later)"
    )
    report.add_argument("--until", metavar="YYYY-MM-DD", help="last day, included")
    report.add_argument("--channel", help="only this channel (web, whatsapp, sms, rest)")
    report.add_argument("--persona", help="only this persona")
    report.add_argument("--journey", help="only conversations with replies from this journey")
    report.add_argument("--product", help="only conversations about this product")
    report.add_argument(
        "--format", default="text", metavar="|".join(FORMATS), help="text (default), html, json or csv"
    )
    report.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    report.add_argument(
        "--session-gap", default="30", metavar="MIN", help="minutes of silence that end a session (30)"
    )
    report.add_argument(
        "--min-answers", default="30", metavar="N", help="NPS with fewer answers is marked (30)"
    )
    report.set_defaults(func=run_report)
    demo = subparsers.add_parser("demo-data", help="add realistic synthetic sessions (marked synthetic)")
    demo.add_argument("--sessions", default="500", metavar="N", help="how many sessions (500)")
    demo.add_argument("--seed", default="7", help="random seed, for the same data again")
    demo.add_argument("--force", action="store_true", help="also when the database holds real conversations")
    demo.set_defaults(func=run_demo_data)
