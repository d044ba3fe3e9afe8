"""Reading a CSV upload: vectorised polars where the file is regular, exact Python where not.

The fast path hands the file to ``polars.read_csv`` with every column as text.  Files polars
would misread or refuse go through Python's ``csv`` module instead, which reads what Excel
reads: lines ended by CR alone (old Mac exports) or by a mix of CRLF, LF and CR, rows longer
than the header (extra cells are kept as columns without a header, never dropped), a stray
quote inside a cell.  Quoted line breaks stay inside their cell either way.  A quote that is
never closed would swallow the rest of the file into one cell: such a file is refused, naming
the line where the quote opens and quoting the start of it (ID numbers masked), never with the
parser's own text.

Wide rows (issue 20): the header is searched in the first ``columns_limit`` cells of each row
only, and a row with a value beyond the ``columns_limit``-th cell refuses the file before any
frame is built for it — a row of a million cells would otherwise become a million columns.
"""

from __future__ import annotations

import csv
import io
import mmap
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused
from sgs.intake.encodings import decode_all, detect_legacy, sniff_encoding
from sgs.intake.limits import header_beyond, read_limits, too_many_columns
from sgs.intake.sheets import (
    HEADER_SCAN_ROWS,
    Row,
    Scorer,
    Table,
    find_header,
    is_blank,
    no_header,
)
from sgs.privacy import mask_ids_in_str

SNIFF_BYTES = 1 << 20
DELIMITERS = (",", "\t", ";")
EXCERPT = 40
UTF8 = ("utf-8", "utf-8-sig")
# Records read while looking for the header: enough for 30 non-empty ones below many blanks.
SCAN_LIMIT = 5000


def _wide(record: list[str], limit: int) -> bool:
    """Whether a record holds a value beyond its ``limit``-th cell (empty cells do not count:
    a spreadsheet's CSV export pads rows with commas up to its used range)."""
    return len(record) > limit and any(record[limit:])


def _scan(text: str, delimiter: str, limit: int) -> tuple[list[tuple[int, Row]], bool]:
    """The first non-empty records (index, cells) and the one after them, for the header, with
    their first ``limit`` cells only; and whether one of them holds a value beyond those."""
    found: list[tuple[int, Row]] = []
    wide = False
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for index, record in enumerate(reader):
            if _wide(record, limit):
                wide = True
                record = record[:limit]
            cells = {i: v for i, v in enumerate(record) if v != ""}
            if all(is_blank(v) for v in cells.values()):
                if index > SCAN_LIMIT:
                    break
                continue
            found.append((index, cells))
            if len(found) > HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass  # the prefix may end inside a quoted cell; the full read decides
    return found, wide


def _has_cr(path: Path) -> bool:
    """Whether the file holds a CR at all (one memchr over the mapped file)."""
    with path.open("rb") as fh:
        if not path.stat().st_size:
            return False
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            return mm.find(b"\r") != -1


def _lone_cr(text: str) -> bool:
    crs = text.count("\r")
    return bool(crs) and crs != text.count("\r\n")


def _cr_in_cells(body: pl.DataFrame) -> bool:
    """Whether some cell holds a CR after polars' read.

    polars ends lines at LF and drops the CR of CRLF; a line ended by CR alone runs on into
    the next one, leaving its CR inside a cell.  A CR inside a quoted cell looks the same, so
    either way the exact reader decides (it keeps quoted CRs and ends lines at a lone CR).
    """
    if not body.width:
        return False
    found = body.select(
        pl.any_horizontal(pl.col(c).str.contains("\r", literal=True).any() for c in body.columns)
    )
    return bool(found.item())


def read_csv_table(path: Path, score: Scorer) -> Table:
    """The header (best score among the first records) and every record below it, as text."""
    with path.open("rb") as fh:
        prefix = fh.read(SNIFF_BYTES)
        complete = not fh.read(1)
    if not prefix.strip():
        raise FileRefused("empty", f"文件「{path.name}」是空文件。")
    encoding, text = sniff_encoding(prefix, complete, path.name)
    limit = read_limits().columns

    best = None
    any_wide = False
    for delimiter in DELIMITERS:
        rows, wide = _scan(text, delimiter, limit)
        found = find_header(rows, score)
        any_wide = any_wide or wide
        if found is not None and (best is None or found.score > best[1].score):
            best = (delimiter, found, rows, wide)
    if best is None:
        raise header_beyond(path.name, limit) if any_wide else no_header(path)
    delimiter, found, rows, wide = best
    if wide:
        raise too_many_columns(path.name, "", limit)
    header_index = rows[found.index][0]
    start = header_index + (2 if found.two_level else 1)
    width = max(found.header, default=-1) + 1
    header = [found.header.get(i) for i in range(width)]
    # A line ended by CR alone before the data would throw polars' line count off: exact way.
    exact = _lone_cr(text.rstrip("\r") if not complete else text)
    body, encoding = _read_body(path, encoding, start, delimiter, width, exact, limit)
    header += [None] * (body.width - width)
    return Table(header, body, header_index + 1, start + 1, encoding=encoding, score=found.score)


