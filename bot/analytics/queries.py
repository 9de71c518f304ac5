"""Run the report's SQL on one connection and assemble the Report; every figure is a GROUP BY.

The annotated turns of the selection are written once to a temporary table; the other queries read
that table, so the window functions run once per report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, CursorResult, Row

from bot.analytics import sql
from bot.analytics.experiments import experiment_results
from bot.analytics.gaps import group_gaps
from bot.analytics.model import (
    Dropoff,
    Filters,
    FunnelStep,
    MixRow,
    NpsRow,
    Overview,
    PhaseCount,
    ReplyStat,
    Report,
    ReportError,
    Transition,
    phase_label,
    share,
)
from bot.analytics.stats import nps
from bot.phases import PHASES
from bot.store.models import UtcDateTime

TURNS = "an_turns"
SESSIONS = "an_sessions"
# Bounds on what the report lists (the JSON/CSV get the same lists as the HTML).
MAX_GAP_MESSAGES = 1000
MAX_GAPS = 25
MIN_REPLY_SHOWN = 5


def touchpoint_where(filters: Filters) -> str:
    """Conditions on touchpoints (alias tp); the period is the touchpoint's start."""
    where = ["1 = 1"]
    if filters.since is not None:
        where.append("tp.started_at >= :since")
    if filters.until is not None:
        where.append("tp.started_at < :until")
    if filters.channel is not None:
        where.append("tp.channel = :channel")
    if filters.persona is not None:
        where.append("tp.persona = :persona")
    if filters.product is not None:
        where.append("tp.id IN (SELECT touchpoint_id FROM turns WHERE product = :product)")
    if filters.journey is not None:
        where.append("tp.id IN (SELECT touchpoint_id FROM turns WHERE content_id LIKE :journey_like)")
    return " AND ".join(where)


