"""The bulletin as a print-ready PDF: the workbook's cover and sheets (:mod:`sgs.report.xlsx`'s
content model) rendered to HTML and printed by WeasyPrint.

Decisions:

- **WeasyPrint, HTML and CSS**, not an office suite driven headless and not ReportLab: it lays
  out tables that break across pages, repeats their header rows on every page
  (``thead { display: table-header-group }``), numbers pages with CSS margin boxes and embeds
  the subset of Debian's Noto Sans CJK it uses (a CFF font collection, which ReportLab cannot
  embed).  The template and style sheet are ``templates/bulletin.html`` and ``bulletin.css``.
- **Loaded when asked for.**  WeasyPrint needs the system's Pango; it is imported only here, when
  a PDF is written, so nothing else of sgs needs Pango.  When it cannot be loaded,
  :func:`require_renderer` raises :class:`sgs.errors.BulletinError` naming the Debian packages
  to install (``sgs report`` exits 2 with it; the download page shows it) — and WeasyPrint's own
  English hint, which it prints on standard output, is swallowed.
- **The same page as the workbook's print.**  A4; a table wider than a portrait page prints in
  landscape (:func:`sgs.report.xlsx.is_wide`, the workbook's rule, named page ``wide``); the
  cover is one portrait page.  Every page has the sheet's name bottom left and
  「第 P 页 共 N 页」 bottom right (pages counted over the whole document), the bulletin's title
  top right.  Columns are laid out automatically to the page's width: figures, "—", dates and
  short words or codes never wrap, longer text wraps (so a summary of 35 units is one page).
  A column header breaks only between its words, never inside one (:func:`header_lines`).
- **The same values as the workbook shows them**: rates as ``66.7%``, points with two decimals,
  dates ``YYYY-MM-DD``, "—" for not applicable.  ID numbers arrive masked (the bulletin masks
  them before any renderer).  A PDF runs no formulas, so formula-like text is shown exactly as
  the unit wrote it; every value is HTML-escaped, so no text becomes markup.
- **Charts as pictures**: :mod:`sgs.report.svg` draws each chart of a sheet under its table, the
  picture kept on one page.
- **Long lists capped, not cut silently**: a sheet with a ``print_cap`` (column, n) — the
  bulletin's drill-downs — lists at most n rows per value of the column (per unit), then one row
  saying how many more there are and where they are; the sheet's notes give the totals.
- **One PDF at a time per process**: WeasyPrint (Pango and fontconfig through cffi) does not
  promise to be safe in two threads at once, and the download page serves requests in threads,
  so printing takes turns; reading the store and everything else does not wait for it.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import threading
from datetime import date, datetime
from pathlib import Path

from markupsafe import Markup

from sgs.errors import BulletinError
from sgs.labels import NOT_APPLICABLE
from sgs.report.svg import chart_svg
from sgs.report.xlsx import Column, Cover, Sheet, fitted_widths, is_wide

TEMPLATES = Path(__file__).parent / "templates"
NO_PANGO = (
    "无法生成 PDF：缺少 WeasyPrint 所需的系统组件 Pango。请安装 Debian 软件包 "
    "libpango-1.0-0 和 libpangoft2-1.0-0（中文字体另需 fonts-noto-cjk）后重试。"
)
NO_WEASYPRINT = "无法生成 PDF：未安装 Python 软件包 weasyprint，请重新运行 scripts/setup 安装环境。"
NUMERIC = ("int", "number", "percent")


_PRINTING = threading.Lock()
# Where a header's line may break (:func:`header_lines`): after a space, a colon or a comma,
# before a bracket; and the number of a numbered item (``1.目录编制``), a line of its own.
_HEADER_BREAK = re.compile(r"(?<=\s)(?=\S)|(?<=[:：、，,；;])(?=\S)|(?<=\S)(?=[（(])")
_ITEM_NUMBER = re.compile(r"^[0-9]+[.．](?=\S)")


def _weasyprint():
    """The weasyprint module, or a :class:`BulletinError` saying what the machine lacks."""
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its English install hint
            import weasyprint
    except ImportError as exc:
        raise BulletinError(NO_WEASYPRINT) from exc
    except OSError as exc:  # cffi could not open libpango / libpangoft2
        raise BulletinError(NO_PANGO) from exc
    return weasyprint


def require_renderer() -> None:
    """Fail early, before any work, when this machine cannot write a PDF."""
    _weasyprint()


def write_pdf(path: str | Path, cover: Cover, sheets: list[Sheet], generated: datetime) -> Path:
    """Print ``cover`` and ``sheets`` to an A4 PDF at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(cover, sheets, generated)
    with _PRINTING:
        weasyprint = _weasyprint()
        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # its notes are not the user's
        document = weasyprint.HTML(string=html, base_url=str(TEMPLATES))
        css = weasyprint.CSS(filename=str(TEMPLATES / "bulletin.css"))
        document.write_pdf(path, stylesheets=[css])
    return path


