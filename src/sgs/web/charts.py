"""The month page's chart: each unit's three rates as inline SVG bars.

Inline SVG because the page has no scripts, no images and no static route (the
Content-Security-Policy allows nothing but inline styles): the chart is markup drawn here.

Two drawings of the same bars, one shown by the page's CSS at a time: beside the unit names on a
desk screen, under them on a phone.  Both scale down with their box (``viewBox``, width 100%),
so nothing is cut off; the phone drawing is narrow to begin with, so its text stays legible
when it scales (a scaled-down desk drawing would shrink 13 px names to 5 px).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

from sgs.labels import RATE_NAMES, pct

# One colour per rate, in the order of :data:`sgs.labels.RATE_NAMES`.
RATE_COLOURS = {
    "timeliness_rate": "#2563eb",
    "compliance_rate": "#16a34a",
    "completeness_rate": "#ea580c",
}


@dataclass(frozen=True)
class Layout:
    """Where the names and bars go: bars start at ``x0``; names end just left of it when
    ``beside``, else each name has its own line above its bars."""

    css_class: str
    x0: int
    beside: bool
    bar_w: int
    bar_h: int
    legend_step: int


DESK = Layout("chart-desk", x0=260, beside=True, bar_w=600, bar_h=10, legend_step=110)
PHONE = Layout("chart-phone", x0=14, beside=False, bar_w=290, bar_h=9, legend_step=90)


def rates_chart(rows: list[dict]) -> Markup:
    """The desk and the phone drawing of the rates (empty when nothing can be drawn).

    ``rows`` carry ``name`` and the rates under their codes.  Only units with at least one
    applicable rate are drawn; a missing rate is written "—".
    """
    shown = [r for r in rows if any(r[key] is not None for key in RATE_NAMES)]
    if not shown:
        return Markup("")
    return Markup(_drawing(shown, DESK) + _drawing(shown, PHONE))


def _drawing(shown: list[dict], lay: Layout) -> str:
    series = [(key, label, RATE_COLOURS[key]) for key, label in RATE_NAMES.items()]
    name_h = 0 if lay.beside else 18  # a line for the name above the bars
    block = name_h + 3 * lay.bar_h + 14
    top = 46
    width, height = lay.x0 + lay.bar_w + 60, top + block * len(shown) + 8
    title_id = f"{lay.css_class}-title"
    out = [
        f'<svg class="{lay.css_class}" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{title_id}">',
        f'<title id="{title_id}">各单位{"、".join(RATE_NAMES.values())}</title>',
    ]
    for i, (_, label, colour) in enumerate(series):
        x = lay.x0 + i * lay.legend_step
        out.append(f'<rect x="{x}" y="4" width="14" height="14" fill="{colour}"/>')
        out.append(f'<text x="{x + 20}" y="16" font-size="13">{label}</text>')
    for tick in range(0, 101, 25):
        x = lay.x0 + lay.bar_w * tick / 100
        out.append(
            f'<line x1="{x}" y1="{top - 6}" x2="{x}" y2="{height - 4}" stroke="#d9e2ec"/>'
            f'<text x="{x}" y="{top - 10}" font-size="11" text-anchor="middle" '
            f'fill="#52606d">{tick}%</text>'
        )
    for i, row in enumerate(shown):
        y = top + i * block
        if lay.beside:
            out.append(
                f'<text x="{lay.x0 - 8}" y="{y + 1.5 * lay.bar_h + 4}" font-size="13" '
                f'text-anchor="end">{escape(row["name"])}</text>'
            )
        else:
            out.append(
                f'<text x="{lay.x0}" y="{y + 13}" font-size="13">{escape(row["name"])}</text>'
            )
        for j, (key, label, colour) in enumerate(series):
            value, by = row[key], y + name_h + j * lay.bar_h
            w = 0.0 if value is None else lay.bar_w * value
            if value is not None:
                out.append(
                    f'<rect x="{lay.x0}" y="{by}" width="{w:.1f}" '
                    f'height="{lay.bar_h - 1}" fill="{colour}"><title>{label} {pct(value)}</title></rect>'
                )
            out.append(
                f'<text x="{lay.x0 + w + 4:.1f}" y="{by + lay.bar_h - 1}" font-size="10" '
                f'fill="#3e4c59">{pct(value)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
