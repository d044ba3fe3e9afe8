"""A table found in a grid of cells: the header row, a two-level header, the cells below it.

Shared by the CSV and the workbook readers and by uploads and ledgers: a *scorer* says how much
a row looks like the header wanted (catalogue headers of either kind, or ledger headers); the
header is the best row among the first non-empty ones.  A header written on two levels (merged
group cells such as 行政相对人代码 or 法定代表人 above their sub-headers) is read as one: the
row below is a sub-header when combining it with the row above names more known columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused

#: The column of every row's number as the unit's spreadsheet shows it, kept from reading on.
ROW = "__row"
HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 3

Scorer = Callable[[list[object]], int]
Row = dict[int, str]  # 0-based column -> text of the non-empty cells of one row


@dataclass
class Table:
    """A grid of text cells below a header, with the spreadsheet row of every body row."""

    header: list[str | None]
    body: pl.DataFrame  # column ``c{i}`` holds the cells below header[i]
    header_row: int  # 1-based, as the spreadsheet shows it (the first of two header rows)
    first_data_row: int
    sheet: str | None = None
    encoding: str | None = None
    rows: pl.Series | None = None  # spreadsheet row of each body row; None: consecutive
    positions: list[int] | None = None  # 0-based spreadsheet column of each body column
    blank_rows: int = 0  # empty rows below the header that are not in ``body`` at all
    hidden: bool = False
    score: int = 0

    def row_numbers(self) -> pl.Series:
        if self.rows is not None:
            return self.rows.cast(pl.Int64)
        start = self.first_data_row
        return pl.int_range(start, start + self.body.height, dtype=pl.Int64, eager=True)

    def position(self, i: int) -> int:
        return self.positions[i] if self.positions is not None else i


@dataclass
class SheetScan:
    """One sheet of a workbook (or the one table of a CSV) as found, before choosing."""

    name: str | None
    hidden: bool = False
    table: Table | None = None
    rows: int = 0  # non-empty rows: below the header when there is one, else all of them
    chart: bool = False
    kind: str | None = None  # set by the upload reader: the record kind its header shows
    extra: dict = field(default_factory=dict)


def no_header(path: Path) -> FileRefused:
    return FileRefused(
        "no_header",
        f"未能在文件「{path.name}」的前 {HEADER_SCAN_ROWS} 行中找到表头："
        "请使用标准模板的列名（如「行政相对人名称」或 XK_XDR_MC）。",
    )


def is_blank(text: object) -> bool:
    return text is None or (isinstance(text, str) and not text.strip())


def _values(row: Row) -> list[object]:
    return list(row.values())


def combine_header(top: Row, sub: Row, score: Scorer) -> Row:
    """A two-level header as one row: each sub-header joined to its group where that names a
    known column (法定代表人 + 证件类型), else the sub-header alone where it is known, else the
    upper cell."""
    out: Row = {}
    parent = None
    for i in sorted(set(top) | set(sub)):
        t = top.get(i)
        s = sub.get(i)
        if t is not None and not is_blank(t):
            parent = t.strip()
        if s is None or is_blank(s):
            if t is not None:
                out[i] = t
            continue
        base = t.strip() if t is not None and not is_blank(t) else parent
        candidates = ([base + s.strip()] if base else []) + [s]
        known = next((c for c in candidates if score([c]) > 0), None)
        out[i] = known or (t if t is not None and not is_blank(t) else s)
    return out


@dataclass
class HeaderFound:
    index: int  # position in the scanned rows of the (first) header row
    header: Row
    score: int
    two_level: bool


def find_header(rows: Sequence[tuple[int, Row]], score: Scorer) -> HeaderFound | None:
    """The best header among the first non-empty rows; ``rows`` are (row number, cells).

    A row directly below the header (the next row number) is taken as a sub-header when the
    combination scores better than the header alone.
    """
    best: HeaderFound | None = None
    for i, (_, row) in enumerate(rows[:HEADER_SCAN_ROWS]):
        found = score(_values(row))
        if found >= MIN_HEADER_MATCHES and (best is None or found > best.score):
            best = HeaderFound(i, row, found, False)
    if best is None:
        return None
    if best.index + 1 < len(rows) and rows[best.index + 1][0] == rows[best.index][0] + 1:
        combined = combine_header(best.header, rows[best.index + 1][1], score)
        combined_score = score(_values(combined))
        if combined_score > best.score:
            return HeaderFound(best.index, combined, combined_score, True)
    return best


# ----------------------------------------------------------------------------- sparse cells


def _in_order(cells: pl.DataFrame) -> bool:
    """Whether every cell comes after the one before it (row, then column), as every writer
    puts them; then the de-duplicating sort, the costliest step for a big sheet, is skipped."""
    key = cells["row"] * (1 << 15) + cells["col"].cast(pl.Int64)  # columns stop at 16,384
    return bool((key.diff().drop_nulls() > 0).all())


def scan_cells(
    cells: pl.DataFrame, score: Scorer, name: str | None, hidden: bool = False
) -> SheetScan:
    """A sheet's sparse cells (row, col 1-based, value) -> its table, if it has a header.

    Rows whose cells are all blank are not rows at all here; they are counted as blank rows
    when they lie between the header and the last non-empty row.  The body holds only the
    rows and the columns that have something in them, whatever range the sheet declares.
    """
    cells = cells.filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
    if cells.is_empty():
        return SheetScan(name, hidden, None, 0)
    if not _in_order(cells):  # a cell written twice, or out of order: the last one counts
        cells = cells.unique(["row", "col"], keep="last", maintain_order=True).sort("row", "col")
    blank = cells["value"].str.strip_chars() == ""
    filled = cells["row"].filter(~blank).unique(maintain_order=True)
    if blank.any() and filled.len() != cells["row"].n_unique():
        cells = cells.filter(pl.col("row").is_in(filled.implode()))
    if cells.is_empty():
        return SheetScan(name, hidden, None, 0)
    head_rows = filled.head(HEADER_SCAN_ROWS + 1).to_list()
    top = cells.filter(pl.col("row") <= head_rows[-1])
    grid: dict[int, Row] = {r: {} for r in head_rows}
    for r, c, v in top.iter_rows():
        grid[r][c - 1] = v
    found = find_header([(r, grid[r]) for r in head_rows], score)
    if found is None:
        return SheetScan(name, hidden, None, filled.len())
    header_row = head_rows[found.index]
    last_header = header_row + (1 if found.two_level else 0)
    below = cells.slice(cells["row"].search_sorted(last_header, side="right"))  # sorted rows
    data_rows = filled.filter(filled > last_header)
    positions = sorted(set(found.header) | set((below["col"] - 1).unique().to_list()))
    index = {p: j for j, p in enumerate(positions)}
    if below.is_empty():
        body = pl.DataFrame({f"c{j}": pl.Series([], dtype=pl.String) for j in index.values()})
        rows = pl.Series("row", [], dtype=pl.Int64)
    else:
        wide = below.pivot(on="col", index="row", values="value", sort_columns=False)
        rows = wide["row"]
        body = _body(wide, index)
    return _scanned(name, hidden, found, header_row, positions, body, rows, data_rows)


def _scanned(
    name: str | None,
    hidden: bool,
    found: HeaderFound,
    header_row: int,
    positions: list[int],
    body: pl.DataFrame,
    rows: pl.Series,
    data_rows: pl.Series,
) -> SheetScan:
    """The scan of a sheet whose header was found: its table below the header, counting the
    blank rows between the header and the last row with data."""
    last_header = header_row + (1 if found.two_level else 0)
    blank = int(data_rows.max() - last_header - data_rows.len()) if data_rows.len() else 0  # type: ignore[operator]
    table = Table(
        header=[found.header.get(p) for p in positions],
        body=body,
        header_row=header_row,
        first_data_row=last_header + 1,
        sheet=name,
        rows=rows,
        positions=positions,
        blank_rows=blank,
        hidden=hidden,
        score=found.score,
    )
    return SheetScan(name, hidden, table, data_rows.len())


def _body(wide: pl.DataFrame, index: dict[int, int]) -> pl.DataFrame:
    """The body columns ``c{j}`` of a wide table (a column per spreadsheet column number)."""
    return wide.select(
        pl.col(str(p + 1)).alias(f"c{j}")
        if str(p + 1) in wide.columns
        else pl.lit(None, dtype=pl.String).alias(f"c{j}")
        for p, j in index.items()
    )


def scan_wide(
    wide: pl.DataFrame, score: Scorer, name: str | None, hidden: bool = False
) -> SheetScan:
    """:func:`scan_cells` for a sheet read straight into its wide table (a big XLSX sheet:
    :func:`sgs.intake.bigsheet.fast_wide`) — ``row``, a column per spreadsheet column number,
    only rows with a non-blank cell, in order: the same header search and the same table."""
    if wide.is_empty():
        return SheetScan(name, hidden, None, 0)
    head = wide.head(HEADER_SCAN_ROWS + 1)
    head_rows = head["row"].to_list()
    grid: dict[int, Row] = {r: {} for r in head_rows}
    for column in sorted(head.columns[1:], key=int):  # cells in column order, as scan_cells
        for r, v in zip(head_rows, head[column].to_list(), strict=True):
            if v is not None:
                grid[r][int(column) - 1] = v
    found = find_header([(r, grid[r]) for r in head_rows], score)
    if found is None:
        return SheetScan(name, hidden, None, wide.height)
    header_row = head_rows[found.index]
    last_header = header_row + (1 if found.two_level else 0)
    below = wide.slice(wide["row"].search_sorted(last_header, side="right"))
    present = {int(c) - 1 for c in below.columns[1:] if below[c].null_count() < below.height}
    positions = sorted(set(found.header) | present)
    index = {p: j for j, p in enumerate(positions)}
    rows = below["row"]
    return _scanned(name, hidden, found, header_row, positions, _body(below, index), rows, rows)
