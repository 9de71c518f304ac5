"""Small inline SVG charts for the HTML report: no library, no script, every label escaped.

Each function returns one `<svg>` element with role="img" and a <title>, so the report opens
offline and screen readers announce what each chart shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2f6f9f", "#e07b39", "#3a9d5d", "#b54a7a", "#7a6bb5", "#c9a227", "#4aa3b5", "#8c6d4f")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" {FONT}><title>{escape(title)}</title>{body}</svg>'
    )


def _text(x: float, y: float, value: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {extra}>{escape(value)}</text>'


def hbars(title: str, items: Sequence[tuple[str, float, str]], width: int = 640) -> str:
    """Horizontal bars: (label, value, text shown after the bar)."""
    row, left, right = 26, 150, 150
    height = max(row * len(items) + 10, 40)
    top = max((value for _, value, _ in items), default=0) or 1
    parts = []
    for index, (label, value, shown) in enumerate(items):
        y = 5 + index * row
        length = (width - left - right) * value / top
        parts.append(_text(left - 8, y + 16, label, "end"))
        parts.append(
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{max(length, 1):.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(f"{label}: {shown}")}</title></rect>'
        )
        parts.append(_text(left + length + 6, y + 16, shown))
    return _svg(width, height, title, "".join(parts))


def sankey(title: str, links: Sequence[tuple[str, str, int]], width: int = 640) -> str:
    """Two columns (from → to); each band's thickness is the number of moves."""
    total = sum(count for _, _, count in links)
    if not total:
        return _svg(width, 40, title, _text(10, 24, "Geen overgangen in deze periode."))
    height, gap, node_w, label_w = 360, 6, 14, 110
    sources = list(dict.fromkeys(source for source, _, _ in links))
    targets = list(dict.fromkeys(target for _, target, _ in sorted(links, key=lambda link: link[1])))
    usable = height - gap * (max(len(sources), len(targets)) + 1)
    scale = usable / total

    def stack(names: list[str], sizes: dict[str, int]) -> dict[str, float]:
        tops, y = {}, float(gap)
        for name in names:
            tops[name] = y
            y += sizes[name] * scale + gap
        return tops

    out_size = {name: sum(c for s, _, c in links if s == name) for name in sources}
    in_size = {name: sum(c for _, t, c in links if t == name) for name in targets}
    left_x, right_x = label_w, width - label_w - node_w
    src_top, dst_top = stack(sources, out_size), stack(targets, in_size)
    src_used = dict.fromkeys(sources, 0.0)
    dst_used = dict.fromkeys(targets, 0.0)
    colours = {name: PALETTE[index % len(PALETTE)] for index, name in enumerate(sources)}
    parts = []
    for source, target, count in links:
        band = count * scale
        y0 = src_top[source] + src_used[source]
        y1 = dst_top[target] + dst_used[target]
        src_used[source] += band
        dst_used[target] += band
        x0, x1 = left_x + node_w, right_x
        mid = (x0 + x1) / 2
        path = (
            f"M{x0},{y0:.1f} C{mid},{y0:.1f} {mid},{y1:.1f} {x1},{y1:.1f} "
            f"L{x1},{y1 + band:.1f} C{mid},{y1 + band:.1f} {mid},{y0 + band:.1f} {x0},{y0 + band:.1f} Z"
        )
        parts.append(
            f'<path class="flow" d="{path}" fill="{colours[source]}" fill-opacity="0.45">'
            f"<title>{escape(f'{source} → {target}: {count}')}</title></path>"
        )
    for name in sources:
        h = out_size[name] * scale
        parts.append(
            f'<rect x="{left_x}" y="{src_top[name]:.1f}" width="{node_w}" height="{h:.1f}" fill="{colours[name]}"/>'
        )
        parts.append(_text(left_x - 6, src_top[name] + h / 2 + 4, name, "end"))
    for name in targets:
        h = in_size[name] * scale
        parts.append(
            f'<rect x="{right_x}" y="{dst_top[name]:.1f}" width="{node_w}" height="{h:.1f}" fill="#555"/>'
        )
        parts.append(_text(right_x + node_w + 6, dst_top[name] + h / 2 + 4, name))
    return _svg(width, height, title, "".join(parts))


