"""Writing the workbooks people open: one table per sheet, a title, frozen headers, widths.

All text goes through :func:`sgs.privacy.neutralise_formula` and is written as a string, so a
cell never runs as a formula; callers mask personal IDs before they get here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from sgs.privacy import neutralise_formula


@dataclass
class Column:
    source: str
    header: str
    width: float = 14
    kind: str = "text"  # text | int | percent | number | date


@dataclass
class Sheet:
    name: str
    title: str
    frame: pl.DataFrame
    columns: list[Column]
    notes: list[str] = field(default_factory=list)


def _display_width(text: str) -> float:
    """Excel column width of a string: CJK characters are about two Latin characters wide."""
    return sum(2.1 if ord(c) > 0x2E80 else 1.1 for c in text)


def neutralised(frame: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(neutralise_formula(pl.col(c)).alias(c) for c in text)


def write_workbook(
    path: str | Path, sheets: list[Sheet], generated: datetime | None = None
) -> Path:
    """Write ``sheets`` to an XLSX file; the header row of each table is frozen."""
    import xlsxwriter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    generated = generated or datetime.now()
    book = xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_formulas": False})
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "note": book.add_format({"font_color": "#555555"}),
        "header": book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        ),
        "text": book.add_format({"valign": "top"}),
        "int": book.add_format({"num_format": "0"}),
        "number": book.add_format({"num_format": "0.00"}),
        "percent": book.add_format({"num_format": "0.00%", "align": "right"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
    }
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])
        ws.write_string(0, 0, sheet.title, fmt["title"])
        stamp = f"生成时间：{generated:%Y-%m-%d %H:%M}"
        ws.write_string(1, 0, "；".join([stamp, *sheet.notes]), fmt["note"])
        header_row = 3
        frame = neutralised(sheet.frame.select([c.source for c in sheet.columns]))
        for j, col in enumerate(sheet.columns):
            ws.write_string(header_row, j, col.header, fmt["header"])
            sample = frame[col.source].head(200).cast(pl.String).drop_nulls().to_list()
            widest = max([_display_width(col.header), *(_display_width(v) for v in sample)])
            ws.set_column(j, j, min(max(col.width, widest + 1), 60))
        for i, row in enumerate(frame.iter_rows(), start=header_row + 1):
            for j, (col, value) in enumerate(zip(sheet.columns, row, strict=True)):
                _write_cell(ws, i, j, value, col, fmt)
        ws.freeze_panes(header_row + 1, 0)
        if frame.height:
            ws.autofilter(header_row, 0, header_row + frame.height, len(sheet.columns) - 1)
    book.close()
    return path


def _write_cell(ws, i: int, j: int, value: object, col: Column, fmt: dict) -> None:
    if value is None:
        if col.kind == "percent":
            ws.write_string(i, j, "—", fmt["percent"])
        return
    if col.kind in ("int", "number", "percent") and isinstance(value, int | float):
        ws.write_number(i, j, value, fmt[col.kind])
    elif col.kind == "date" and isinstance(value, date):
        ws.write_datetime(i, j, datetime(value.year, value.month, value.day), fmt["date"])
    else:
        ws.write_string(i, j, str(value), fmt["text"])
