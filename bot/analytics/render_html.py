"""The report as one self-contained HTML file: inline CSS and SVG, no script, nothing fetched.

Every value from the database is escaped, and the Content-Security-Policy forbids scripts and
outside requests, so stored visitor text can never run in a marketer's browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.analytics import svg
from bot.analytics.model import MixRow, NpsRow, Report
from bot.analytics.render_text import TOO_FEW, pct
from bot.analytics.stats import ALPHA
from bot.phases import DUTCH_LABELS

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1rem 1.5rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:2px solid #2f6f9f;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}th,td{padding:.25rem .6rem;
border-bottom:1px solid #ddd;text-align:left}td.n{text-align:right}.note{color:#555;font-size:.9rem}
.synthetic{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem 1rem}.few{color:#999}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}
.card b{display:block;font-size:1.4rem}svg.chart{max-width:100%;height:auto}
"""
GROUP_NAMES = {"phase": "fase", "channel": "kanaal", "persona": "persona", "product": "product", "week": "week",
               "journey": "klantreis"}  # fmt: skip


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_e(c)}</td>' if i >= numeric_from else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(anchor: str, title: str, *content: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{"".join(content)}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _overview(report: Report) -> str:
    o = report.overview
    cards = (
        ("Sessies", o.sessions),
        ("Betrokken sessies", o.engaged),
        ("Zonder getypt bericht", o.not_engaged),
        ("Beslissing (offerte/bezoek)", f"{o.decided} · {pct(o.decision_share)}"),
        ("Bestelling", f"{o.ordered} · {pct(o.order_share)}"),
        ("Afgehaakt", f"{o.dropped} · {pct(o.dropped_share)}"),
    )
    return (
        '<div class="cards">'
        + "".join(f'<div class="card">{_e(name)}<b>{_e(value)}</b></div>' for name, value in cards)
        + "</div>"
    )


def _nps_group(group: str, rows: list[NpsRow]) -> str:
    name = GROUP_NAMES.get(group, group)
    table = _table(
        (name, "NPS", "95%-interval", "n", "promotors", "passief", "criticasters", ""),
        [(r.label, "-" if r.nps.score is None else f"{r.nps.score:+.1f}",
          "-" if r.nps.low is None else f"{r.nps.low:+.1f} tot {r.nps.high:+.1f}", r.nps.answers,
          r.nps.promoters, r.nps.passives, r.nps.detractors, TOO_FEW if r.nps.too_few else "")
         for r in rows],
    )  # fmt: skip
    if group == "week":
        chart = svg.line("NPS per week", [(r.key, r.nps.score) for r in rows])
    else:
        chart = svg.nps_bars(
            f"NPS per {name}", [(r.label, r.nps.score, r.nps.low, r.nps.high, r.nps.too_few) for r in rows]
        )
    return f"<h3>Per {_e(name)}</h3>{chart}{table}"


def _mix(group: str, rows: list[MixRow]) -> str:
    weeks = sorted({row.week for row in rows})
    keys = sorted({row.key for row in rows})
    counts = {(row.week, row.key): row.sessions for row in rows}
    series = {key: [counts.get((week, key), 0) for week in weeks] for key in keys}
    name = GROUP_NAMES.get(group, group)
    table = _table(("week", *keys), [(week, *(counts.get((week, k), 0) for k in keys)) for week in weeks])
    return f"<h3>Per {_e(name)}</h3>{svg.stacked_weeks(f'Sessies per week per {name}', weeks, series)}{table}"


def _experiments(report: Report) -> str:
    if not report.experiments:
        return _note("Geen experimenten in deze periode (zie journeys/README.md: experiment).")
    parts = []
    for experiment in report.experiments:
        bars = svg.hbars(
            f"Experiment {experiment.experiment}: naar een volgende fase per arm",
            [(f"arm {a.arm}", a.rate or 0.0, f"{pct(a.rate)} van {a.sessions}") for a in experiment.arms],
        )
        table = _table(
            ("arm", "sessies", "naar volgende fase", "%", "z t.o.v. A", "p t.o.v. A"),
            [(a.arm, a.sessions, a.moved_on, pct(a.rate),
              "-" if a.versus_a is None or a.versus_a.z is None else a.versus_a.z,
              "-" if a.versus_a is None or a.versus_a.p_value is None else a.versus_a.p_value)
             for a in experiment.arms],
        )  # fmt: skip
        parts.append(
            f"<h3>{_e(experiment.experiment)}</h3><p><b>{_e(experiment.verdict)}</b></p>{bars}{table}"
        )
    parts.append(
        _note(f"Toets: twee-proporties z-toets (gepoold, tweezijdig); significant bij p < {ALPHA}. "
              "De winnaar is de beste arm als die significant beter is dan de nummer twee.")
    )  # fmt: skip
    return "".join(parts)


