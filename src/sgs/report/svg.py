"""The bulletin's charts as SVG pictures, for the PDF: the workbook's native charts drawn by our
code from the same :class:`sgs.report.xlsx.Chart` specifications.

SVG, not a raster image: WeasyPrint draws it as vector graphics, so the chart prints sharp at
any size, and its labels are text set in the document's embedded CJK font (a reader can search
and copy a unit's name).  A null value is a gap — no bar, a break in the line — never 0, as in
the workbook.  Every label and title is escaped: a unit's name is data, not markup.  The line
chart's values are placed together, not each at its point, so that close values (the three
rates of a single month) never print over each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from sgs.labels import pct
from sgs.report.xlsx import Chart

# One colour per series, in the order of the chart's columns (the three rates).
COLOURS = ("#2563eb", "#16a34a", "#ea580c", "#7c3aed")
FONT = "Noto Sans CJK SC"
WIDTH = 1000  # user units across; the page scales the picture to its width
PLOT_TOP, PLOT_BOTTOM = 100.0, 400.0  # the plot area's 100% and 0% lines, under the legend


def chart_svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (empty when there is nothing to draw)."""
    if chart.data.height == 0:
        return ""
    return _line(chart) if chart.kind == "line" else _columns(chart)


def _frame(chart: Chart, height: int, plot: tuple[float, float, float, float]) -> list[str]:
    """The picture's opening, title, legend and the percentage grid of the plot area
    ``(left, top, right, bottom)``."""
    left, top, right, bottom = plot
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="{FONT}" class="chart" role="img">',
        f"<title>{escape(chart.title)}</title>",
        f'<text x="{WIDTH / 2}" y="24" font-size="18" font-weight="bold" '
        f'text-anchor="middle">{escape(chart.title)}</text>',
    ]
    series = chart.data.columns[1:]
    x = WIDTH / 2 - 55 * len(series)
    for i, name in enumerate(series):
        out.append(
            f'<rect x="{x + 110 * i}" y="38" width="14" height="14" fill="{COLOURS[i]}"/>'
            f'<text x="{x + 110 * i + 20}" y="50" font-size="14">{escape(name)}</text>'
        )
    for tick in range(0, 101, 20):
        y = bottom - (bottom - top) * tick / 100
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#d9d9d9"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="#52606d">{tick}%</text>'
        )
    out.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#52606d"/>')
    return out


