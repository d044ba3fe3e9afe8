"""A ledger's sheets read: its header found among title rows, its columns mapped, its rows
kept with their spreadsheet row and sheet — and whether a file's header is a ledger's at all.

Checking the rows is the validate stage's (:mod:`sgs.validate.ledger`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused
from sgs.intake.readers import SheetInfo, read_tables, sniff_format, upload_scorer
from sgs.intake.sheets import ROW, Scorer, Table
from sgs.reference.catalogue import ledger_header_map, load_catalogue, normalise_header

#: The column of every ledger row's sheet (null for a CSV).
SHEET = "__sheet"


@dataclass
class LedgerSheets:
    raw: pl.DataFrame  # __row, __sheet + ledger field codes, as written
    blank_rows: int
    sheets: list[SheetInfo]


def ledger_scorer() -> Scorer:
    """How much a row looks like a ledger's header; the ledger headers are looked up once per
    file, not once per row or cell scored (see :func:`sgs.intake.readers.upload_scorer`)."""
    known = frozenset(ledger_header_map())

    def score(cells: list[object]) -> int:
        keys = {normalise_header(c) for c in cells if c not in (None, "")}
        return len(keys & known)

    return score


def _rows(table: Table, path: Path) -> tuple[pl.DataFrame, int]:
    """One sheet's ledger rows (``__row``, ``__sheet``, field codes as written); blank rows."""
    mapping = ledger_header_map()
    rename = {}
    for i, text in enumerate(table.header):
        code = mapping.get(normalise_header(text))
        if code and code not in rename.values():
            rename[f"c{i}"] = code
    fields = load_catalogue().ledger_fields
    missing = [f for f in fields if f.required == "always" and f.code not in rename.values()]
    if missing:
        names = "、".join(f.name for f in missing)
        where = f"的工作表「{table.sheet}」" if table.sheet else ""
        raise FileRefused("missing_columns", f"台账「{path.name}」{where}缺少必需的列：{names}。")
    body = table.body.with_columns(
        table.row_numbers().alias(ROW), pl.lit(table.sheet, dtype=pl.String).alias(SHEET)
    )
    filled = pl.any_horizontal(
        pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "") for c in rename
    )
    kept = body.filter(filled)
    raw = kept.select(
        pl.col(ROW), pl.col(SHEET), *(pl.col(src).alias(dst) for src, dst in rename.items())
    )
    raw = raw.with_columns(
        pl.lit(None, dtype=pl.String).alias(f.code) for f in fields if f.code not in raw.columns
    )
    return raw, table.blank_rows + body.height - kept.height


def read_ledger_sheets(path: Path) -> LedgerSheets:
    """Every visible sheet of ``path`` whose header is a ledger's, as for uploads;
    :class:`FileRefused` when it cannot be a ledger."""
    tables, sheets = read_tables(path, sniff_format(path), ledger_scorer())
    fields = load_catalogue().ledger_fields
    parts = [_rows(t, path) for t in tables]
    raw = pl.concat([p for p, _ in parts]).select(ROW, SHEET, *(f.code for f in fields))
    read = iter(parts)
    for info in sheets:
        if info.read:
            info.rows = next(read)[0].height
    return LedgerSheets(raw, sum(b for _, b in parts), sheets)


def ledger_by_header(path: Path) -> bool:
    """Whether the file's header is a ledger's rather than an upload's: the row among the first
    that best matches either, scored both ways.  A name is no proof (a permit file may be
    called 许可台账.xlsx); :class:`FileRefused` when the file has no recognisable header."""
    ledger, upload = ledger_scorer(), upload_scorer()
    tables, _ = read_tables(path, sniff_format(path), lambda c: max(ledger(c), upload(c)))
    header = tables[0].header
    return ledger(header) > upload(header)