def render_html(report: Report) -> str:
    label = DUTCH_LABELS.get
    funnel = report.funnel
    sections = [
        _section("overzicht", "Overzicht", _overview(report)),
        _section(
            "trechter",
            "Trechter: hoe ver komen bezoekers?",
            svg.hbars(
                "Betrokken sessies per fase",
                [(s.label, s.sessions, f"{s.sessions} · {pct(s.share)}") for s in funnel],
            ),
            _table(
                ("fase", "sessies", "% van betrokken", "ook volgende fase", "stapconversie"),
                [
                    (
                        s.label,
                        s.sessions,
                        pct(s.share),
                        "-" if s.to_next is None else s.to_next,
                        pct(s.step_conversion),
                    )
                    for s in funnel
                ],
            ),
        ),
        _section(
            "instap",
            "Waar komen bezoekers binnen?",
            svg.hbars(
                "Instapfase", [(e.label, e.sessions, f"{e.sessions} · {pct(e.share)}") for e in report.entry]
            ),
        ),
        _section(
            "stromen",
            "Stromen tussen fasen",
            svg.sankey(
                "Van fase naar fase",
                [
                    (label(t.source, t.source), label(t.target, t.target), t.sessions)
                    for t in report.transitions
                ],
            ),
            _table(
                ("van", "naar", "aantal"),
                [
                    (label(t.source, t.source), label(t.target, t.target), t.sessions)
                    for t in report.transitions
                ],
                numeric_from=2,
            ),
        ),
        _section(
            "afhakers",
            "Waar haken bezoekers af?",
            svg.hbars(
                "Afhakers per fase (% van wie de fase bereikte)",
                [(d.label, d.rate or 0.0, f"{d.dropped} · {pct(d.rate)}") for d in report.dropoff],
            ),
            _table(
                ("fase", "bereikt", "laatste fase", "afgehaakt", "% van bereikt"),
                [(d.label, d.reached, d.ended_here, d.dropped, pct(d.rate)) for d in report.dropoff],
            ),
        ),
        _section(
            "antwoorden",
            "Welke antwoorden verliezen mensen?",
            _table(
                ("antwoord", "getoond", "ging verder", "naar volgende fase", "niet begrepen", "weg", "% weg"),
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
                    for r in report.replies[:40]
                ],
            ),
            _note(
                "Na elk antwoord: ging het gesprek verder, naar een latere fase, werd het volgende bericht niet "
                "begrepen, of verdween de bezoeker zonder afronding. Het meest verliesgevend eerst."
            ),
        ),
        _section(
            "nps",
            "Aanbevelingsscore (NPS) per moment",
            _note(
                "NPS = % promotors (9-10) − % criticasters (0-6). Interval: 95% (Wald), uit de variantie van de "
                f"NPS: (p₊ + p₋ − (p₊ − p₋)²)/n. Onder {report.min_answers} antwoorden: {TOO_FEW}."
            ),
            ""
            if report.nps_overall is None or report.nps_overall.score is None
            else f"<p>Totaal: <b>{report.nps_overall.score:+.1f}</b> (n = {report.nps_overall.answers})</p>",
            *(_nps_group(group, rows) for group, rows in report.nps.items()),
        ),
        _section(
            "ontbreekt",
            "Welke vragen kon de assistent niet beantwoorden?",
            _table(
                ("voorbeeld (gemaskeerd)", "aantal", "varianten"),
                [(g.example, g.count, g.wordings) for g in report.gaps],
            ),
            _note(
                "Niet begrepen of met lage zekerheid; vergelijkbare formuleringen samen. Voeg voor de grootste "
                "groepen inhoud of trainingsvoorbeelden toe."
            ),
        ),
        _section("mix", "Mix door de tijd", *(_mix(group, rows) for group, rows in report.mix.items())),
        _section("experimenten", "Experimenten (test-and-learn)", _experiments(report)),
    ]
    filters = ", ".join(f"{GROUP_NAMES.get(k, k)} = {v}" for k, v in report.filters.items()) or "geen"
    synthetic = (
        '<p class="synthetic">Let op: deze gegevens bevatten <b>synthetische demodata</b> '
        "(journey demo-data), geen echte gesprekken.</p>"
        if report.synthetic
        else ""
    )
    notes = "".join(_note(note) for note in report.notes)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="nl"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Klantreisrapport {_e(report.period)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Klantreisrapport</h1><p>Periode {_e(report.period)} · filters: {_e(filters)} · "
        f"een sessie eindigt na {report.gap_minutes} minuten stilte · gemaakt {_e(report.generated_at)}</p>"
        f"{synthetic}{notes}{''.join(sections)}"
        '<p class="note">Begrippen: docs/ANALYTICS.md.</p></body></html>\n'
    )
