"""Run the report's SQL on one connection and assemble the Report; every figure is a GROUP BY.

For the default session gap the sections read the session fields the store keeps at write time
(no window functions). For another `--session-gap`, or when some turns lack those fields (written
outside the store), the selection's sessions are derived once into temporary tables
(bot/analytics/derived.py) and the same sections read those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, CursorResult, Row

from bot.analytics import derived, sql
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
from bot.store.models import SESSION_GAP_MINUTES, UtcDateTime

# Bounds on what the report lists (the JSON/CSV get the same lists as the HTML).
MAX_GAP_MESSAGES = 1000
MAX_GAPS = 25
MIN_REPLY_SHOWN = 5


def stored_fields_complete(connection: Connection) -> bool:
    """Every turn carries its write-time session fields (an index finds one without them at once)."""
    return connection.execute(text("SELECT 1 FROM turns WHERE session_no IS NULL LIMIT 1")).first() is None


def touchpoint_where(filters: Filters, products: str = "turns") -> str | None:
    """Conditions on touchpoints (alias tp), None without filters; the period is the touchpoint's start.

    `products` holds (touchpoint_id, product): session_products when complete, else the turns.
    """
    where = []
    if filters.since is not None:
        where.append("tp.started_at >= :since")
    if filters.until is not None:
        where.append("tp.started_at < :until")
    if filters.channel is not None:
        where.append("tp.channel = :channel")
    if filters.persona is not None:
        where.append("tp.persona = :persona")
    if filters.product is not None:
        where.append(f"tp.id IN (SELECT touchpoint_id FROM {products} WHERE product = :product)")
    if filters.journey is not None:
        where.append("tp.id IN (SELECT touchpoint_id FROM turns WHERE content_id LIKE :journey_like)")
    return " AND ".join(where) if where else None


def _params(filters: Filters) -> dict[str, Any]:
    params: dict[str, Any] = {"low": sql.LOW_CONFIDENCE}
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


def check_filters(connection: Connection, filters: Filters, journeys: Sequence[str], products: str) -> None:
    """A filter value that the data does not hold is an error naming the values that do exist."""
    checks = (
        ("channel", filters.channel, "SELECT DISTINCT channel FROM touchpoints"),
        ("persona", filters.persona, "SELECT DISTINCT persona FROM touchpoints WHERE persona IS NOT NULL"),
        ("product", filters.product, f"SELECT DISTINCT product FROM {products} WHERE product IS NOT NULL"),
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


def _source(connection: Connection, filters: Filters, complete: bool, selection: str | None) -> sql.Source:
    """The stored session fields when they fit, else the selection derived into temporary tables."""
    if complete and filters.gap_minutes == SESSION_GAP_MINUTES:
        return replace(sql.STORED, selection=selection)
    where = "1 = 1"
    if selection is not None:
        where = f"tu.touchpoint_id IN (SELECT tp.id FROM touchpoints tp WHERE {selection})"
    derived.materialise(connection, where, filters.gap_minutes * 60, _params(filters))
    return sql.Source(derived.TURNS, derived.SESSIONS, derived.PRODUCTS)


def _overview(row: Row[Any]) -> Overview:
    sessions, engaged, turns, dropped, completed, decided, ordered = (int(value or 0) for value in row[:7])
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


def _funnel(row: Row[Any], engaged: int) -> list[FunnelStep]:
    values = row._mapping
    steps = []
    for index, phase in enumerate(PHASES):
        reached = int(values[f"reached_{index}"] or 0)
        last = index == len(PHASES) - 1
        to_next = None if last else int(values[f"to_next_{index}"] or 0)
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


def _entry(rows: Sequence[Row[Any]], engaged: int) -> list[PhaseCount]:
    counts = {str(phase): int(count) for phase, count in rows}
    return [
        PhaseCount(phase, phase_label(phase), counts[phase], share(counts[phase], engaged))
        for phase in PHASES
        if phase in counts
    ]


def _transitions(rows: Sequence[Row[Any]]) -> list[Transition]:
    found = sorted((PHASES.index(str(a)), PHASES.index(str(b)), int(n)) for a, b, n in rows)
    return [Transition(PHASES[a], PHASES[b], n) for a, b, n in found]


def _dropoff(rows: Sequence[Row[Any]], funnel: list[FunnelStep]) -> list[Dropoff]:
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


def _replies(rows: Sequence[Row[Any]]) -> list[ReplyStat]:
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
        for row in rows
    ]
    # The replies that lose people first; replies shown too rarely to judge go last.
    return sorted(stats, key=lambda s: (s.too_few, -(s.left_rate or 0), -s.shown, s.content_id))


def _nps(
    connection: Connection, filters: Filters, src: sql.Source, selection: str | None
) -> tuple[Any, dict[str, list[NpsRow]]]:
    dialect = connection.dialect.name
    where = f" AND {selection}" if selection else ""
    base = f" FROM touchpoints tp WHERE tp.nps_score IS NOT NULL{where}"
    params = _params(filters)
    # An answer counts once for every product its conversation was about (answers first, then
    # their products through the key).
    products = (
        f" FROM (SELECT DISTINCT tp.id, tp.nps_score, p.product AS product FROM touchpoints tp"
        f" JOIN {src.products} p ON p.touchpoint_id = tp.id WHERE tp.nps_score IS NOT NULL{where}) tp"
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
        "product": (sql.nps_counts("tp.product") + products + " GROUP BY tp.product", str),
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


def _gaps(connection: Connection, filters: Filters, selection: str | None) -> list[Any]:
    where = (
        f" AND tu.touchpoint_id IN (SELECT tp.id FROM touchpoints tp WHERE {selection})" if selection else ""
    )
    statement = (
        f"SELECT tu.text, COUNT(*) AS n FROM turns tu WHERE tu.text NOT LIKE '/%'{where}"
        " AND (tu.outcome = 'fallback' OR tu.intent = 'nlu_fallback' OR tu.confidence < :low)"
        f" GROUP BY tu.text ORDER BY COUNT(*) DESC, tu.text LIMIT {MAX_GAP_MESSAGES}"
    )
    rows = _run(connection, statement, _params(filters))
    return group_gaps([(str(row.text), int(row.n)) for row in rows], MAX_GAPS)


def _mix(connection: Connection, src: sql.Source, params: Mapping[str, Any]) -> dict[str, list[MixRow]]:
    """Per week (Monday) the engaged sessions per channel, persona and product."""
    dialect = connection.dialect.name
    channels: dict[tuple[str, str], int] = {}
    personas: dict[tuple[str, str], int] = {}
    for day, channel, persona, n in _run(connection, sql.mix(src, dialect), params):
        monday = _monday(day)
        channels[monday, str(channel)] = channels.get((monday, str(channel)), 0) + int(n)
        personas[monday, str(persona)] = personas.get((monday, str(persona)), 0) + int(n)
    products = {
        (str(w), str(k)): int(n) for w, k, n in _run(connection, sql.product_mix(src, dialect), params)
    }
    return {
        name: [MixRow(week, key, n) for (week, key), n in sorted(counts.items())]
        for name, counts in (("channel", channels), ("persona", personas), ("product", products))
    }


def _monday(day: object) -> str:
    moment = date.fromisoformat(str(day)[:10])
    return (moment - timedelta(days=moment.weekday())).isoformat()


def _synthetic(connection: Connection, filters: Filters, selection: str | None) -> bool:
    where = f" AND {selection}" if selection else ""
    statement = f"SELECT 1 FROM touchpoints tp WHERE tp.synthetic = :yes{where} LIMIT 1"
    return bool(_run(connection, statement, {**_params(filters), "yes": True}))


def _period(filters: Filters, first: object, last: object) -> str:
    """ "van <eerste dag> t/m <laatste dag>": the filter's bounds, else the data's first and last day."""
    since = filters.since.date().isoformat() if filters.since else _day(first) or "begin"
    until = (filters.until - timedelta(microseconds=1)).date().isoformat() if filters.until else _day(last)
    return f"van {since} t/m {until or 'nu'}"


def _day(value: object) -> str | None:
    if value is None:
        return None
    return value.date().isoformat() if isinstance(value, datetime) else str(value)[:10]


def build_report(connection: Connection, filters: Filters, journeys: Sequence[str]) -> Report:
    """The whole report in one transaction; temporary tables (if any) are dropped at the end."""
    complete = stored_fields_complete(connection)
    check_filters(connection, filters, journeys, "session_products" if complete else "turns")
    selection = touchpoint_where(filters, "session_products" if complete else "turns")
    src = _source(connection, filters, complete, selection)
    params = _params(filters)
    try:
        totals = _execute(connection, sql.overview(src), params).one()
        overview = _overview(totals)
        funnel = _funnel(totals, overview.engaged)
        nps_overall, nps_groups = _nps(connection, filters, src, selection)
        report = Report(
            generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            period=_period(filters, totals.first, totals.last),
            filters={
                name: str(getattr(filters, name))
                for name in ("channel", "persona", "journey", "product")
                if getattr(filters, name) is not None
            },
            gap_minutes=filters.gap_minutes,
            min_answers=filters.min_answers,
            synthetic=_synthetic(connection, filters, selection),
            overview=overview,
            funnel=funnel,
            entry=_entry(_run(connection, sql.entry(src), params), overview.engaged),
            transitions=_transitions(_run(connection, sql.transitions(src), params)),
            dropoff=_dropoff(_run(connection, sql.last_phase(src), params), funnel),
            replies=_replies(_run(connection, sql.content_performance(src), params)),
            nps=nps_groups,
            nps_overall=nps_overall,
            gaps=_gaps(connection, filters, selection),
            mix=_mix(connection, src, params),
            experiments=experiment_results(_run(connection, sql.experiments(src), params)),
        )
    finally:
        derived.drop(connection)
    if overview.sessions == 0:
        report.notes.append("Geen gesprekken in deze periode of met deze filters.")
    elif overview.engaged == 0:
        report.notes.append("Alleen sessies zonder getypt bericht: nog geen betrokken sessies.")
    return report
