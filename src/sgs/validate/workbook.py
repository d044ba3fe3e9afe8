"""Workbooks as sparse cells: every sheet's non-empty cells with their row and column, and
whether the sheet is hidden.

An XLSX sheet declares its range (``<dimension ref="A1:XFD1048576"/>``) and a stray cell far
away stretches it; a reader that builds the declared grid allocates rows × columns cells (a
cell at ``XFD1048576`` asks for 17 billion).  So the sheet XML is streamed here: only cells that
hold a value are kept, as (row, column, text) triples, and nothing is ever sized from what a
sheet declares.  Memory follows the file's real content.  Cell text follows what the user sees:
numbers without float artefacts (the digits of ``<v>`` are kept exactly), date-formatted
numbers as ISO dates, booleans as TRUE/FALSE, error values as written (``#N/A``).

Legacy XLS (BIFF) goes through calamine, row by row; its grid is bounded by the format itself
(65,536 × 256).  Other zipped spreadsheets (ODS) go the same way.  So does a big XLSX sheet
(``DENSE_READ_BYTES``) once a cheap scan of its XML shows that its real extent is dense — there
the grid is bounded by the content too, and calamine is about 3× faster than streaming.
"""

from __future__ import annotations

import re
import zipfile
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree.ElementTree import ParseError, iterparse

import polars as pl

from sgs.errors import FileRefused

MAX_COLUMN = 16384
# Excel's built-in number formats that show a date or time (ECMA-376 18.8.30, plus the
# East-Asian ones Excel uses for zh-CN).
BUILTIN_DATE_FORMATS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59), *range(71, 82)}
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_REF = re.compile(r"[A-Za-z]{1,3}")
_DATE_CODE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')  # quoted, bracketed, escaped parts
DOCTYPE_SCAN = 4096
# A sheet whose XML is at least this big (about 15,000 rows of 45 columns) and whose real extent
# is dense is read through calamine: its grid is then bounded by the content, and it reads about
# 3× faster than streaming cell by cell in Python.  Smaller sheets are always streamed.
DENSE_READ_BYTES = 20 << 20
_ROW_NUMBER = re.compile(rb' r="[A-Za-z]{0,3}([0-9]+)"')  # <row r="5">, <c r="AB5">
_THREE_LETTERS = re.compile(rb' r="[A-Za-z]{3}[0-9]')  # a cell beyond column ZZ
_TWO_LETTERS = re.compile(rb' r="([A-Za-z]{2})[0-9]')  # cells in columns AA..ZZ


@dataclass
class SheetCells:
    """One sheet: its name, whether hidden, and its non-empty cells (row and column 1-based)."""

    name: str
    hidden: bool
    cells: pl.DataFrame  # row Int64, col Int32, value String
    chart: bool = False


