"""Writing the workbooks people open: one table per sheet, a title, the generation time, a frozen
header, widths fitted to Chinese text as shown (a rate as 66.7 %) and, where asked, native Excel
charts.  Every sheet prints as the office circulates it: A4, landscape when the table is wider
than a portrait page, one page across, the header repeated on every page, a footer with the
sheet's name and 第 P 页 共 N 页; the print area is the table and the charts under it.

Formula-like text — a cell beginning with ``=``, ``+``, ``-`` or ``@`` — must never run in a
spreadsheet.  The two outputs neutralise it differently, because they can:

- **XLSX**: every text cell is a string cell (never ``write()``, which guesses formulas), and a
  formula-like one also carries Excel's *quote prefix* (the style flag an apostrophe typed in
  front of a value sets).  The value stays exactly as the unit wrote it, no apostrophe shows,
  and Excel, WPS and LibreOffice keep it as text even when someone edits the cell and presses
  Enter.  Read back with openpyxl: ``data_type == "s"`` and ``quotePrefix`` is true.
- **CSV** has no cell types, so :func:`neutralised` prefixes an apostrophe (OWASP's advice):
  a spreadsheet shows it, but does not run the text.

Callers mask personal ID numbers before they get here.

A workbook may open with a **cover** (:class:`Cover`): a title, the facts a reader needs before
the tables (month, generation time, …), what each sheet holds and how to read it.  It is the
first sheet and the one the workbook opens on, and it prints on one A4 page (portrait, fitted
to one page each way, row heights set from the text so nothing is cut or squeezed unreadably).

Charts draw from their own small data blocks on the hidden sheet 图表数据, not from the table
itself: a table shows "—" for a rate that is not applicable, and Excel plots a text cell as 0 —
in the block that value is an empty cell, which a chart leaves as a gap; and a reader who sorts
a table cannot misalign a chart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar

import polars as pl

from sgs.clock import office_now
from sgs.labels import NOT_APPLICABLE
from sgs.report.masking import neutralise_formula

FORMULA_START = ("=", "+", "-", "@")
PERCENT_FORMAT = "0.0%"


@dataclass
class Column:
    source: str
    header: str
    width: float = 14
    kind: str = "text"  # text | int | percent | number | date
    null: str | None = None  # shown (centred) for a null; percent columns show "—" regardless


@dataclass
class Chart:
    """A native chart of ``data``: its first column the categories, each other one a series of
    fractions (shown as percentages); null is a gap, never 0.  ``kind`` is ``column`` (clustered
    bars) or ``line``.  The chart sits under its sheet's table, inside the print area; its data
    is on the workbook's hidden sheet 图表数据, so sorting the table never misaligns it."""

    kind: str
    title: str
    data: pl.DataFrame
    y_title: str = ""


@dataclass
class Sheet:
    name: str
    title: str
    frame: pl.DataFrame
    columns: list[Column]
    notes: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    # For long lists: the PDF shows at most n rows per value of the column and counts the rest
    # (see :mod:`sgs.report.pdf`); the workbook always lists every row.
    print_cap: tuple[str, int] | None = None


@dataclass
class Cover:
    """The first sheet (and the PDF's first page): a title, facts as label and value, what each
    part holds (name and description) and numbered notes on how to read it."""

    name: str
    title: str
    facts: list[tuple[str, str]]
    guide: list[tuple[str, str]]
    notes: list[str]
    guide_heading: str = "通报内容"
    notes_heading: str = "阅读说明"


HEADER_ROW = 3  # 0-based: title, generation time and notes, a blank row, then the header
A4 = 9  # xlsxwriter's paper code
# What fits across an A4 page in portrait, in Excel's column-width units (about 7 pixels each;
# 6.3 inches between the default margins at 96 dpi): a wider table prints in landscape.
PORTRAIT_WIDTH = 86
FOOTER = "&L&A&R第 &P 页 共 &N 页"  # the sheet's name; page P of N
CHART_HEIGHT = 380  # pixels
CHART_ROWS = CHART_HEIGHT // 20 + 1  # default rows are 20 pixels high
CHART_DATA = "图表数据"  # the hidden sheet every chart reads


