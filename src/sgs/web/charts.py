"""The month page's chart: each unit's three rates as inline SVG bars.

Inline SVG because the page has no scripts, no images and no static route (the
Content-Security-Policy allows nothing but inline styles): the chart is markup drawn here.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from sgs.labels import RATE_NAMES, pct

# One colour per rate, in the order of :data:`sgs.labels.RATE_NAMES`.
RATE_COLOURS = {
    "timeliness_rate": "#2563eb",
    "compliance_rate": "#16a34a",
    "completeness_rate": "#ea580c",
}


def rates_chart(rows: list[dict]) -> Markup:
    """Three horizontal bars per unit as inline SVG: readable without scripts or images.

    ``rows`` carry ``name`` and the rates under their codes.  Only units with at least one
    applicable rate are drawn; a missing rate is written "—".
    """
    series = [(key, label, RATE_COLOURS[key]) for key, label in RATE_NAMES.items()]
    shown = [r for r in rows if any(r[key] is not None for key, _, _ in series)]
    if not shown:
        return Markup("")
    label_w, bar_w, bar_h, gap, top = 260, 600, 10, 14, 46
    block = 3 * bar_h + gap
    width, height = label_w + bar_w + 70, top + block * len(shown) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title">',
        f'<title id="chart-title">各单位{"、".join(RATE_NAMES.values())}</title>',
    ]
    for i, (_, label, colour) in enumerate(series):
        x = label_w + i * 110
        out.append(f'<rect x="{x}" y="4" width="14" height="14" fill="{colour}"/>')
        out.append(f'<text x="{x + 20}" y="16" font-size="13">{label}</text>')
    for tick in range(0, 101, 25):
        x = label_w + bar_w * tick / 100
        out.append(
            f'<line x1="{x}" y1="{top - 6}" x2="{x}" y2="{height - 4}" stroke="#d9e2ec"/>'
            f'<text x="{x}" y="{top - 10}" font-size="11" text-anchor="middle" '
            f'fill="#52606d">{tick}%</text>'
        )
    for i, row in enumerate(shown):
        y = top + i * block
        out.append(
            f'<text x="{label_w - 8}" y="{y + 1.5 * bar_h + 4}" font-size="13" '
            f'text-anchor="end">{escape(row["name"])}</text>'
        )
        for j, (key, label, colour) in enumerate(series):
            value, by = row[key], y + j * bar_h
            w = 0.0 if value is None else bar_w * value
            if value is not None:
                out.append(
                    f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 1}" '
                    f'fill="{colour}"><title>{label} {pct(value)}</title></rect>'
                )
            out.append(
                f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 1}" font-size="10" '
                f'fill="#3e4c59">{pct(value)}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))
