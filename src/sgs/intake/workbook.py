"""Workbooks as sparse cells: every sheet's non-empty cells with their row and column, and
whether the sheet is hidden.

An XLSX sheet declares its range (``<dimension ref="A1:XFD1048576"/>``) and a stray cell far
away stretches it; a reader that builds the declared grid allocates rows × columns cells (a
cell at ``XFD1048576`` asks for 17 billion).  So the sheet XML is streamed here, in chunks of
rows parsed by polars (:mod:`sgs.intake.sheetxml`), or element by element for XML of an
unusual kind (:mod:`sgs.intake.celltext`): only cells that hold a value are kept, as (row,
column, text) triples, and nothing is ever sized from what a sheet declares.  Memory follows
the file's real content.  Cell text follows what the user sees (:mod:`sgs.intake.celltext`).
A big sheet (``NATIVE_SHEET_BYTES`` of XML) is inflated by ISA-L (:mod:`sgs.intake.inflate`)
and scanned by compiled code straight into its wide table (:mod:`sgs.intake.sheetscan`),
without the triples and their pivot.

Legacy XLS (BIFF) goes through calamine, row by row; its grid is bounded by the format itself
(65,536 × 256).  Other zipped spreadsheets (ODS) go the same way.

Bounded reading (issue 20): the zip directory is checked before any part is inflated (a part
inflating more than ``workbook_ratio_limit`` times is a bomb), the non-sheet parts read whole
(workbook, relationships, styles) and the shared strings (streamed) are refused beyond
``workbook_part_limit_mib``, and every part is read through :class:`_RunGuard`, which refuses a run
of XML without a ``<`` longer than the longest cell Excel can hold *before* the parser
accumulates it — one cell of a gigabyte never reaches memory.  Sheets are never refused for
their size; a sheet with values in more than ``columns_limit`` columns is refused while it is
streamed.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree.ElementTree import ParseError, iterparse

import polars as pl

from sgs.errors import FileRefused
from sgs.intake.bigsheet import NATIVE_SHEET_BYTES, Disordered, fast_wide, native_cells
from sgs.intake.celltext import Overrun, Wide, attribute, local_name, stream_cells, unescape_ooxml
from sgs.intake.inflate import open_member
from sgs.intake.limits import (
    RATIO_FLOOR,
    ReadLimits,
    cell_too_long,
    compression_ratio,
    part_too_large,
    read_limits,
    too_many_columns,
)
from sgs.intake.sheetxml import Unsupported, fast_cells

# Excel's built-in number formats that show a date or time (ECMA-376 18.8.30, plus the
# East-Asian ones Excel uses for zh-CN).
BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59), *range(71, 82)}
_DATE_CODE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')  # quoted, bracketed, escaped parts
DOCTYPE_SCAN = 4096


@dataclass
class SheetCells:
    """One sheet: its name, whether hidden, and its non-empty cells (row and column 1-based)."""

    name: str
    hidden: bool
    cells: pl.DataFrame  # row Int64, col Int32, value String
    chart: bool = False
    # A big sheet read straight into its wide table (``cells`` then empty): ``row``, then a
    # column per spreadsheet column number, only rows with a non-blank cell.
    wide: pl.DataFrame | None = None


class _RunGuard:
    """A part's bytes as a file, raising :class:`Overrun` as soon as a run without ``<`` (a
    cell's text, or blanks between tags) grows beyond ``limit`` bytes.

    Checked on each chunk before the parser sees it, so a parser never accumulates more than
    ``limit`` bytes of one text: the longest legitimate cell (32,767 characters of at most 10
    XML bytes each) passes, a gigabyte of one cell or of blanks stops at the first chunk past
    the limit.  A few C-speed searches per chunk: from each ``<`` the next must lie within
    ``limit`` bytes, so the search jumps to the last ``<`` of that window.
    """

    def __init__(self, fh: IO[bytes], limit: int) -> None:
        self.fh = fh
        self.limit = limit
        self.run = 0  # bytes since the last ``<`` of the previous chunks

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        if data:
            self._check(data)
        return data

    def _check(self, data: bytes) -> None:
        limit, size = self.limit, len(data)
        pos = data.find(b"<", 0, limit + 1)
        if pos == -1:
            self.run += size
            if self.run > limit:
                raise Overrun
            return
        if self.run + pos > limit:
            raise Overrun
        while True:
            end = pos + limit + 2  # the next ``<`` must come before this
            if end > size:
                last = data.rfind(b"<", pos + 1)
                if last == -1:
                    self.run = size - pos - 1
                    return
                pos = last
                continue
            last = data.rfind(b"<", pos + 1, end)
            if last == -1:
                raise Overrun
            pos = last

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> _RunGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_directory(zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> None:
    """Refuse a zip whose directory shows a part inflating beyond the ratio limit, before any
    part is inflated (``zipfile`` never inflates a part past the size its directory declares,
    so the declared sizes bound what is read)."""
    for info in zf.infolist():
        if info.file_size < RATIO_FLOOR:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.ratio:
            raise compression_ratio(name, info.filename, ratio, limits.ratio)


def _corrupt(name: str) -> FileRefused:
    return FileRefused(
        "unreadable", f"文件「{name}」已损坏或不是有效的 Excel 文件，请重新导出后上传。"
    )


class _Book:
    """The parts of an XLSX package the cells need: sheets, shared strings, date styles."""

    def __init__(self, zf: zipfile.ZipFile, name: str, limits: ReadLimits) -> None:
        self.zf = zf
        self.name = name
        self.limits = limits
        self.members = set(zf.namelist())
        wb_path = self._office_document()
        rels = self._rels(wb_path)
        root = self._parse_small(wb_path)
        self.date1904 = False
        self.sheets: list[tuple[str, bool, str | None, bool]] = []
        for el in root.iter():
            tag = local_name(el.tag)
            if tag == "workbookPr":
                self.date1904 = (attribute(el, "date1904") or "").lower() in ("1", "true")
            elif tag == "sheet":
                state = (attribute(el, "state") or "visible").lower()
                target, kind = rels.get(attribute(el, "id") or "", (None, ""))
                chart = not kind.endswith("/worksheet") if kind else False
                self.sheets.append((attribute(el, "name") or "", state != "visible", target, chart))
        by_type = {kind.rpartition("/")[2]: target for target, kind in rels.values()}
        self.strings = self._shared_strings(by_type.get("sharedStrings"))
        self.date_styles = self._date_styles(by_type.get("styles"))

    def _office_document(self) -> str:
        if "_rels/.rels" in self.members:
            for target, kind in self._rels("").values():
                if kind.endswith("/officeDocument") and target in self.members:
                    return target
        if "xl/workbook.xml" in self.members:
            return "xl/workbook.xml"
        raise _corrupt(self.name)

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        folder = PurePosixPath(part).parent
        rels_path = str(folder / "_rels" / (PurePosixPath(part).name + ".rels"))
        if rels_path not in self.members:
            return {}
        out = {}
        for el in self._parse_small(rels_path).iter():
            if local_name(el.tag) == "Relationship" and el.get("TargetMode") != "External":
                target = el.get("Target") or ""
                if target.startswith("/"):
                    resolved = target.lstrip("/")
                else:
                    resolved = _normpath(folder / target)
                out[el.get("Id") or ""] = (resolved, el.get("Type") or "")
        return out

    def open(self, part: str, big: bool = False) -> _RunGuard:
        """``part`` behind the guard; a ``big`` one inflated by ISA-L (:mod:`.inflate`)."""
        with self.zf.open(part) as fh:
            head = fh.read(DOCTYPE_SCAN)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _corrupt(self.name)  # no spreadsheet needs a DTD; entity tricks are refused
        fh = open_member(self.zf, part) if big else self.zf.open(part)
        return _RunGuard(fh, self.limits.run_bytes)

    def _check_small(self, part: str) -> None:
        """A non-sheet part is refused beyond the part limit before it is inflated."""
        size = self.zf.getinfo(part).file_size
        if size > self.limits.part_bytes:
            raise part_too_large(self.name, part, size, self.limits.part_bytes)

    def _parse_small(self, part: str):
        from xml.etree.ElementTree import fromstring

        self._check_small(part)
        try:
            with self.open(part) as fh:
                return fromstring(fh.read())
        except Overrun:
            raise cell_too_long(
                self.name, f"的部件「{part[:60]}」中", self.limits.cell_chars
            ) from None

    def _shared_strings(self, part: str | None) -> list[str]:
        if not part or part not in self.members:
            return []
        self._check_small(part)
        try:
            return self._stream_strings(part)
        except Overrun:
            raise cell_too_long(self.name, "的共享字符串中", self.limits.cell_chars) from None

    def _stream_strings(self, part: str) -> list[str]:
        longest = self.limits.cell_chars
        strings: list[str] = []
        parts: list[str] = []
        phonetic = 0  # inside <rPh>: a reading guide, not part of the cell's text
        with self.open(part) as fh:
            root = None
            for event, el in iterparse(fh, events=("start", "end")):
                tag = local_name(el.tag)
                if event == "start":
                    if tag == "sst":
                        root = el
                    elif tag == "si":
                        parts = []
                    elif tag == "rPh":
                        phonetic += 1
                    continue
                if tag == "t" and not phonetic:
                    parts.append(el.text or "")
                elif tag == "rPh":
                    phonetic -= 1
                elif tag == "si":
                    text = unescape_ooxml("".join(parts))
                    if len(text) > longest:
                        raise Overrun
                    strings.append(text)
                    if root is not None:
                        root.clear()
        return strings

    def _date_styles(self, part: str | None) -> set[int]:
        """Indexes of the cell formats (``s``) that show a number as a date or time."""
        if not part or part not in self.members:
            return set()
        root = self._parse_small(part)
        custom: dict[int, str] = {}
        dates: set[int] = set()
        for el in root.iter():
            if local_name(el.tag) == "numFmt":
                try:
                    custom[int(el.get("numFmtId") or -1)] = el.get("formatCode") or ""
                except ValueError:
                    continue
        for el in root.iter():
            if local_name(el.tag) != "cellXfs":
                continue
            for i, xf in enumerate(x for x in el if local_name(x.tag) == "xf"):
                try:
                    fmt = int(xf.get("numFmtId") or 0)
                except ValueError:
                    continue
                if fmt in custom:
                    if _is_date_code(custom[fmt]):
                        dates.add(i)
                elif fmt in BUILTIN_DATE_FORMATS:
                    dates.add(i)
        return dates

    @property
    def _reading(self) -> tuple[list[str], set[int], bool, int, int]:
        """What every sheet reader takes after the file: the workbook's context and limits."""
        return (self.strings, self.date_styles, self.date1904, self.limits.cell_chars,
                self.limits.columns)  # fmt: skip

    def wide(self, part: str) -> pl.DataFrame | None:
        """A big sheet's wide table (:func:`sgs.intake.bigsheet.fast_wide`), or ``None``: a
        smaller sheet, or one the compiled reader leaves to :meth:`cells`."""
        if self.zf.getinfo(part).file_size < NATIVE_SHEET_BYTES:
            return None
        try:
            with self.open(part, big=True) as fh:
                return fast_wide(fh, *self._reading)
        except (Unsupported, Disordered):
            return None

    def cells(self, part: str) -> pl.DataFrame:
        """A sheet's non-empty cells: vectorised, or element by element when the sheet's XML
        is of a kind the vectorised reader does not parse (:mod:`sgs.intake.sheetxml`)."""
        big = self.zf.getinfo(part).file_size >= NATIVE_SHEET_BYTES
        try:
            with self.open(part, big) as fh:
                return (native_cells if big else fast_cells)(fh, *self._reading)
        except Unsupported:
            with self.open(part) as fh:
                return stream_cells(fh, *self._reading)


