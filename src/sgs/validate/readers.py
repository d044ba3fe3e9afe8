"""Reading upload files as units really send them.

CSV (UTF-8 with or without BOM, GBK/GB18030, UTF-16 from Excel's "Unicode text"), XLSX and
legacy XLS.  The format is detected from the file's bytes and the encoding from its content,
never from the file name.  Title and instruction rows above the header are skipped by scoring
each of the first rows against the catalogue's headers; the record kind and the layout are
recognised from the headers.  Every cell is kept as text, so a credit code or ID number never
passes through a float, and every data row keeps the row number the unit's spreadsheet shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused
from sgs.reference.catalogue import KINDS, Kind, header_map, load_catalogue, normalise_header
from sgs.validate.normalise import ROW

HEADER_SCAN_ROWS = 30
MIN_HEADER_MATCHES = 3
SNIFF_BYTES = 1 << 20

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Upload:
    """One upload file, read: raw text cells by field code plus what we learnt on the way."""

    path: Path
    kind: Kind
    layout: str
    format: str
    frame: pl.DataFrame  # ``__row`` + one String column per mapped field code
    extras: pl.DataFrame  # unknown columns, same rows, named by their header text
    header_row: int  # 1-based, as the spreadsheet shows it
    sheet: str | None = None
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # field code -> header as written
    blank_rows: int = 0

    @property
    def rows(self) -> int:
        return self.frame.height

    @property
    def unknown_columns(self) -> list[str]:
        return self.extras.columns


@dataclass
class Table:
    """A grid of text cells with the spreadsheet row number of its first row."""

    header: list[str | None]
    body: pl.DataFrame  # column i holds the cells below header[i]
    header_row: int
    first_data_row: int
    sheet: str | None = None
    encoding: str | None = None


# ----------------------------------------------------------------------------- header scoring


Scorer = Callable[[list[object]], int]


def _score(cells: list[object]) -> int:
    """How much a row looks like the header of an upload, of either kind or of layout v1."""
    keys = {normalise_header(c) for c in cells if c not in (None, "")}
    v1 = sum(1 for m in load_catalogue().layouts["v1"].markers if normalise_header(m) in keys)
    return max(v1, *(len(keys & header_map(k).keys()) for k in KINDS))


def _find_header(rows: list[list[object]], score: Scorer) -> int | None:
    best, best_score = None, MIN_HEADER_MATCHES - 1
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score_i = score(row)
        if score_i > best_score:
            best, best_score = i, score_i
    return best


def _no_header(path: Path) -> FileRefused:
    return FileRefused(
        "no_header",
        f"未能在文件「{path.name}」的前 {HEADER_SCAN_ROWS} 行中找到表头："
        "请使用标准模板的列名（如「行政相对人名称」或 XK_XDR_MC）。",
    )


# ----------------------------------------------------------------------------- CSV


def _decode_prefix(prefix: bytes, encoding: str, complete: bool) -> str | None:
    """Decode a file's first bytes; a multi-byte character cut at the end is not an error."""
    for cut in range(0, 1 if complete else 4):
        try:
            return prefix[: len(prefix) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _sniff_encoding(prefix: bytes, complete: bool) -> tuple[str, str]:
    """(encoding, decoded prefix) — UTF-8 first, since GBK text is almost never valid UTF-8."""
    if prefix.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", prefix.decode("utf-16", errors="ignore")
    if prefix.startswith(b"\xef\xbb\xbf"):
        text = _decode_prefix(prefix[3:], "utf-8", complete)
        if text is not None:
            return "utf-8-sig", text
    text = _decode_prefix(prefix, "utf-8", complete)
    if text is not None:
        return "utf-8", text
    # GBK is what units call it; GB18030 (its superset) covers the rare characters beyond it.
    for encoding in ("gbk", "gb18030"):
        text = _decode_prefix(prefix, encoding, complete)
        if text is not None:
            return encoding, text
    raise FileRefused(
        "unreadable", "无法识别文件编码：文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本或表格。"
    )


def _csv_rows(text: str, delimiter: str, limit: int) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text), delimiter=delimiter):
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass
    return rows