def render_html(cover: Cover, sheets: list[Sheet], generated: datetime) -> str:
    """The document as HTML (what WeasyPrint prints)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    stamp = f"生成时间：{generated:%Y-%m-%d %H:%M}"
    return env.get_template("bulletin.html").render(
        cover=cover, sheets=[_sheet(s, stamp) for s in sheets]
    )


def _sheet(sheet: Sheet, stamp: str) -> dict:
    """What the template needs of one sheet: widths, header, formatted rows, charts."""
    frame = sheet.frame.select([c.source for c in sheet.columns])
    rows = [
        {"cells": [_cell(v, c) for v, c in zip(row, sheet.columns, strict=True)]}
        for row in frame.iter_rows()
    ]
    notes = list(sheet.notes)
    if sheet.print_cap is not None:
        rows, left_out = _capped(rows, frame[sheet.print_cap[0]].to_list(), sheet)
        if left_out:
            notes.append(
                f"共 {frame.height} 条，本文件每个单位最多列出 {sheet.print_cap[1]} 条"
                f"（{left_out} 条未列出）；完整清单见月通报工作簿（XLSX）「{sheet.name}」表"
            )
    return {
        "name": sheet.name,
        "title": sheet.title,
        "notes": "；".join([stamp, *notes]),
        "wide": is_wide(fitted_widths(sheet)),
        "columns": [
            {"lines": header_lines(c.header), "numeric": c.kind in NUMERIC} for c in sheet.columns
        ],
        "rows": rows,
        "charts": [Markup(chart_svg(c)) for c in sheet.charts if c.data.height],
    }


def _cell(value: object, col: Column) -> tuple[str, str]:
    """A value as the workbook shows it, and its cell's class (alignment)."""
    if value is None:
        if col.null is not None or col.kind == "percent":
            return col.null or NOT_APPLICABLE, "na"
        return "", ""
    if col.kind in NUMERIC and isinstance(value, int | float) and not isinstance(value, bool):
        if col.kind == "percent":
            return f"{value:.1%}", "num"
        if col.kind == "number":
            return f"{value:.2f}", "num"
        return f"{value:.0f}", "num"
    if col.kind == "date" and isinstance(value, date):
        return value.isoformat(), "date"
    text = str(value)
    return text, "word" if _one_word(text) else ""


def header_lines(header: str) -> list[list[str]]:
    """A column header as the lines it always has, each cut into the words it may break between.

    A Chinese header has no spaces, so the renderer would break it between any two characters
    (排/名, 上报条/数, 及时/率); the template sets each word unbreakable instead.  A line may
    break after a space, a colon or a comma and before a bracket (``问题`` ``（字段：`` ``规则）``).
    A numbered item's number is a line of its own (``1.`` over ``目录编制``): the column is then
    only as wide as the name and the figures under it, and the page's width goes to the columns
    whose text wraps (the units' names), not to ten headers held on one line.
    """
    number = _ITEM_NUMBER.match(header)
    head = [[number.group()]] if number else []
    rest = header[number.end() :] if number else header
    return [*head, [w for w in _HEADER_BREAK.split(rest) if w]]


def _one_word(text: str) -> bool:
    """Text that reads badly broken — a short word (分组 市直部门, 类别 行政许可) or a code (a
    credit code, a file's ASCII name) — and is short enough never to need breaking."""
    return len(text) <= 6 or (text.isascii() and " " not in text and len(text) <= 24)


def _capped(rows: list[dict], keys: list, sheet: Sheet) -> tuple[list[dict], int]:
    """At most ``sheet.print_cap[1]`` rows per key (in the order the keys first appear), each
    group followed by a row counting the ones left out; and the number left out in all."""
    cap = sheet.print_cap[1] if sheet.print_cap else len(rows)
    groups: dict[object, list[dict]] = {}
    for key, row in zip(keys, rows, strict=True):
        groups.setdefault(key, []).append(row)
    out: list[dict] = []
    left_out = 0
    for key, members in groups.items():
        out += members[:cap]
        if len(members) > cap:
            more = len(members) - cap
            left_out += more
            out.append(
                {"more": f"{key}：另有 {more} 条未列出，见月通报工作簿（XLSX）「{sheet.name}」表"}
            )
    return out, left_out