def _columns(chart: Chart) -> str:
    """Clustered columns, one cluster per category, the category names slanted under them."""
    data = chart.data
    longest = 12 * max(len(str(c)) for c in data[data.columns[0]].to_list())  # 12-unit glyphs
    slanted = data.height > 6
    label_room = min(longest * 0.72 + 16, 200) if slanted else 28
    height = int(PLOT_BOTTOM + 10 + label_room)
    right, top, bottom = WIDTH - 12.0, PLOT_TOP, PLOT_BOTTOM
    # A slanted name reaches left of its column by ~0.71 of its length: room for the first.
    left = 56.0
    if slanted:
        left = max(left, 0.71 * min(longest, 280) + 8 - (right - left) / data.height / 2)
    out = _frame(chart, height, (left, top, right, bottom))
    step = (right - left) / data.height
    bar = step * 0.8 / (data.width - 1)
    for i, row in enumerate(data.iter_rows()):
        category, *values = row
        x0 = left + step * i + step * 0.1
        for j, value in enumerate(values):
            if value is None:
                continue
            h = (bottom - top) * value
            out.append(
                f'<rect x="{x0 + bar * j:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{COLOURS[j]}"/>'
            )
        cx = left + step * (i + 0.5)
        if slanted:
            out.append(
                f'<text x="{cx:.1f}" y="{bottom + 14}" font-size="12" text-anchor="end" '
                f'transform="rotate(-45 {cx:.1f} {bottom + 14})">{escape(str(category))}</text>'
            )
        else:
            out.append(
                f'<text x="{cx:.1f}" y="{bottom + 18}" font-size="12" '
                f'text-anchor="middle">{escape(str(category))}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def _line(chart: Chart) -> str:
    """One line per series over the categories, a marker and the value at every point; a null
    breaks the line.  The values are placed by :func:`_value_labels`, so close values (one month,
    95.9% and 95.7%) never print over each other."""
    data = chart.data
    height = int(PLOT_BOTTOM) + 40
    left, top, right, bottom = 56.0, PLOT_TOP, WIDTH - 30.0, PLOT_BOTTOM
    out = _frame(chart, height, (left, top, right, bottom))
    step = (right - left) / data.height
    xs = [left + step * (i + 0.5) for i in range(data.height)]
    for x, category in zip(xs, data[data.columns[0]].to_list(), strict=True):
        out.append(
            f'<text x="{x:.1f}" y="{bottom + 20}" font-size="13" '
            f'text-anchor="middle">{escape(str(category))}</text>'
        )
    series = [data[name].to_list() for name in data.columns[1:]]
    for j, values in enumerate(series):
        points = [
            (x, bottom - (bottom - top) * v) if v is not None else None
            for x, v in zip(xs, values, strict=True)
        ]
        run: list[tuple[float, float]] = []
        for p in [*points, None]:
            if p is not None:
                run.append(p)
                continue
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                out.append(
                    f'<polyline points="{path}" fill="none" stroke="{COLOURS[j]}" '
                    f'stroke-width="2.5"/>'
                )
            run = []
        for p in points:
            if p is not None:
                out.append(f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="4.5" fill="{COLOURS[j]}"/>')
    for label in _value_labels(xs, series, (top, bottom)):
        out.append(
            f'<text x="{label.x:.1f}" y="{label.y:.1f}" font-size="{LABEL_SIZE}" '
            f'text-anchor="{label.anchor}" fill="{COLOURS[label.series]}">{label.text}</text>'
        )
    out.append("</svg>")
    return "".join(out)


# A value label: 12 units high, a line of it 1.5 times that (the CJK font's ascent and descent
# with room between), its width estimated generously (digits and the point are narrower).
LABEL_SIZE = 12
LABEL_LINE = 1.5 * LABEL_SIZE
LABEL_CHAR = 0.62 * LABEL_SIZE
LABEL_GAP = 6.0  # between the label columns of neighbouring months
LABEL_TOP = 52 + LABEL_SIZE + 6  # the highest baseline: under the legend


@dataclass(frozen=True)
class Label:
    """A value where it prints: placed for all series at once, since a label's place depends on
    its neighbours'."""

    text: str
    series: int
    x: float
    y: float  # the baseline
    anchor: str  # "start" (right of the point) or "end" (left of it, at the right edge)


def _value_labels(
    xs: list[float], series: list[list[float | None]], plot: tuple[float, float]
) -> list[Label]:
    """The values to print at the points, placed so that no two overlap.

    At one month the values of all series stand one above the other: they are sorted by height
    and pushed apart to a line each, close to their points (two rates 0.2% apart are one line
    apart, in their order).  Months whose labels would run into a neighbour's are left without
    labels, counted back from the last, so the bulletin's own month is always labelled (the
    table above the chart has every value).  A label that would leave the picture at the right
    goes left of its point."""
    top, bottom = plot
    widths = [
        LABEL_CHAR * max((len(pct(v)) for v in column if v is not None), default=0)
        for column in zip(*series, strict=True)
    ]
    columns: list[tuple[int, float, float]] = []  # month, left and right of its labels
    for i in reversed(range(len(xs))):
        if widths[i] == 0:
            continue
        start = xs[i] + 7 if xs[i] + 7 + widths[i] <= WIDTH - 2 else xs[i] - 7 - widths[i]
        if columns and start + widths[i] + LABEL_GAP > columns[-1][1]:
            continue  # would touch the labels of the month after it
        columns.append((i, start, start + widths[i]))
    out = []
    for i, start, _ in columns:
        wanted = sorted(
            (bottom - (bottom - top) * column[i] - 7, j)
            for j, column in enumerate(series)
            if column[i] is not None
        )
        ys = _spread([y for y, _ in wanted], LABEL_TOP, bottom - 4)
        anchor, x = ("start", start) if start > xs[i] else ("end", start + widths[i])
        out += [
            Label(pct(series[j][i]), j, x, y, anchor) for y, (_, j) in zip(ys, wanted, strict=True)
        ]
    return out


def _spread(wanted: list[float], highest: float, lowest: float) -> list[float]:
    """Baselines as near the ``wanted`` ones (sorted, top first) as they can be with a line of
    :data:`LABEL_LINE` between neighbours, none above ``highest`` or below ``lowest``."""
    ys = [max(wanted[0], highest)] if wanted else []
    for y in wanted[1:]:
        ys.append(max(y, ys[-1] + LABEL_LINE))
    for k in reversed(range(len(ys))):  # pushed below the plot: move the stack up
        limit = lowest if k == len(ys) - 1 else ys[k + 1] - LABEL_LINE
        ys[k] = min(ys[k], limit)
    return ys