def _read_csv(path: Path, score: Scorer) -> Table:
    with path.open("rb") as fh:
        prefix = fh.read(SNIFF_BYTES)
        complete = not fh.read(1)
    if not prefix.strip():
        raise FileRefused("empty", f"文件「{path.name}」是空文件。")
    encoding, text = _sniff_encoding(prefix, complete)
    if "\x00" in text:
        raise FileRefused("unreadable", f"文件「{path.name}」不是文本或表格文件，无法读取。")

    best: tuple[int, str, list[list[str]], int] | None = None
    for delimiter in (",", "\t", ";"):
        rows = _csv_rows(text, delimiter, HEADER_SCAN_ROWS)
        index = _find_header(rows, score)
        if index is not None:
            found = score(rows[index])
            if best is None or found > best[3]:
                best = (index, delimiter, rows, found)
    if best is None:
        raise _no_header(path)
    index, delimiter, rows, _ = best
    header = rows[index]

    source: Path | io.BytesIO = path
    if encoding not in ("utf-8", "utf-8-sig"):
        source = io.BytesIO(_decode_all(path, encoding).encode("utf-8"))
    try:
        body = _polars_csv(source, index, delimiter, len(header))
    except pl.exceptions.ComputeError as exc:
        if "utf-8" in str(exc).lower() and encoding.startswith("utf-8"):
            # Valid UTF-8 at the start only (e.g. ASCII headers): re-read as GB18030.
            encoding = "gb18030"
            source = io.BytesIO(_decode_all(path, encoding).encode("utf-8"))
            body = _polars_csv(source, index, delimiter, len(header))
        elif "more fields" in str(exc):
            body = _python_csv(_decode_all(path, encoding), index, delimiter, len(header))
        else:
            raise FileRefused("unreadable", f"文件「{path.name}」无法按 CSV 解析：{exc}") from exc
    return Table(header, body, index + 1, index + 2, encoding=encoding)


def _decode_all(path: Path, encoding: str) -> str:
    try:
        # GB18030 decodes every GBK file identically, and also the characters beyond GBK.
        return path.read_bytes().decode("gb18030" if encoding == "gbk" else encoding)
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "unreadable",
            f"文件「{path.name}」含有无法按 {encoding.upper()} 解码的字节（第 {exc.start} 字节附近），"
            "请另存为 UTF-8 或 GBK 编码后重新上传。",
        ) from exc


def _polars_csv(source: Path | io.BytesIO, index: int, delimiter: str, width: int) -> pl.DataFrame:
    body = pl.read_csv(
        source,
        has_header=False,
        skip_rows=index + 1,
        separator=delimiter,
        infer_schema=False,
        encoding="utf8",
        new_columns=[f"c{i}" for i in range(width)],
        raise_if_empty=False,
        quote_char='"',
    )
    return _ensure_width(body, width)


def _python_csv(text: str, index: int, delimiter: str, width: int) -> pl.DataFrame:
    """Slow exact path for ragged files: rows longer than the header keep their extra cells."""
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))[index + 1 :]
    wide = max([width, *(len(r) for r in rows)])
    columns = [[(r[i] if i < len(r) else None) for r in rows] for i in range(wide)]
    return pl.DataFrame({f"c{i}": pl.Series(col, dtype=pl.String) for i, col in enumerate(columns)})


def _ensure_width(body: pl.DataFrame, width: int) -> pl.DataFrame:
    if body.width < width:
        body = body.with_columns(
            pl.lit(None, dtype=pl.String).alias(f"c{i}") for i in range(body.width, width)
        )
    return body


# ----------------------------------------------------------------------------- Excel


