"""Reading upload files as units really send them.

CSV (UTF-8 with or without BOM, GBK/GB18030, Big5, UTF-16 from Excel's "Unicode text"), XLSX
and legacy XLS.  The format is detected from the file's bytes and the encoding from its
content, never from the file name.  Title and instruction rows above the header are skipped by
scoring each of the first rows against the catalogue's headers; the record kind and the layout
are recognised from the headers.  Every cell is kept as text, so a credit code or ID number
never passes through a float, and every data row keeps the row number the unit's spreadsheet
shows — and, in a workbook, the sheet it is on.

A workbook is read sheet by sheet: every visible sheet whose header matches is read, and the
file stays one upload; hidden sheets (often stale copies) are read only when no visible sheet
matches.  What was read and what was skipped, and why, is reported per sheet.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused, refusing_the_unexpected
from sgs.intake.limits import read_limits, too_many_columns
from sgs.intake.sheets import (
    HEADER_SCAN_ROWS,
    ROW,
    Scorer,
    SheetScan,
    Table,
    no_header,
    scan_cells,
    scan_wide,
)
from sgs.reference.catalogue import KINDS, Kind, header_map, load_catalogue, normalise_header

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

__all__ = ["FileRefused", "SheetInfo", "Table", "Upload", "read_tables", "read_upload"]


@dataclass
class SheetInfo:
    """One sheet of a file as reported: read or skipped, with how many non-empty rows.

    ``rows`` of a sheet read is the records taken from it; of a sheet skipped, the non-empty
    rows it holds (below its header when it has one).  A CSV is one entry named ``None``.
    """

    name: str | None
    rows: int
    read: bool
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "rows": self.rows, "read": self.read, "reason": self.reason}


def sheets_note(sheets: list[SheetInfo]) -> str | None:
    """The sheets read and skipped, in one Chinese sentence; None when there is nothing to say
    (a CSV, or one sheet read without remark)."""
    if len(sheets) <= 1 and all(s.read and not s.reason for s in sheets):
        return None
    read = [f"「{s.name}」{s.rows} 条" + (f"（{s.reason}）" if s.reason else "")
            for s in sheets if s.read]  # fmt: skip
    skipped = [f"「{s.name}」（{s.reason}）" for s in sheets if not s.read]
    parts = [f"读取工作表{'、'.join(read)}"] if read else []
    if skipped:
        parts.append(f"未读取工作表{'、'.join(skipped)}")
    return "；".join(parts)


@dataclass
class Upload:
    """One upload file, read: raw text cells by field code plus what we learnt on the way."""

    path: Path
    kind: Kind
    layout: str
    format: str
    frame: pl.DataFrame  # ``__row`` + one String column per mapped field code
    extras: pl.DataFrame  # unknown columns, same rows, named by their header text
    header_row: int  # 1-based, as the spreadsheet shows it (of the first sheet read)
    sheet: str | None = None  # the sheets read, joined with "、"; None for a CSV
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field code -> header as written
    blank_rows: int = 0
    row_sheets: pl.Series | None = None  # the sheet of every row of ``frame``; None for a CSV
    sheets: list[SheetInfo] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.frame.height

    @property
    def note(self) -> str | None:
        """The sheets read and skipped, in one sentence for the clerk (:func:`sheets_note`)."""
        return sheets_note(self.sheets)

    @property
    def unknown_columns(self) -> list[str]:
        return self.extras.columns

    def sheet_column(self) -> pl.Series:
        """The sheet of every record (null for a CSV), aligned with ``frame``."""
        if self.row_sheets is not None:
            return self.row_sheets
        return pl.repeat(None, self.frame.height, dtype=pl.String, eager=True).alias("sheet")


# ----------------------------------------------------------------------------- header scoring


def upload_scorer() -> Scorer:
    """How much a row looks like the header of an upload, of either kind or of layout v1.

    The catalogue's headers are looked up once, here: the header search calls the scorer for
    every row scanned and, for two-level headers, for every cell, and a cached loader's check
    per call (the catalogue file's fingerprint) would cost a filesystem call per cell.
    """
    v1_markers = [normalise_header(m) for m in load_catalogue().layouts["v1"].markers]
    maps = [frozenset(header_map(k)) for k in KINDS]

    def score(cells: list[object]) -> int:
        keys = {normalise_header(c) for c in cells if c not in (None, "")}
        v1 = sum(1 for m in v1_markers if m in keys)
        return max(v1, *(len(keys & m) for m in maps))

    return score


# ----------------------------------------------------------------------------- files -> sheets


def sniff_format(path: Path) -> str:
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(XLSX_MAGIC):
        return "xlsx"
    if magic == XLS_MAGIC:
        return "xls"
    return "csv"


def _scan_file(path: Path, fmt: str, score: Scorer) -> Iterator[SheetScan]:
    from sgs.intake.workbook import calamine_sheets, xlsx_sheets

    if fmt == "csv":
        from sgs.intake.csvfile import read_csv_table

        table = read_csv_table(path, score)
        yield SheetScan(None, False, table, table.body.height)
        return
    limits = read_limits()
    sheets = xlsx_sheets(path, limits) if fmt == "xlsx" else None
    for sheet in sheets if sheets is not None else calamine_sheets(path):
        if sheet.chart:
            yield SheetScan(sheet.name, sheet.hidden, None, 0, chart=True)
            continue
        if sheet.wide is not None:
            yield scan_wide(sheet.wide, score, sheet.name, sheet.hidden)
            continue
        # The streamed XLSX reader refuses a wide sheet while reading; calamine's (XLS, ODS)
        # are checked here, before the header search and the pivot.
        if fmt != "xlsx" and sheet.cells["col"].n_unique() > limits.columns:
            raise too_many_columns(path.name, f"的工作表「{sheet.name}」", limits.columns)
        yield scan_cells(sheet.cells, score, sheet.name, sheet.hidden)


def _skip_reason(scan: SheetScan, hidden_read: bool) -> str:
    if scan.chart:
        return "图表工作表，没有数据"
    if scan.table is not None and scan.hidden:
        return "隐藏工作表，未读取（可见工作表中已有数据表）"
    if scan.table is not None:
        return scan.extra.get("reason", "未读取")
    if not scan.rows:
        return "空工作表"
    where = "隐藏工作表，" if scan.hidden and not hidden_read else ""
    return f"{where}前 {HEADER_SCAN_ROWS} 行中没有找到表头，不是数据表"


def read_tables(path: Path, fmt: str, score: Scorer) -> tuple[list[Table], list[SheetInfo]]:
    """Every table of a file to be read (in sheet order) and the report of every sheet.

    Visible sheets whose header matches are read; hidden ones only when no visible sheet
    matches.  :class:`FileRefused` when no sheet has a header, with a message free of parser
    text and of ID numbers.
    """
    try:
        scans = list(_scan_file(path, fmt, score))
    except FileRefused:
        raise
    except Exception:
        # Whatever a library raised (zip, XML, calamine, polars), its text is not for the unit.
        raise FileRefused(
            "unreadable", f"文件「{path.name}」已损坏或格式异常，无法读取，请重新导出后上传。"
        ) from None
    return choose_sheets(scans, path)


def choose_sheets(scans: list[SheetScan], path: Path) -> tuple[list[Table], list[SheetInfo]]:
    visible = [s for s in scans if s.table is not None and not s.hidden]
    chosen = visible or [s for s in scans if s.table is not None]
    if not chosen:
        raise no_header(path)
    hidden_read = not visible
    report = []
    for s in scans:
        if s in chosen:
            reason = "隐藏工作表：没有可见工作表含有表头，因此读取了它" if s.hidden else None
            report.append(SheetInfo(s.name, s.rows, True, reason))
        else:
            report.append(SheetInfo(s.name, s.rows, False, _skip_reason(s, hidden_read)))
    return [s.table for s in chosen if s.table is not None], report


# ----------------------------------------------------------------------------- mapping


def _detect_kind(keys: list[str]) -> Kind | None:
    scores = {k: sum(1 for key in keys if key in header_map(k)) for k in KINDS}
    permit, penalty = scores["permit"], scores["penalty"]
    if permit == penalty:
        return None
    return "permit" if permit > penalty else "penalty"


def _unknown_kind(path: Path) -> FileRefused:
    return FileRefused(
        "unknown_kind",
        f"无法从表头判断文件「{path.name}」是行政许可还是行政处罚数据，请用 --kind 指定。",
    )


def _refuse_v1(keys: set[str], path: Path, kind: Kind | None) -> None:
    cat = load_catalogue()
    layout = cat.layouts["v1"]
    found = [m for m in layout.markers if normalise_header(m) in keys]
    if len(found) < 2:
        return
    kinds = [kind] if kind else list(KINDS)
    needed = "；".join(
        f"{cat.kind(k).name}：" + "、".join(f.name for f in cat.kind(k).fields) for k in kinds
    )
    raise FileRefused(
        "layout_v1",
        f"文件「{path.name}」是{layout.name}（识别依据：{'、'.join(found[:6])} 等列），"
        f"平台已不再接收。请按现行标准模板重新整理后上传。现行格式需要以下字段——{needed}",
    )


def _layout_of(keys: set[str]) -> str:
    v15 = load_catalogue().layouts["v1.5"]
    return "v1.5" if any(normalise_header(m) in keys for m in v15.markers) else "current"


def _empty(c: str) -> pl.Expr:
    return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")


def _without_blank_rows(body: pl.DataFrame, cells: list[str]) -> pl.DataFrame:
    """``body`` without the rows whose cells are all empty or blanks only.

    A blank row is empty in every column, so only the empty cells of the column with the fewest
    of them are candidates (null counts and byte lengths are free); a million-row file is not
    scanned across.
    """
    if not cells:
        return body.clear()
    fullest = min(cells, key=lambda c: body[c].null_count())
    column = body[fullest]
    candidates = (column.is_null() | (column.str.len_bytes() < 16)).arg_true()
    if candidates.len():
        candidates = candidates.filter(_blank_of(column.gather(candidates)))
    if not candidates.len():
        return body
    rows = body[cells].gather(candidates)
    blank = rows.select(pl.all_horizontal(_empty(c) for c in cells)).to_series()
    if not blank.any():
        return body  # filtering copies every column: only when there is a blank row to drop
    keep = pl.repeat(True, body.height, eager=True).scatter(candidates.filter(blank), False)
    return body.filter(keep)


def _blank_of(values: pl.Series) -> pl.Series:
    return values.is_null() | (values.str.strip_chars() == "")


@dataclass
class _Part:
    """One table mapped to field codes: the records of one sheet."""

    frame: pl.DataFrame
    extras: dict[str, pl.Series]
    columns: dict[str, str]
    blank_rows: int
    layout: str


def _map(table: Table, path: Path, kind: Kind) -> _Part:
    keys = [normalise_header(h) for h in table.header]
    layout = _layout_of(set(keys))
    mapping = header_map(kind)
    spec = load_catalogue().kind(kind)

    rename: dict[str, str] = {}
    columns: dict[str, str] = {}
    extras: dict[str, str] = {}
    for i, (key, text) in enumerate(zip(keys, table.header, strict=True)):
        code = mapping.get(key)
        if code and code not in columns:
            rename[f"c{i}"] = code
            columns[code] = str(text)
        elif key or table.body[f"c{i}"].null_count() < table.body.height:
            label = str(text).strip() if key else f"(第{table.position(i) + 1}列，无表头)"
            while label in extras.values():
                label += "'"
            extras[f"c{i}"] = label

    missing = [c for c in spec.required_columns if c not in columns]
    if layout == "v1.5":
        missing = [c for c in missing if c != spec.subject_type]
    if missing:
        names = "、".join(f"{spec.field(c).name}（{c}）" for c in missing)
        where = f"的工作表「{table.sheet}」" if table.sheet else ""
        raise FileRefused("missing_columns", f"文件「{path.name}」{where}缺少必需的列：{names}。")

    body = table.body.with_columns(table.row_numbers().alias(ROW))
    # Rows with no text at all (or blanks only) are spacing, not records.
    cells = [c for c in body.columns if c != ROW]
    kept = _without_blank_rows(body, cells)
    blank_rows = table.blank_rows + body.height - kept.height

    # Built from the Series, not by select(): that would rechunk every column of a big read.
    frame = pl.DataFrame([kept[ROW], *(kept[src].alias(dst) for src, dst in rename.items())])
    prefix = spec.prefix
    if (
        layout == "v1.5"
        and f"{prefix}_FR_ZJLX" not in frame.columns
        and f"{prefix}_FR_ZJHM" in frame.columns
    ):
        frame = frame.with_columns(
            pl.when(pl.col(f"{prefix}_FR_ZJHM").str.strip_chars().str.len_bytes() > 0)
            .then(pl.lit("身份证"))
            .alias(f"{prefix}_FR_ZJLX")
        )
    extra = {label: kept[src].alias(label) for src, label in extras.items()}
    return _Part(frame, extra, columns, blank_rows, layout)


def _kind_of(tables: list[Table], path: Path, kind: Kind | None) -> Kind:
    """The kind given, or the one every table's header shows (a file is one kind)."""
    if kind is not None:
        return kind
    kinds = [_detect_kind([normalise_header(h) for h in t.header]) for t in tables]
    primary = kinds[max(range(len(tables)), key=lambda i: tables[i].score)]
    if primary is None:
        raise _unknown_kind(path)
    for table, other in zip(tables, kinds, strict=True):
        if other not in (None, primary):
            cat = load_catalogue()
            raise FileRefused(
                "mixed_kinds",
                f"文件「{path.name}」中既有{cat.kind(primary).name}数据，又有"
                f"{cat.kind(other).name}数据（工作表「{table.sheet}」）：一个文件只能上报一类数据，"
                "请分成两个文件上传。",
            )
    return primary


def _concat_extras(parts: list[_Part]) -> pl.DataFrame:
    labels: list[str] = []
    for p in parts:
        labels += [label for label in p.extras if label not in labels]
    if not labels:
        return pl.DataFrame()
    frames = [
        pl.DataFrame(
            [
                p.extras.get(
                    label, pl.repeat(None, p.frame.height, dtype=pl.String, eager=True)
                ).alias(label)
                for label in labels
            ]
        )
        for p in parts
    ]
    return frames[0] if len(frames) == 1 else pl.concat(frames)


def read_upload(path: str | Path, kind: Kind | None = None) -> Upload:
    """Read one upload file; raise :class:`FileRefused` when it cannot be validated at all."""
    path = Path(path)
    if not path.is_file():
        raise FileRefused("unreadable", f"找不到文件「{path}」。")
    fmt = sniff_format(path)
    tables, report = read_tables(path, fmt, upload_scorer())
    for t in tables:
        _refuse_v1({normalise_header(h) for h in t.header}, path, kind)
    kind = _kind_of(tables, path, kind)
    parts = [_map(t, path, kind) for t in tables]
    read = iter(parts)
    for info in report:
        if info.read:
            info.rows = next(read).frame.height
    frame = (
        parts[0].frame if len(parts) == 1 else pl.concat([p.frame for p in parts], how="diagonal")
    )
    columns: dict[str, str] = {}
    for p in parts:
        columns.update({k: v for k, v in p.columns.items() if k not in columns})
    if fmt == "csv":
        row_sheets = None
    else:
        row_sheets = pl.concat(
            [
                pl.repeat(t.sheet, p.frame.height, dtype=pl.String, eager=True)
                for t, p in zip(tables, parts, strict=True)
            ]
        ).alias("sheet")
    layouts = {p.layout for p in parts}
    return Upload(
        path=path,
        kind=kind,
        layout="v1.5" if "v1.5" in layouts else "current",
        format=fmt,
        frame=frame,
        extras=_concat_extras(parts),
        header_row=tables[0].header_row,
        sheet="、".join(str(t.sheet) for t in tables) if fmt != "csv" else None,
        encoding=tables[0].encoding,
        columns=columns,
        blank_rows=sum(p.blank_rows for p in parts),
        row_sheets=row_sheets,
        sheets=report,
    )


def read_file(path: str | Path, kind: Kind | None = None) -> Upload:
    """Read one upload for validation; :class:`sgs.errors.FileRefused` if it cannot be read."""
    with refusing_the_unexpected(path):
        return read_upload(path, kind)
