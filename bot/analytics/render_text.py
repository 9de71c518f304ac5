"""The report as terminal tables (Dutch, like the HTML), for a quick look without a browser."""

from __future__ import annotations

from collections.abc import Sequence

from bot.analytics.model import Report
from bot.analytics.stats import ALPHA, Nps
from bot.phases import DUTCH_LABELS

TOO_FEW = "te weinig antwoorden"
MAX_TEXT_ROWS = 15


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def nps_text(value: Nps) -> str:
    if value.score is None:
        return "-"
    text = f"{value.score:+.1f} [{value.low:+.1f}, {value.high:+.1f}]"
    return f"{text} ({TOO_FEW})" if value.too_few else text


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def _section(title: str, content: str) -> str:
    return f"\n{title}\n{'=' * len(title)}\n{content}\n"


def render_text(report: Report) -> str:
    o = report.overview
    parts = [
        f"Klantreisrapport {report.period}" + (" — SYNTHETISCHE DEMODATA" if report.synthetic else ""),
        f"Gemaakt {report.generated_at}; filters: "
        + (", ".join(f"{k}={v}" for k, v in report.filters.items()) or "geen")
        + f"; sessie eindigt na {report.gap_minutes} min stilte",
        *report.notes,
        _section(
            "Overzicht",
            table(
                ("sessies", "betrokken", "zonder getypt bericht", "beslissing", "bestelling", "afgehaakt"),
                [
                    (
                        o.sessions,
                        o.engaged,
                        o.not_engaged,
                        f"{o.decided} ({pct(o.decision_share)})",
                        f"{o.ordered} ({pct(o.order_share)})",
                        f"{o.dropped} ({pct(o.dropped_share)})",
                    )
                ],
            ),
        ),
        _section(
            "Trechter (betrokken sessies per fase)",
            table(
                ("fase", "sessies", "% betrokken", "ook volgende fase", "stapconversie"),
                [
                    (
                        s.label,
                        s.sessions,
                        pct(s.share),
                        "-" if s.to_next is None else s.to_next,
                        pct(s.step_conversion),
                    )
                    for s in report.funnel
                ],
            ),
        ),
        _section(
            "Instapfase",
            table(("fase", "sessies", "%"), [(e.label, e.sessions, pct(e.share)) for e in report.entry]),
        ),
        _section(
            "Overgangen tussen fasen",
            table(
                ("van", "naar", "aantal"),
                [
                    (DUTCH_LABELS.get(t.source, t.source), DUTCH_LABELS.get(t.target, t.target), t.sessions)
                    for t in report.transitions
                ],
            ),
        ),
        _section(
            "Afhakers per fase",
            table(
                ("fase", "bereikt", "laatste fase", "afgehaakt", "% van bereikt"),
                [(d.label, d.reached, d.ended_here, d.dropped, pct(d.rate)) for d in report.dropoff],
            ),
        ),
        _section(
            "Antwoorden die mensen verliezen",
            table(
                (
                    "antwoord (content_id)",
                    "getoond",
                    "verder",
                    "volgende fase",
                    "niet begrepen",
                    "weg",
                    "% weg",
                ),
                [
                    (
                        r.content_id,
                        r.shown,
                        r.continued,
                        r.moved_on,
                        r.fell_back,
                        r.left,
                        pct(r.left_rate) + (" (weinig)" if r.too_few else ""),
                    )
                    for r in report.replies[:MAX_TEXT_ROWS]
                ],
            ),
        ),
    ]
    nps_lines = []
    if report.nps_overall is not None:
        nps_lines.append(f"Totaal: {nps_text(report.nps_overall)}, n = {report.nps_overall.answers}")
    names = {"phase": "fase", "channel": "kanaal", "persona": "persona", "product": "product", "week": "week"}
    for group, rows in report.nps.items():
        nps_lines.append(
            f"\nper {names.get(group, group)}:\n"
            + table(
                (names.get(group, group), "NPS [95%-interval]", "n", "promotors", "passief", "criticasters"),
                [
                    (
                        r.label,
                        nps_text(r.nps),
                        r.nps.answers,
                        r.nps.promoters,
                        r.nps.passives,
                        r.nps.detractors,
                    )
                    for r in rows
                ],
            )
        )
    nps_lines.append(
        f"NPS = %promotors (9-10) − %criticasters (0-6); 95%-interval uit de variantie van de NPS "
        f"(Wald); minder dan {report.min_answers} antwoorden: {TOO_FEW}."
    )
    parts.append(_section("NPS", "\n".join(nps_lines)))
    parts.append(
        _section(
            "Inhoud die ontbreekt (niet begrepen berichten, gegroepeerd)",
            table(
                ("voorbeeld", "aantal", "varianten"), [(g.example, g.count, g.wordings) for g in report.gaps]
            ),
        )
    )
    for group, rows in report.mix.items():
        parts.append(
            _section(
                f"Mix per week: {names.get(group, group)}",
                table(
                    ("week", names.get(group, group), "sessies"), [(r.week, r.key, r.sessions) for r in rows]
                ),
            )
        )
    experiments = []
    for experiment in report.experiments:
        experiments.append(
            f"{experiment.experiment}: {experiment.verdict}\n"
            + table(
                ("arm", "sessies", "naar volgende fase", "%", "z vs A", "p vs A"),
                [
                    (
                        a.arm,
                        a.sessions,
                        a.moved_on,
                        pct(a.rate),
                        "-" if a.versus_a is None or a.versus_a.z is None else a.versus_a.z,
                        "-" if a.versus_a is None or a.versus_a.p_value is None else a.versus_a.p_value,
                    )
                    for a in experiment.arms
                ],
            )
        )
    experiments.append(f"Toets: twee-proporties z-toets (gepoold, tweezijdig), significant bij p < {ALPHA}.")
    parts.append(_section("Experimenten", "\n\n".join(experiments)))
    return "\n".join(parts) + "\n"