def _normpath(path: PurePosixPath) -> str:
    out: list[str] = []
    for piece in path.parts:
        if piece == "..":
            if out:
                out.pop()
        elif piece not in (".", ""):
            out.append(piece)
    return "/".join(out)


def _is_date_code(code: str) -> bool:
    plain = _DATE_CODE.sub("", code).lower()
    if plain in ("general", "@", ""):
        return False
    return any(c in plain for c in "dmyhs") or "[h]" in code.lower()


def xlsx_sheets(path: Path, limits: ReadLimits | None = None) -> Iterator[SheetCells] | None:
    """The sheets of an XLSX package one by one, or ``None`` if the zip is not one (ODS).

    :class:`FileRefused` at once for a zip part over the ratio limit (an ODS too), and for a
    workbook, relationships, styles or shared-strings part over the part limit.
    """
    limits = limits or read_limits()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _corrupt(path.name) from None
    try:
        check_directory(zf, path.name, limits)
    except FileRefused:
        zf.close()
        raise
    members = set(zf.namelist())
    if "xl/workbook.xml" not in members and not any(m.endswith("workbook.xml") for m in members):
        zf.close()
        return None
    try:
        book = _Book(zf, path.name, limits)
    except FileRefused:
        zf.close()
        raise
    except (ParseError, KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError):
        zf.close()
        raise _corrupt(path.name) from None
    return _iter_sheets(zf, book, path)