def _corrupt(name: str) -> FileRefused:
    return FileRefused(
        "unreadable", f"文件「{name}」已损坏或不是有效的 Excel 文件，请重新导出后上传。"
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _attr(el: object, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (transitional or strict OOXML)."""
    for key, value in el.attrib.items():  # type: ignore[attr-defined]
        if _local(key) == name:
            return value
    return None


def _unescape(text: str) -> str:
    """OOXML escapes characters XML cannot hold as ``_xHHHH_`` (e.g. ``_x000D_`` for CR)."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def _column(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Book:
    """The parts of an XLSX package the cells need: sheets, shared strings, date styles."""

    def __init__(self, zf: zipfile.ZipFile, name: str) -> None:
        self.zf = zf
        self.name = name
        self.members = set(zf.namelist())
        wb_path = self._office_document()
        rels = self._rels(wb_path)
        root = self._parse_small(wb_path)
        self.date1904 = False
        self.sheets: list[tuple[str, bool, str | None, bool]] = []
        for el in root.iter():
            tag = _local(el.tag)
            if tag == "workbookPr":
                self.date1904 = (_attr(el, "date1904") or "").lower() in ("1", "true")
            elif tag == "sheet":
                state = (_attr(el, "state") or "visible").lower()
                target, kind = rels.get(_attr(el, "id") or "", (None, ""))
                chart = not kind.endswith("/worksheet") if kind else False
                self.sheets.append((_attr(el, "name") or "", state != "visible", target, chart))
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
            if _local(el.tag) == "Relationship" and el.get("TargetMode") != "External":
                target = el.get("Target") or ""
                if target.startswith("/"):
                    resolved = target.lstrip("/")
                else:
                    resolved = _normpath(folder / target)
                out[el.get("Id") or ""] = (resolved, el.get("Type") or "")
        return out

    def open(self, part: str) -> IO[bytes]:
        head = self.zf.open(part).read(DOCTYPE_SCAN)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _corrupt(self.name)  # no spreadsheet needs a DTD; entity tricks are refused
        return self.zf.open(part)

    def _parse_small(self, part: str):
        from xml.etree.ElementTree import fromstring

        with self.open(part) as fh:
            return fromstring(fh.read())

    def _shared_strings(self, part: str | None) -> list[str]:
        if not part or part not in self.members:
            return []
        strings: list[str] = []
        parts: list[str] = []
        phonetic = 0  # inside <rPh>: a reading guide, not part of the cell's text
        with self.open(part) as fh:
            root = None
            for event, el in iterparse(fh, events=("start", "end")):
                tag = _local(el.tag)
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
                    strings.append(_unescape("".join(parts)))
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
            if _local(el.tag) == "numFmt":
                try:
                    custom[int(el.get("numFmtId") or -1)] = el.get("formatCode") or ""
                except ValueError:
                    continue
        for el in root.iter():
            if _local(el.tag) != "cellXfs":
                continue
            for i, xf in enumerate(x for x in el if _local(x.tag) == "xf"):
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

    def cells(self, part: str) -> pl.DataFrame:
        return _sheet_cells(self, part)


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


def _number_text(v: str) -> str:
    """A number cell's text: integral numbers as their digits, others positionally."""
    try:
        d = Decimal(v)
    except InvalidOperation:
        return v
    if not d.is_finite():
        return v
    if d == d.to_integral_value():
        return str(int(d))
    return format(Decimal(repr(float(d))), "f")


def _serial_text(v: str, date1904: bool) -> str:
    """A date-formatted number as the ISO date (or date and time, or time) it shows."""
    try:
        serial = float(v)
    except ValueError:
        return v
    if not -1e7 < serial < 3e6:
        return _number_text(v)
    if date1904:
        base = datetime(1904, 1, 1)
    elif serial < 60:
        base = datetime(1899, 12, 31)  # before Excel's phantom 1900-02-29
    else:
        base = datetime(1899, 12, 30)
    whole = int(serial // 1)
    millis = round((serial - whole) * 86_400_000)  # calamine's precision, so both agree
    if serial < 1:  # a time of day without a date (negative serials show their time too)
        millis %= 86_400_000
        return str(time(millis // 3_600_000, millis // 60_000 % 60, millis // 1000 % 60,
                        millis % 1000 * 1000))  # fmt: skip
    moment = base + timedelta(days=whole, milliseconds=millis)
    if moment.time() == time(0):
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")


def _iso_text(v: str) -> str:
    """A ``t="d"`` cell (ISO 8601 text) as the same date shown by every other reader."""
    try:
        moment = datetime.fromisoformat(v.rstrip("Z"))
    except ValueError:
        return v
    return moment.date().isoformat() if moment.time() == time(0) else moment.isoformat(sep=" ")


def _sheet_cells(book: _Book, part: str) -> pl.DataFrame:
    """Stream one worksheet's XML; keep (row, column, text) of the cells that hold a value.

    The hot loop of the XLSX reader: end events only, tags compared by identity through a
    small cache, cell references split without a regular expression, plain numbers and shared
    strings handled inline.
    """
    rows, cols, values = array("q"), array("i"), []
    pending: list[tuple[int, str]] = []  # cells without a reference: column, text
    strings, date_styles, date1904 = book.strings, book.date_styles, book.date1904
    kinds: dict[str, str] = {}
    columns: dict[str, int] = {}
    row_no = col_no = 0
    digits = "0123456789"
    with book.open(part) as fh:
        for _, el in iterparse(fh):
            tag = el.tag
            kind = kinds.get(tag)
            if kind is None:
                kind = kinds[tag] = _local(tag)
            if kind == "c":
                ref = el.get("r")
                t = el.get("t")
                v = None
                if t is None or t == "n" or t == "s":
                    for child in el:  # <v>, after a formula's <f> if there is one
                        ctag = child.tag
                        ckind = kinds.get(ctag)
                        if ckind is None:
                            ckind = kinds[ctag] = _local(ctag)
                        if ckind == "v":
                            v = child.text
                            break
                    if v is None or v == "":
                        el.clear()
                        continue
                    if t == "s":
                        try:
                            text = strings[int(v)]
                        except (ValueError, IndexError):
                            text = None
                    else:
                        style = el.get("s")
                        if style is not None and style.isdigit() and int(style) in date_styles:
                            text = _serial_text(v, date1904)
                        elif v.isdigit():
                            text = v.lstrip("0") or "0"
                        else:
                            text = _number_text(v)
                else:
                    text = _cell_value(el, strings, date_styles, date1904)
                el.clear()
                if not text:
                    continue
                if ref:
                    letters = ref.rstrip(digits)
                    col = columns.get(letters)
                    if col is None:
                        col = columns[letters] = (
                            _column(letters) if _REF.fullmatch(letters) else MAX_COLUMN + 1
                        )
                    number = ref[len(letters) :]
                    if col <= MAX_COLUMN and number.isdigit():
                        col_no = col
                        rows.append(int(number))
                        cols.append(col)
                        values.append(text)
                        continue
                col_no += 1
                pending.append((col_no, text))
            elif kind == "row":
                r = el.get("r")
                row_no = int(r) if r is not None and r.isdigit() else row_no + 1
                for col, text in pending:
                    rows.append(row_no)
                    cols.append(col)
                    values.append(text)
                pending.clear()
                col_no = 0
                el.clear()
    return pl.DataFrame(
        {
            "row": pl.Series(rows, dtype=pl.Int64),
            "col": pl.Series(cols, dtype=pl.Int32),
            "value": pl.Series(values, dtype=pl.String),
        }
    )


def _cell_value(el, strings: list[str], date_styles: set[int], date1904: bool) -> str | None:
    t = el.get("t") or "n"
    v: str | None = None
    inline: list[str] = []
    for child in el:
        name = _local(child.tag)
        if name == "v":
            v = child.text
        elif name == "is":
            inline.extend(x.text or "" for x in child.iter() if _local(x.tag) == "t")
    if t == "inlineStr":
        return _unescape("".join(inline)) if inline else None
    if v is None or v == "":
        return None
    if t == "s":
        try:
            return strings[int(v)]
        except (ValueError, IndexError):
            return None
    if t in ("str", "e"):
        return _unescape(v)
    if t == "b":
        return "TRUE" if v.strip() in ("1", "true") else "FALSE"
    if t == "d":
        return _iso_text(v)
    s = el.get("s")
    if s and s.isdigit() and int(s) in date_styles:
        return _serial_text(v, date1904)
    return _number_text(v)


def _dense(zf: zipfile.ZipFile, part: str) -> bool:
    """Whether a sheet's real extent (last row × last column of its rows and cells) is at most
    twice its cells plus a million — so that calamine's dense grid stays bounded by what the file holds.

    One pass of C-speed scans over the decompressed XML; every over-estimate only keeps the
    sheet on the streaming path.  A cell beyond column ZZ counts as column 16,384.
    """
    last_row, cells, wide, tail = 0, 0, b"", b""
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(1 << 24)
            buf = tail + chunk
            cut = buf.rfind(b"<") if chunk else len(buf)
            body, tail = buf[:cut], buf[cut:]
            numbers = _ROW_NUMBER.findall(body)
            if numbers:  # the longest, then the greatest: no int() per cell
                longest = max(map(len, numbers))
                last_row = max(last_row, int(max(n for n in numbers if len(n) == longest)))
            cells += body.count(b"<c ") + body.count(b":c ")
            if _THREE_LETTERS.search(body):
                return False
            found = _TWO_LETTERS.findall(body)
            if found:
                wide = max(wide, max(found).upper())
            if not chunk:
                break
    last_col = _column(wide.decode()) if wide else 26
    return last_row * last_col <= 2 * cells + 1_000_000


def xlsx_sheets(path: Path) -> Iterator[SheetCells] | None:
    """The sheets of an XLSX package one by one, or ``None`` if the zip is not one (ODS)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _corrupt(path.name) from None
    members = set(zf.namelist())
    if "xl/workbook.xml" not in members and not any(m.endswith("workbook.xml") for m in members):
        zf.close()
        return None
    try:
        book = _Book(zf, path.name)
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
    dense_book = None
    with zf:
        for sheet, hidden, target, chart in book.sheets:
            if chart or target is None or target not in book.members:
                yield SheetCells(sheet, hidden, empty, chart=True)
                continue
            try:
                if zf.getinfo(target).file_size >= DENSE_READ_BYTES and _dense(zf, target):
                    dense_book = dense_book or _calamine_book(path)
                    yield SheetCells(sheet, hidden, _calamine_cells(dense_book, sheet, name))
                    continue
                cells = book.cells(target)
            except FileRefused:
                raise
            except (ParseError, KeyError, ValueError, zipfile.BadZipFile, OSError, EOFError):
                raise FileRefused(
                    "unreadable",
                    f"文件「{name}」的工作表「{sheet}」已损坏，无法读取，请重新导出后上传。",
                ) from None
            yield SheetCells(sheet, hidden, cells)


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