def _display_width(text: str) -> float:
    """Excel column width of a string: CJK characters are about two Latin characters wide."""
    return sum(2.1 if ord(c) > 0x2E80 else 1.1 for c in text)


def fitted_widths(sheet: Sheet) -> list[float]:
    """The column widths of ``sheet``'s table as the workbook sets them (Excel units)."""
    return [_fitted(col, sheet.frame[col.source]) for col in sheet.columns]


def is_wide(widths: list[float]) -> bool:
    """Whether a table of these widths prints in landscape (wider than a portrait A4 page)."""
    return sum(widths) > PORTRAIT_WIDTH


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns with formula-like values prefixed by an apostrophe (for CSV output)."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(neutralise_formula(pl.col(c)).alias(c) for c in text)


class _Formats:
    """The workbook's cell formats, each also in a quote-prefixed variant for formula-like text."""

    PROPS: ClassVar[dict[str, dict]] = {
        "title": {"bold": True, "font_size": 14},
        "note": {"font_color": "#555555"},
        "header": {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                   "valign": "top"},
        "text": {"valign": "top"},
        "int": {"num_format": "0"},
        "number": {"num_format": "0.00"},
        "percent": {"num_format": PERCENT_FORMAT, "align": "right"},
        "date": {"num_format": "yyyy-mm-dd"},
        "na": {"align": "center"},
        "cover_title": {"bold": True, "font_size": 20, "align": "center", "valign": "vcenter"},
        "cover_heading": {"bold": True, "font_size": 13, "bottom": 1, "valign": "bottom"},
        "cover_label": {"bold": True, "valign": "top"},
        "cover_text": {"text_wrap": True, "valign": "top"},
    }  # fmt: skip

    def __init__(self, book) -> None:
        self.book = book
        self._cache: dict[tuple[str, bool], object] = {}

    def __call__(self, name: str, quoted: bool = False):
        key = (name, quoted)
        if key not in self._cache:
            props = dict(self.PROPS[name])
            if quoted:
                props["quote_prefix"] = True
            self._cache[key] = self.book.add_format(props)
        return self._cache[key]


def write_text(ws, i: int, j: int, text: str, fmt: _Formats, style: str = "text") -> None:
    """A string cell; formula-like text gets the quote prefix (see the module docstring)."""
    ws.write_string(i, j, text, fmt(style, text.startswith(FORMULA_START)))