def _iter_sheets(zf: zipfile.ZipFile, book: _Book, path: Path) -> Iterator[SheetCells]:
    empty = pl.DataFrame(schema={"row": pl.Int64, "col": pl.Int32, "value": pl.String})
    name = path.name
    with zf:
        for sheet, hidden, target, chart in book.sheets:
            if chart or target is None or target not in book.members:
                yield SheetCells(sheet, hidden, empty, chart=True)
                continue
            try:
                wide = book.wide(target)
                cells = empty if wide is not None else book.cells(target)
            except FileRefused:
                raise
            except Overrun:
                raise cell_too_long(
                    name, f"的工作表「{sheet}」中", book.limits.cell_chars
                ) from None
            except Wide:
                raise too_many_columns(name, f"的工作表「{sheet}」", book.limits.columns) from None
            except (ParseError, KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError):
                raise FileRefused(
                    "unreadable",
                    f"文件「{name}」的工作表「{sheet}」已损坏，无法读取，请重新导出后上传。",
                ) from None
            yield SheetCells(sheet, hidden, cells, wide=wide)


# ----------------------------------------------------------------------------- XLS, ODS


def cell_text(value: object) -> str | None:
    """A calamine cell as the text its user sees, without float artefacts.

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
    return str(value)


def _calamine_book(path: Path):
    from python_calamine import CalamineWorkbook

    try:
        # from_filelike sniffs the content; from_path would trust the file name's extension.
        with path.open("rb") as fh:
            return CalamineWorkbook.from_filelike(fh)
    except Exception:
        raise _corrupt(path.name) from None


def _calamine_cells(book, sheet_name: str, file_name: str) -> pl.DataFrame:
    """One sheet through calamine, as sparse cells (only for grids bounded by their content)."""
    rows, cols, values = array("q"), array("i"), []
    try:
        sheet = book.get_sheet_by_name(sheet_name)
        top, left = sheet.start or (0, 0)  # iter_rows starts at the first used cell
        for r, cells in enumerate(sheet.iter_rows(), start=top + 1):
            for c, value in enumerate(cells, start=left + 1):
                text = cell_text(value)
                if text:
                    rows.append(r)
                    cols.append(c)
                    values.append(text)
    except Exception:
        raise FileRefused(
            "unreadable",
            f"文件「{file_name}」的工作表「{sheet_name}」已损坏，无法读取，请重新导出后上传。",
        ) from None
    return pl.DataFrame(
        {
            "row": pl.Series(rows, dtype=pl.Int64),
            "col": pl.Series(cols, dtype=pl.Int32),
            "value": pl.Series(values, dtype=pl.String),
        }
    )


def calamine_sheets(path: Path) -> Iterator[SheetCells]:
    """The sheets of an XLS (or ODS) workbook through calamine, as sparse cells."""
    book = _calamine_book(path)
    try:
        metadata = list(book.sheets_metadata)
    except Exception:
        raise _corrupt(path.name) from None
    empty = pl.DataFrame(schema={"row": pl.Int64, "col": pl.Int32, "value": pl.String})
    for meta in metadata:
        hidden = str(meta.visible).rpartition(".")[2].lower() != "visible"
        chart = str(meta.typ).rpartition(".")[2].lower() != "worksheet"
        frame = empty if chart else _calamine_cells(book, meta.name, path.name)
        yield SheetCells(meta.name, hidden, frame, chart=chart)