def _read_body(
    path: Path, encoding: str, start: int, delimiter: str, width: int, exact: bool, limit: int
) -> tuple[pl.DataFrame, str]:
    """The records below the header: polars when the file is regular, else the exact way."""
    tried = exact
    if encoding in UTF8 and not exact:
        tried = True
        # Looked at before the read: the mapped file's pages leave memory before polars' frame
        # arrives, so the look does not add to the peak.
        has_cr = _has_cr(path)
        try:
            body = _polars_csv(path, start, delimiter, width)
            if not (has_cr and _cr_in_cells(body)):
                return body, encoding
        except Exception:
            pass
    data = path.read_bytes()
    if encoding in UTF8:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            # Valid UTF-8 at the start only (e.g. ASCII headers): judge all of it.
            encoding, _ = detect_legacy(data, True, path.name)
            tried = False
    if encoding not in UTF8:
        text = decode_all(data, encoding, path.name)
    del data
    if not tried:
        try:
            body = _polars_csv(io.BytesIO(text.encode("utf-8")), start, delimiter, width)
            if "\r" not in text or not _cr_in_cells(body):
                return body, encoding
        except Exception:
            pass
    return _python_csv(text, start, delimiter, width, path.name, limit), encoding


def _polars_csv(source: Path | io.BytesIO, start: int, delimiter: str, width: int) -> pl.DataFrame:
    return pl.read_csv(
        source,
        has_header=False,
        skip_rows=start,
        separator=delimiter,
        schema={f"c{i}": pl.String for i in range(width)},
        encoding="utf8",
        raise_if_empty=False,
        missing_columns="insert",
        quote_char='"',
    )


def _python_csv(
    text: str, start: int, delimiter: str, width: int, name: str, limit: int
) -> pl.DataFrame:
    """The exact path: every record as Python's csv reads it, rows longer than the header too
    — up to ``limit`` cells: a value beyond refuses the file before its columns are built."""
    records = _records(text, delimiter, name)[start:]
    if any(_wide(r, limit) for r in records):
        raise too_many_columns(name, "", limit)
    wide = min(max([width, *(len(r) for r in records)]), limit)
    columns = {
        f"c{i}": pl.Series(
            [(r[i] or None) if i < len(r) else None for r in records], dtype=pl.String
        )
        for i in range(wide)
    }
    return pl.DataFrame(columns)


class _Broken(Exception):
    def __init__(self, line: int, unclosed: bool) -> None:
        self.line = line
        self.unclosed = unclosed


def _read(text: str, delimiter: str, strict: bool) -> tuple[list[list[str]], int]:
    """Records and the line the last one starts on; :class:`_Broken` names the failing line."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    records: list[list[str]] = []
    line = last_start = 0  # physical lines consumed so far; first line of the last record
    try:
        for record in reader:
            records.append(record)
            last_start, line = line + 1, reader.line_num
    except csv.Error as exc:
        reason = str(exc)
        raise _Broken(line + 1, "end of data" in reason or "field limit" in reason) from None
    return records, last_start


def _records(text: str, delimiter: str, name: str) -> list[list[str]]:
    """Strictly first; a stray quote mid-cell is then read as Excel reads it (``"ab"c`` is
    ``abc``).  A quote still open at the end of the file refuses it."""
    try:
        return _read(text, delimiter, strict=True)[0]
    except _Broken as broken:
        if broken.unclosed:
            raise _unclosed(text, broken.line, name) from None
    try:
        records, last_start = _read(text, delimiter, strict=False)
    except _Broken as broken:
        raise _unclosed(text, broken.line, name) from None
    if records:
        # The lenient reader ends a quote left open at the end of the file silently.
        tail = "".join(io.StringIO(text, newline="").readlines()[last_start - 1 :])
        try:
            _read(tail, delimiter, strict=True)
        except _Broken as broken:
            if broken.unclosed:
                raise _unclosed(text, last_start + broken.line - 1, name) from None
    return records


def _unclosed(text: str, line_no: int, name: str) -> FileRefused:
    lines = io.StringIO(text, newline="")
    line = ""
    for i, line in enumerate(lines, start=1):  # noqa: B007 - the line we stop at is the one
        if i >= line_no:
            break
    line = line.rstrip("\r\n")
    shown = line[:EXCERPT] + ("……" if len(line) > EXCERPT else "")
    shown = mask_ids_in_str(shown, long_numbers=True)
    return FileRefused(
        "unclosed_quote",
        f'文件「{name}」第 {line_no} 行有未闭合的引号（"），其后的内容无法按行读取：'
        f"该行开头为「{shown}」。请检查该行的引号后重新导出上传。",
    )