def _params(filters: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {"gap": filters.gap_minutes * 60, "low": sql.LOW_CONFIDENCE}
    for name in ("since", "until", "channel", "persona", "product"):
        value = getattr(filters, name)
        if value is not None:
            params[name] = value
    if filters.journey is not None:
        params["journey_like"] = filters.journey + "/%"
    return params


def _execute(connection: Connection, statement: str, params: Mapping[str, Any]) -> CursorResult[Any]:
    """Bind only the parameters the statement uses; the period bounds as the store's UTC timestamps."""
    query = text(statement)
    names = [name for name in ("since", "until") if f":{name}" in statement]
    if names:
        query = query.bindparams(*(bindparam(name, type_=UtcDateTime()) for name in names))
    used = {key: value for key, value in params.items() if f":{key}" in statement}
    return connection.execute(query, used)


def _run(connection: Connection, statement: str, params: Mapping[str, Any]) -> Sequence[Row[Any]]:
    return _execute(connection, statement, params).all()


def check_filters(connection: Connection, filters: Filters, journeys: Sequence[str]) -> None:
    """A filter value that the data does not hold is an error naming the values that do exist."""
    checks = (
        ("channel", filters.channel, "SELECT DISTINCT channel FROM touchpoints"),
        ("persona", filters.persona, "SELECT DISTINCT persona FROM touchpoints WHERE persona IS NOT NULL"),
        ("product", filters.product, "SELECT DISTINCT product FROM turns WHERE product IS NOT NULL"),
    )
    for name, value, query in checks:
        if value is None:
            continue
        known = sorted(str(row[0]) for row in connection.execute(text(query)))
        if value not in known:
            listed = ", ".join(known) if known else "none yet"
            raise ReportError(f"--{name} {value!r} does not occur in the data; known values: {listed}")
    if filters.journey is not None and filters.journey not in journeys:
        raise ReportError(f"--journey {filters.journey!r} is not a journey; known: {', '.join(journeys)}")


def _prepare(connection: Connection, filters: Filters) -> None:
    dialect = connection.dialect.name
    for table in (SESSIONS, TURNS):
        connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
    select = sql.annotated_turns(dialect, touchpoint_where(filters), ":gap")
    _execute(connection, f"CREATE TEMPORARY TABLE {TURNS} AS {select}", _params(filters))
    connection.execute(text(f"CREATE TEMPORARY TABLE {SESSIONS} AS {sql.sessions(TURNS)}"))
    connection.execute(text(f"CREATE INDEX ix_{SESSIONS}_sk ON {SESSIONS} (sk)"))
    if dialect == "postgresql":
        connection.execute(text(f"ANALYZE {TURNS}"))
        connection.execute(text(f"ANALYZE {SESSIONS}"))


def _overview(connection: Connection) -> Overview:
    row = connection.execute(
        text(
            "SELECT COUNT(*), COALESCE(SUM(engaged), 0), COALESCE(SUM(turns), 0),"
            " COALESCE(SUM(engaged * dropped), 0), COALESCE(SUM(engaged * completed), 0),"
            " COALESCE(SUM(engaged * decided), 0), COALESCE(SUM(engaged * ordered), 0)"
            f" FROM {SESSIONS}"
        )
    ).one()
    sessions, engaged, turns, dropped, completed, decided, ordered = (int(value) for value in row)
    return Overview(
        sessions=sessions,
        engaged=engaged,
        not_engaged=sessions - engaged,
        turns=turns,
        dropped=dropped,
        completed=completed,
        decided=decided,
        ordered=ordered,
        decision_share=share(decided, engaged),
        order_share=share(ordered, engaged),
        dropped_share=share(dropped, engaged),
    )


def _funnel(connection: Connection, engaged: int) -> list[FunnelStep]:
    found = {row.phase: row for row in connection.execute(text(sql.funnel(TURNS, SESSIONS)))}
    steps = []
    for index, phase in enumerate(PHASES):
        row = found.get(phase)
        reached = int(row.sessions) if row else 0
        last = index == len(PHASES) - 1
        to_next = None if last else (int(row.to_next) if row else 0)
        steps.append(
            FunnelStep(
                phase=phase,
                label=phase_label(phase),
                sessions=reached,
                share=share(reached, engaged),
                to_next=to_next,
                step_conversion=None if to_next is None else share(to_next, reached),
            )
        )
    return steps


def _entry(connection: Connection, engaged: int) -> list[PhaseCount]:
    rows = connection.execute(
        text(
            f"SELECT entry_phase, COUNT(*) FROM {SESSIONS} WHERE engaged = 1 AND entry_phase IS NOT NULL"
            " GROUP BY entry_phase"
        )
    ).all()
    counts = {str(phase): int(count) for phase, count in rows}
    return [
        PhaseCount(phase, phase_label(phase), counts[phase], share(counts[phase], engaged))
        for phase in PHASES
        if phase in counts
    ]


def _transitions(connection: Connection) -> list[Transition]:
    """Consecutive messages of an engaged session in different phases (a move back counts too)."""
    rows = connection.execute(
        text(
            f"SELECT t.pidx, t.next_pidx, COUNT(*) FROM {TURNS} t JOIN {SESSIONS} s ON s.sk = t.sk"
            " WHERE s.engaged = 1 AND t.pidx IS NOT NULL AND t.next_pidx IS NOT NULL AND t.pidx <> t.next_pidx"
            " GROUP BY t.pidx, t.next_pidx ORDER BY t.pidx, t.next_pidx"
        )
    ).all()
    return [Transition(PHASES[int(a)], PHASES[int(b)], int(n)) for a, b, n in rows]


def _dropoff(connection: Connection, funnel: list[FunnelStep]) -> list[Dropoff]:
    rows = connection.execute(
        text(
            f"SELECT last_phase, COUNT(*), SUM(dropped) FROM {SESSIONS}"
            " WHERE engaged = 1 AND last_phase IS NOT NULL GROUP BY last_phase"
        )
    ).all()
    ended = {str(phase): (int(count), int(dropped)) for phase, count, dropped in rows}
    reached = {step.phase: step.sessions for step in funnel}
    return [
        Dropoff(
            phase=phase,
            label=phase_label(phase),
            reached=reached[phase],
            ended_here=ended.get(phase, (0, 0))[0],
            dropped=ended.get(phase, (0, 0))[1],
            rate=share(ended.get(phase, (0, 0))[1], reached[phase]),
        )
        for phase in PHASES
        if reached[phase]
    ]


def _replies(connection: Connection) -> list[ReplyStat]:
    stats = [
        ReplyStat(
            content_id=str(row.content_id),
            shown=int(row.shown),
            continued=int(row.continued),
            moved_on=int(row.moved_on),
            fell_back=int(row.fell_back),
            left=int(row.left_chat),
            closed=int(row.closed),
            left_rate=share(int(row.left_chat), int(row.shown)),
            too_few=int(row.shown) < MIN_REPLY_SHOWN,
        )
        for row in connection.execute(text(sql.content_performance(TURNS, SESSIONS)))
    ]
    # The replies that lose people first; replies shown too rarely to judge go last.
    return sorted(stats, key=lambda s: (s.too_few, -(s.left_rate or 0), -s.shown, s.content_id))


def _nps(connection: Connection, filters: Filters) -> tuple[Any, dict[str, list[NpsRow]]]:
    dialect = connection.dialect.name
    base = f" FROM touchpoints tp WHERE tp.nps_score IS NOT NULL AND {touchpoint_where(filters)}"
    params = _params(filters)
    products = (
        " FROM touchpoints tp JOIN (SELECT DISTINCT touchpoint_id, product FROM turns"
        " WHERE product IS NOT NULL) pr ON pr.touchpoint_id = tp.id"
        f" WHERE tp.nps_score IS NOT NULL AND {touchpoint_where(filters)}"
    )
    groups = {
        "phase": (sql.nps_counts("tp.nps_phase") + base + " GROUP BY tp.nps_phase", phase_label),
        "channel": (sql.nps_counts("tp.channel") + base + " GROUP BY tp.channel", str),
        "persona": (
            sql.nps_counts("COALESCE(tp.persona, '(onbekend)')")
            + base
            + " GROUP BY COALESCE(tp.persona, '(onbekend)')",
            str,
        ),
        "product": (sql.nps_counts("pr.product") + products + " GROUP BY pr.product", str),
        "week": (
            sql.nps_counts(sql.week("tp.nps_at", dialect))
            + base
            + f" GROUP BY {sql.week('tp.nps_at', dialect)}",
            str,
        ),
    }
    result: dict[str, list[NpsRow]] = {}
    for name, (statement, label) in groups.items():
        rows = _run(connection, statement, params)
        ordered = sorted(rows, key=lambda r: _nps_order(name, r.key))
        result[name] = [
            NpsRow(
                key=str(r.key),
                label=label(r.key),
                nps=nps(int(r.answers), int(r.promoters), int(r.detractors), filters.min_answers),
            )
            for r in ordered
        ]
    (overall,) = _run(connection, sql.nps_counts("1") + base, params)
    return nps(int(overall.answers), int(overall.promoters or 0), int(overall.detractors or 0),
               filters.min_answers), result  # fmt: skip


def _nps_order(group: str, key: object) -> tuple[int, str]:
    if group == "phase":
        return (PHASES.index(str(key)) if key in PHASES else len(PHASES), str(key))
    return (0, str(key))


def _gaps(connection: Connection, filters: Filters) -> list[Any]:
    statement = (
        "SELECT tu.text, COUNT(*) AS n FROM turns tu JOIN touchpoints tp ON tp.id = tu.touchpoint_id"
        f" WHERE {touchpoint_where(filters)} AND tu.text NOT LIKE '/%'"
        " AND (tu.outcome = 'fallback' OR tu.intent = 'nlu_fallback' OR tu.confidence < :low)"
        f" GROUP BY tu.text ORDER BY COUNT(*) DESC, tu.text LIMIT {MAX_GAP_MESSAGES}"
    )
    rows = _run(connection, statement, _params(filters))
    return group_gaps([(str(row.text), int(row.n)) for row in rows], MAX_GAPS)


def _mix(connection: Connection) -> dict[str, list[MixRow]]:
    week = sql.week("started_at", connection.dialect.name)
    week_s = sql.week("s.started_at", connection.dialect.name)
    statements = {
        "channel": f"SELECT {week}, channel, COUNT(*) FROM {SESSIONS} WHERE engaged = 1 GROUP BY {week}, channel",
        "persona": f"SELECT {week}, COALESCE(persona, '(onbekend)'), COUNT(*) FROM {SESSIONS}"
        f" WHERE engaged = 1 GROUP BY {week}, COALESCE(persona, '(onbekend)')",
        "product": f"SELECT {week_s}, t.product, COUNT(DISTINCT t.sk) FROM {TURNS} t JOIN {SESSIONS} s"
        f" ON s.sk = t.sk WHERE s.engaged = 1 AND t.product IS NOT NULL GROUP BY {week_s}, t.product",
    }
    return {
        name: sorted(
            (MixRow(str(w), str(k), int(n)) for w, k, n in connection.execute(text(statement))),
            key=lambda row: (row.week, row.key),
        )
        for name, statement in statements.items()
    }


def _synthetic(connection: Connection, filters: Filters) -> bool:
    statement = (
        f"SELECT COUNT(*) FROM touchpoints tp WHERE tp.synthetic = :yes AND {touchpoint_where(filters)}"
    )
    params = {**_params(filters), "yes": True}
    return int(_run(connection, statement, params)[0][0]) > 0


def _period(filters: Filters, connection: Connection) -> str:
    """ "van <eerste dag> t/m <laatste dag>": the filter's bounds, else the data's first and last day."""
    first, last = connection.execute(text(f"SELECT MIN(started_at), MAX(ended_at) FROM {SESSIONS}")).one()
    since = filters.since.date().isoformat() if filters.since else _day(first) or "begin"
    until = (filters.until - timedelta(microseconds=1)).date().isoformat() if filters.until else _day(last)
    return f"van {since} t/m {until or 'nu'}"


def _day(value: object) -> str | None:
    if value is None:
        return None
    return value.date().isoformat() if isinstance(value, datetime) else str(value)[:10]


def build_report(connection: Connection, filters: Filters, journeys: Sequence[str]) -> Report:
    """The whole report in one transaction; the temporary tables are dropped at the end."""
    check_filters(connection, filters, journeys)
    _prepare(connection, filters)
    try:
        overview = _overview(connection)
        funnel = _funnel(connection, overview.engaged)
        nps_overall, nps_groups = _nps(connection, filters)
        report = Report(
            generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            period=_period(filters, connection),
            filters={
                name: str(getattr(filters, name))
                for name in ("channel", "persona", "journey", "product")
                if getattr(filters, name) is not None
            },
            gap_minutes=filters.gap_minutes,
            min_answers=filters.min_answers,
            synthetic=_synthetic(connection, filters),
            overview=overview,
            funnel=funnel,
            entry=_entry(connection, overview.engaged),
            transitions=_transitions(connection),
            dropoff=_dropoff(connection, funnel),
            replies=_replies(connection),
            nps=nps_groups,
            nps_overall=nps_overall,
            gaps=_gaps(connection, filters),
            mix=_mix(connection),
            experiments=experiment_results(connection, TURNS, SESSIONS),
        )
    finally:
        for table in (SESSIONS, TURNS):
            connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
    if overview.sessions == 0:
        report.notes.append("Geen gesprekken in deze periode of met deze filters.")
    elif overview.engaged == 0:
        report.notes.append("Alleen sessies zonder getypt bericht: nog geen betrokken sessies.")
    return report