def write_workbook(
    path: str | Path,
    sheets: list[Sheet],
    generated: datetime | None = None,
    cover: Cover | None = None,
) -> Path:
    """Write ``sheets`` to an XLSX file, after ``cover`` if given; the header row of each table
    is frozen.  The workbook opens on its first sheet."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = generated or office_now()
    book = xlsxwriter.Workbook(
        str(path),
        {"constant_memory": False, "strings_to_formulas": False, "strings_to_numbers": False},
    )
    fmt = _Formats(book)
    if cover is not None:
        _write_cover(book.add_worksheet(cover.name[:31]), cover, fmt)
    charts: list[tuple[object, Chart, int, int]] = []  # worksheet, chart, its row, table pixels
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])
        write_text(ws, 0, 0, sheet.title, fmt, "title")
        stamp = f"生成时间：{generated:%Y-%m-%d %H:%M}"
        write_text(ws, 1, 0, "；".join([stamp, *sheet.notes]), fmt, "note")
        frame = sheet.frame.select([c.source for c in sheet.columns])
        widths = fitted_widths(sheet)
        for j, (col, width) in enumerate(zip(sheet.columns, widths, strict=True)):
            write_text(ws, HEADER_ROW, j, col.header, fmt, "header")
            ws.set_column(j, j, width)
        _print_setup(ws, sum(widths))
        for i, row in enumerate(frame.iter_rows(), start=HEADER_ROW + 1):
            for j, (col, value) in enumerate(zip(sheet.columns, row, strict=True)):
                _write_cell(ws, i, j, value, col, fmt)
        ws.freeze_panes(HEADER_ROW + 1, 0)
        if frame.height:
            ws.autofilter(HEADER_ROW, 0, HEADER_ROW + frame.height, len(sheet.columns) - 1)
        drawn = [c for c in sheet.charts if c.data.height]
        table_px = int(sum(widths) * 7 + 5 * len(widths))
        first = HEADER_ROW + frame.height + 2  # a blank row under the table, then the charts
        charts += [(ws, c, first + k * (CHART_ROWS + 1), table_px) for k, c in enumerate(drawn)]
        # The table and the charts under it are what prints.
        last_row = HEADER_ROW + frame.height + (1 + len(drawn) * (CHART_ROWS + 1) if drawn else 0)
        ws.print_area(0, 0, last_row, len(sheet.columns) - 1)
    if charts:
        _write_charts(book, charts, fmt)
    book.close()
    return path


COVER_WIDTHS = (14, 70)  # label and text columns: within a portrait page across
COVER_LINE = 16  # points per line of 11-point text


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a cell ``width`` Excel units wide."""
    return max(1, -(-int(_display_width(text) + 1) // int(width - 1)))


def _write_cover(ws, cover: Cover, fmt: _Formats) -> None:
    """The cover: title, facts, what each sheet holds, how to read it — on one portrait page.

    Wrapped text in merged cells does not grow its row in Excel, so every row's height is set
    from its text; the sum stays inside one A4 page, which the fit-to-page setting then only
    has to confirm, never shrink."""
    label_w, text_w = COVER_WIDTHS
    ws.set_column(0, 0, label_w)
    ws.set_column(1, 1, text_w)
    ws.hide_gridlines(2)

    def across(row: int, text: str, style: str, height: float) -> None:
        ws.set_row(row, height)
        ws.merge_range(row, 0, row, 1, "", fmt(style))
        write_text(ws, row, 0, text, fmt, style)

    def pair(row: int, label: str, text: str) -> None:
        write_text(ws, row, 0, label, fmt, "cover_label")
        write_text(ws, row, 1, text, fmt, "cover_text")
        ws.set_row(row, COVER_LINE * _lines(text, text_w) + 2)

    across(0, cover.title, "cover_title", 48)
    row = 2
    for label, value in cover.facts:
        pair(row, label, value)
        row += 1
    across(row + 1, cover.guide_heading, "cover_heading", 24)
    row += 2
    for name, what in cover.guide:
        pair(row, name, what)
        row += 1
    across(row + 1, cover.notes_heading, "cover_heading", 24)
    row += 2
    for i, note in enumerate(cover.notes, start=1):
        text = f"{i}. {note}"
        across(row, text, "cover_text", COVER_LINE * _lines(text, label_w + text_w) + 2)
        row += 1
    ws.set_paper(A4)
    ws.set_portrait()
    ws.fit_to_pages(1, 1)
    ws.set_footer(FOOTER)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)
    ws.print_area(0, 0, row - 1, 1)


def _print_setup(ws, width: float) -> None:
    """Print as the office circulates it: A4, landscape when the table is wider than a portrait
    page, fitted to one page across (as many down as it takes), the table's header repeated on
    every page, and a footer with the sheet's name and 第 P 页 共 N 页."""
    ws.set_paper(A4)
    if is_wide([width]):
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    ws.set_footer(FOOTER)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.7)


def _shown(col: Column, values: pl.Series) -> list[str]:
    """The first values as a reader sees them (a rate as 66.7 %, not 0.6666…)."""
    sample = values.head(200).drop_nulls()
    numeric = sample.dtype.is_numeric()  # a column of text keeps its text, whatever its kind
    if col.kind == "percent" and numeric:
        return [f"{v * 100:.1f}%" for v in sample.cast(pl.Float64).to_list()]
    if col.kind == "number" and numeric:
        return [f"{v:.2f}" for v in sample.cast(pl.Float64).to_list()]
    if col.kind == "date" and sample.dtype == pl.Date:
        return ["yyyy-mm-dd"] if sample.len() else []  # every date shows 10 characters
    return sample.cast(pl.String).to_list()