def nps_bars(title: str, items: Sequence[tuple[str, float | None, float | None, float | None, bool]],
             width: int = 640) -> str:  # fmt: skip
    """Per group: NPS from −100 to +100 around a zero line, the 95% interval as a whisker; too few = grey."""
    row, left, right = 28, 150, 20
    height = row * len(items) + 30
    span = width - left - right

    def x(value: float) -> float:
        return left + span * (value + 100) / 200

    parts = [
        f'<line x1="{x(0):.1f}" y1="0" x2="{x(0):.1f}" y2="{height - 20}" stroke="#999"/>',
        _text(x(-100), height - 6, "−100", "start"),
        _text(x(0), height - 6, "0", "middle"),
        _text(x(100), height - 6, "+100", "end"),
    ]
    for index, (label, score, low, high, too_few) in enumerate(items):
        y = 4 + index * row
        parts.append(_text(left - 8, y + 16, label, "end"))
        if score is None:
            continue
        colour = "#bbb" if too_few else (PALETTE[2] if score >= 0 else PALETTE[1])
        start, end = sorted((x(0), x(score)))
        parts.append(
            f'<rect class="bar" x="{start:.1f}" y="{y + 4}" width="{max(end - start, 1):.1f}" height="{row - 12}" '
            f'fill="{colour}"><title>{escape(f"{label}: {score:+.1f}")}</title></rect>'
        )
        if low is not None and high is not None:
            mid = y + row / 2 - 2
            parts.append(
                f'<line x1="{x(low):.1f}" y1="{mid}" x2="{x(high):.1f}" y2="{mid}" stroke="#222" stroke-width="1.5"/>'
            )
    return _svg(width, height, title, "".join(parts))


def stacked_weeks(title: str, weeks: Sequence[str], series: dict[str, list[int]], width: int = 640) -> str:
    """Stacked columns per week, one colour per key, with a legend."""
    if not weeks:
        return _svg(width, 40, title, _text(10, 24, "Geen sessies in deze periode."))
    height, bottom, legend_h = 240, 30, 22
    top = max(sum(values[i] for values in series.values()) for i in range(len(weeks))) or 1
    column = (width - 40) / len(weeks)
    parts = []
    for index, week in enumerate(weeks):
        y = height - bottom
        for number, (key, values) in enumerate(series.items()):
            h = (height - bottom - legend_h - 10) * values[index] / top
            y -= h
            parts.append(
                f'<rect class="bar" x="{30 + index * column:.1f}" y="{y:.1f}" width="{column * 0.8:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[number % len(PALETTE)]}">'
                f"<title>{escape(f'{week} {key}: {values[index]}')}</title></rect>"
            )
        if len(weeks) <= 12 or index % max(len(weeks) // 8, 1) == 0:
            parts.append(_text(30 + index * column + column * 0.4, height - 12, week[5:], "middle"))
    for number, key in enumerate(series):
        x = 30 + number * 110
        parts.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{PALETTE[number % len(PALETTE)]}"/>')
        parts.append(_text(x + 16, 15, key[:14]))
    return _svg(width, height, title, "".join(parts))


def line(title: str, points: Sequence[tuple[str, float | None]], width: int = 640) -> str:
    """A line from −100 to +100 over the weeks (NPS trend); weeks without answers are gaps."""
    height, left, bottom = 200, 40, 26
    known = [(i, v) for i, (_, v) in enumerate(points) if v is not None]
    if not known:
        return _svg(width, 40, title, _text(10, 24, "Nog geen NPS-antwoorden in deze periode."))
    step = (width - left - 20) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return 10 + (height - bottom - 10) * (100 - value) / 200

    path = " ".join(
        f"{'M' if n == 0 else 'L'}{left + i * step:.1f},{y(v):.1f}" for n, (i, v) in enumerate(known)
    )
    parts = [
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 10}" y2="{y(0):.1f}" stroke="#999"/>',
        _text(left - 4, y(100) + 4, "+100", "end"),
        _text(left - 4, y(0) + 4, "0", "end"),
        _text(left - 4, y(-100) + 4, "−100", "end"),
        f'<path class="trend" d="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2"/>',
    ]
    for i, v in known:
        label = points[i][0]
        parts.append(
            f'<circle cx="{left + i * step:.1f}" cy="{y(v):.1f}" r="3.5" fill="{PALETTE[0]}">'
            f"<title>{escape(f'{label}: {v:+.1f}')}</title></circle>"
        )
        parts.append(_text(left + i * step, height - 8, label[5:], "middle"))
    return _svg(width, height, title, "".join(parts))