def _cell_text(value: object) -> str | None:
    """A spreadsheet cell as the text its user sees, without float artefacts.

    Integral numbers lose their ``.0`` (a 15-digit registration number stays 15 digits), other
    numbers are written positionally (1e-07 -> 0.0000001), date cells become ISO dates.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta | time):
        return str(value)
    return str(value)


def _read_excel(path: Path, score: Scorer) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        # from_filelike sniffs the content; from_path would trust the file name's extension.
        with path.open("rb") as fh:
            book = CalamineWorkbook.from_filelike(fh)
    except Exception as exc:
        raise FileRefused(
            "unreadable",
            f"文件「{path.name}」已损坏或不是有效的 Excel 文件，请重新导出后上传。（技术信息：{exc}）",
        ) from exc
    best: tuple[int, str, list[list[object]], int, int] | None = None
    for name in book.sheet_names:
        try:
            sheet = book.get_sheet_by_name(name)
            rows = sheet.to_python(skip_empty_area=False)
        except Exception as exc:
            raise FileRefused("unreadable", f"工作表「{name}」无法读取：{exc}") from exc
        index = _find_header(rows, score)
        if index is None:
            continue
        found = score(rows[index])
        if best is None or found > best[3]:
            best = (index, name, rows, found, 0)
    if best is None:
        raise _no_header(path)
    index, name, rows, _, _ = best
    header = [_cell_text(c) for c in rows[index]]
    data = rows[index + 1 :]
    width = max([len(header), *(len(r) for r in data)]) if data else len(header)
    columns = {
        f"c{i}": pl.Series(
            [_cell_text(r[i]) if i < len(r) else None for r in data], dtype=pl.String
        )
        for i in range(width)
    }
    body = (
        pl.DataFrame(columns)
        if data
        else pl.DataFrame({f"c{i}": pl.Series([], dtype=pl.String) for i in range(width)})
    )
    header += [None] * (width - len(header))
    return Table(header, body, index + 1, index + 2, sheet=name)


# ----------------------------------------------------------------------------- mapping


def _detect_kind(keys: list[str], path: Path) -> Kind:
    scores = {k: sum(1 for key in keys if key in header_map(k)) for k in KINDS}
    permit, penalty = scores["permit"], scores["penalty"]
    if permit == penalty:
        raise FileRefused(
            "unknown_kind",
            f"无法从表头判断文件「{path.name}」是行政许可还是行政处罚数据，请用 --kind 指定。",
        )
    return "permit" if permit > penalty else "penalty"


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


def _without_blank_rows(body: pl.DataFrame, cells: list[str]) -> pl.DataFrame:
    """``body`` without the rows whose cells are all empty.

    A blank row is empty in every column, so only the empty cells of the column with the fewest
    of them are candidates (null counts are free); a million-row file is not scanned across.
    """
    fullest = min(cells, key=lambda c: body[c].null_count())
    if not body[fullest].null_count():
        return body
    candidates = body[fullest].is_null().arg_true()
    rows = body[cells].gather(candidates)
    blank = rows.select(~pl.any_horizontal(pl.col(c).is_not_null() for c in cells)).to_series()
    if not blank.any():
        return body  # filtering copies every column: only when there is a blank row to drop
    keep = pl.repeat(True, body.height, eager=True).scatter(candidates.filter(blank), False)
    return body.filter(keep)


def _map(table: Table, path: Path, kind: Kind | None) -> Upload:
    keys = [normalise_header(h) for h in table.header]
    _refuse_v1(set(keys), path, kind)
    kind = kind or _detect_kind(keys, path)
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
            label = str(text).strip() if text not in (None, "") else f"(第{i + 1}列，无表头)"
            while label in extras.values():
                label += "'"
            extras[f"c{i}"] = label

    missing = [c for c in spec.required_columns if c not in columns]
    if layout == "v1.5":
        missing = [c for c in missing if c != spec.subject_type]
    if missing:
        names = "、".join(f"{spec.field(c).name}（{c}）" for c in missing)
        raise FileRefused("missing_columns", f"文件「{path.name}」缺少必需的列：{names}。")

    body = table.body.with_columns(
        pl.int_range(table.first_data_row, table.first_data_row + pl.len(), dtype=pl.Int64).alias(
            ROW
        )
    )
    # Rows with no text at all are spacing, not records.
    cells = [c for c in body.columns if c != ROW]
    kept = _without_blank_rows(body, cells) if cells else body.clear()
    blank_rows = body.height - kept.height

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
    extra_frame = pl.DataFrame([kept[src].alias(label) for src, label in extras.items()])
    return Upload(
        path=path,
        kind=kind,
        layout=layout,
        format="",
        frame=frame,
        extras=extra_frame,
        header_row=table.header_row,
        sheet=table.sheet,
        encoding=table.encoding,
        columns=columns,
        blank_rows=blank_rows,
    )


def sniff_format(path: Path) -> str:
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(XLSX_MAGIC):
        return "xlsx"
    if magic == XLS_MAGIC:
        return "xls"
    return "csv"


def read_table(path: Path, fmt: str, score: Scorer) -> Table:
    """The header row (the best ``score`` among the first rows) and the text cells below it."""
    return _read_csv(path, score) if fmt == "csv" else _read_excel(path, score)


def read_upload(path: str | Path, kind: Kind | None = None) -> Upload:
    """Read one upload file; raise :class:`FileRefused` when it cannot be validated at all."""
    path = Path(path)
    if not path.is_file():
        raise FileRefused("unreadable", f"找不到文件「{path}」。")
    fmt = sniff_format(path)
    table = read_table(path, fmt, _score)
    upload = _map(table, path, kind)
    upload.format = fmt
    return upload