def _fitted(col: Column, values: pl.Series) -> float:
    """A width that shows the header and the widest of the first values as shown, within reason."""
    widest = max([_display_width(col.header), *(_display_width(v) for v in _shown(col, values))])
    if values.null_count() and (col.null or col.kind == "percent"):
        widest = max(widest, _display_width(col.null or NOT_APPLICABLE))
    return min(max(col.width, widest + 1), 60)


def _write_cell(ws, i: int, j: int, value: object, col: Column, fmt: _Formats) -> None:
    if value is None:
        if col.null is not None or col.kind == "percent":
            write_text(ws, i, j, col.null or NOT_APPLICABLE, fmt, "na")
        return
    if col.kind in ("int", "number", "percent") and isinstance(value, int | float):
        ws.write_number(i, j, value, fmt(col.kind))
    elif col.kind == "date" and isinstance(value, date):
        ws.write_datetime(i, j, datetime(value.year, value.month, value.day), fmt("date"))
    else:
        write_text(ws, i, j, str(value), fmt)


def _write_charts(book, charts: list[tuple[object, Chart, int, int]], fmt: _Formats) -> None:
    """Every chart's data block, one under the other, on the hidden sheet 图表数据; each chart
    under its table (a blank row apart, one chart under the other), no wider than the table."""
    data_ws = book.add_worksheet(CHART_DATA)
    data_ws.hide()
    top = 0
    widths: dict[int, float] = {}
    for ws, chart, at, table_px in charts:
        data = chart.data
        write_text(data_ws, top, 0, f"{ws.get_name()}：{chart.title}（不适用为空白，图中不画）",
                   fmt, "note")  # fmt: skip
        for j, name in enumerate(data.columns):
            write_text(data_ws, top + 1, j, name, fmt, "header")
            kind = "text" if j == 0 else "percent"
            widths[j] = max(widths.get(j, 0), _fitted(Column(name, name, 10, kind), data[name]))
            data_ws.set_column(j, j, widths[j])
        for i, row in enumerate(data.iter_rows(), start=top + 2):
            category, *values = row
            write_text(data_ws, i, 0, str(category), fmt)
            for j, value in enumerate(values, start=1):
                if value is not None:
                    data_ws.write_number(i, j, value, fmt("percent"))
        ws.insert_chart(at, 0, _chart(book, chart, top + 1, table_px))
        top += data.height + 3


def _chart(book, spec: Chart, header: int, max_width: int):
    """The xlsxwriter chart whose series read the data block with its header on row ``header``
    of the sheet 图表数据."""
    chart = book.add_chart({"type": spec.kind})
    first, last = header + 1, header + spec.data.height
    for j in range(1, spec.data.width):
        series = {
            "name": [CHART_DATA, header, j],
            "categories": [CHART_DATA, first, 0, last, 0],
            "values": [CHART_DATA, first, j, last, j],
        }
        if spec.kind == "line":
            series["marker"] = {"type": "circle", "size": 6}
        chart.add_series(series)
    chart.set_title({"name": spec.title, "name_font": {"size": 12}})
    y_axis = {"min": 0, "max": 1, "num_format": "0%",
              "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}}  # fmt: skip
    if spec.y_title:
        y_axis["name"] = spec.y_title
    chart.set_y_axis(y_axis)
    if spec.kind == "column" and spec.data.height > 6:
        chart.set_x_axis({"num_font": {"rotation": -45}})
    chart.set_legend({"position": "bottom"})
    chart.show_blanks_as("gap")
    width = 640 if spec.kind == "line" else min(max(640, 70 * spec.data.height), 2000)
    width = min(width, max(max_width, 480))  # it prints with the table: no wider than it
    chart.set_size({"width": width, "height": CHART_HEIGHT})
    return chart
