"""Sample frames written as units upload them: CSV (UTF-8, GBK…), XLSX or XLS, with or without
a title row.

Kept apart from the generator because writing is a different job with different users: the
tests, the benchmark and ``scripts/make_samples.py`` write frames they built or altered
themselves, and the spreadsheet libraries are imported only when a spreadsheet is written.
Every cell is text, as a clerk's template column formatted as 文本 keeps it.  These writers are
the only per-row Python of the samples: xlsxwriter and xlwt have no bulk API, and their formats
cap a sheet at about a million (XLS: 65 536) rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

from sgs.reference.catalogue import load_catalogue


def write_upload(
    frame: pl.DataFrame,
    path: str | Path,
    *,
    headers: str = "chinese",
    fmt: str | None = None,
    encoding: str = "utf-8",
    title: str | None = None,
) -> Path:
    """Write ``frame`` (columns named by field code) as a unit's upload file.

    ``headers`` "chinese" uses the catalogue's names (unknown columns keep their own), "code"
    the field codes.  ``fmt`` defaults to the suffix (.csv/.xlsx/.xls).  ``encoding`` applies to
    CSV only.  ``title`` adds a title row above the header, as many units' templates have.
    Every cell is written as text, as a clerk's template column formatted as 文本 keeps it.
    """
    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if headers not in ("chinese", "code"):
        raise ValueError("headers must be 'chinese' or 'code'")
    names = _header_names(frame.columns) if headers == "chinese" else list(frame.columns)
    frame = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        _write_csv(frame, names, path, encoding, title)
    elif fmt == "xlsx":
        _write_xlsx(frame, names, path, title)
    elif fmt == "xls":
        _write_xls(frame, names, path, title)
    else:
        raise ValueError(f"unsupported format {fmt!r}: use csv, xlsx or xls")
    return path


def _header_names(codes: Sequence[str]) -> list[str]:
    cat = load_catalogue()
    names = {f.code: f.name for k in cat.kinds.values() for f in k.fields}
    return [names.get(c, c) for c in codes]


def _write_csv(
    frame: pl.DataFrame, names: list[str], path: Path, encoding: str, title: str | None
) -> None:
    if encoding not in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
        raise ValueError(f"unsupported CSV encoding {encoding!r}")
    body = frame.rename(dict(zip(frame.columns, names, strict=True))).write_csv()
    if title is not None:
        # A title cell followed by empty cells, as Excel saves a merged title row.
        title_row = pl.DataFrame({"t": [title]}).write_csv(include_header=False).rstrip("\n")
        body = title_row + "," * (len(names) - 1) + "\n" + body
    path.write_bytes(body.encode(encoding))


def _write_xlsx(frame: pl.DataFrame, names: list[str], path: Path, title: str | None) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # Fixed metadata so the same frame gives the same bytes (committed samples stay stable).
    book.set_properties({"created": datetime(2026, 1, 1), "author": "sgs"})
    sheet = book.add_worksheet("Sheet1")
    text = book.add_format({"num_format": "@"})
    bold = book.add_format({"bold": True, "num_format": "@"})
    sheet.set_column(0, len(names) - 1, 16, text)
    row = 0
    if title is not None:
        sheet.merge_range(0, 0, 0, max(len(names) - 1, 1), title, bold)
        row = 1
    sheet.write_row(row, 0, names, bold)
    # Per-row Python is unavoidable here: xlsxwriter writes cell by cell.
    for values in frame.iter_rows():
        row += 1
        for col, value in enumerate(values):
            if value is not None:
                sheet.write_string(row, col, value, text)
    book.close()


XLS_MAX_ROWS = 65_536


def _write_xls(frame: pl.DataFrame, names: list[str], path: Path, title: str | None) -> None:
    import xlwt

    offset = 2 if title is not None else 1
    if frame.height + offset > XLS_MAX_ROWS:
        raise ValueError(f"XLS holds at most {XLS_MAX_ROWS} rows; use xlsx or csv")
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    text = xlwt.easyxf(num_format_str="@")
    bold = xlwt.easyxf("font: bold on", num_format_str="@")
    if title is not None:
        sheet.write_merge(0, 0, 0, max(len(names) - 1, 1), title, bold)
    for col, name in enumerate(names):
        sheet.write(offset - 1, col, name, bold)
    for i, values in enumerate(frame.iter_rows(), start=offset):
        for col, value in enumerate(values):
            if value is not None:
                sheet.write(i, col, value, text)
    book.save(str(path))
