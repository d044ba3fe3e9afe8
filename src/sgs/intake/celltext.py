"""A cell's text as the office sees it, and the element-by-element reader of sheet XML.

Every XLSX reader here gives a cell the same text: numbers without float artefacts (the digits
of ``<v>`` kept exactly), date-formatted numbers as ISO dates, booleans as TRUE/FALSE, error
values as written (``#N/A``), OOXML's ``_xHHHH_`` escapes undone.  :func:`stream_cells` is the
reader that handles all of XML (namespace prefixes, cells without a reference, CDATA) through
``iterparse``; the vectorised reader (:mod:`sgs.intake.sheetxml`) uses the same functions for
the values it does not handle itself, so both agree cell for cell.
"""

from __future__ import annotations

import re
from array import array
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import IO
from xml.etree.ElementTree import iterparse

import polars as pl

MAX_COLUMN = 16384
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_REF = re.compile(r"[A-Za-z]{1,3}")


class Overrun(Exception):
    """A part holds a run of XML text longer than any cell Excel can hold."""


class Wide(Exception):
    """A sheet holds values in more columns than ``columns_limit``."""


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def attribute(el: object, name: str) -> str | None:
    """An attribute by its local name, whatever its namespace (transitional or strict OOXML)."""
    for key, value in el.attrib.items():  # type: ignore[attr-defined]
        if local_name(key) == name:
            return value
    return None


def unescape_ooxml(text: str) -> str:
    """OOXML escapes characters XML cannot hold as ``_xHHHH_`` (e.g. ``_x000D_`` for CR)."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def number_text(v: str) -> str:
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


def serial_text(v: str, date1904: bool) -> str:
    """A date-formatted number as the ISO date (or date and time, or time) it shows."""
    try:
        serial = float(v)
    except ValueError:
        return v
    if not -1e7 < serial < 3e6:
        return number_text(v)
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


def iso_text(v: str) -> str:
    """A ``t="d"`` cell (ISO 8601 text) as the same date shown by every other reader."""
    try:
        moment = datetime.fromisoformat(v.rstrip("Z"))
    except ValueError:
        return v
    return moment.date().isoformat() if moment.time() == time(0) else moment.isoformat(sep=" ")


def stream_cells(
    fh: IO[bytes],
    strings: list[str],
    date_styles: set[int],
    date1904: bool,
    longest: int,
    widest: int,
) -> pl.DataFrame:
    """Stream one worksheet's XML; keep (row, column, text) of the cells that hold a value.

    The hot loop of the XLSX reader: end events only, tags compared by identity through a
    small cache, cell references split without a regular expression, plain numbers and shared
    strings handled inline.
    """
    rows, cols, values = array("q"), array("i"), []
    pending: list[tuple[int, str]] = []  # cells without a reference: column, text
    kinds: dict[str, str] = {}
    columns: dict[str, int] = {}  # column letters of the cells holding a value
    loose: set[int] = set()  # columns of the cells without a reference
    row_no = col_no = 0
    digits = "0123456789"
    for _, el in iterparse(fh):
        tag = el.tag
        kind = kinds.get(tag)
        if kind is None:
            kind = kinds[tag] = local_name(tag)
        if kind == "c":
            ref = el.get("r")
            t = el.get("t")
            v = None
            if t is None or t == "n" or t == "s":
                for child in el:  # <v>, after a formula's <f> if there is one
                    ctag = child.tag
                    ckind = kinds.get(ctag)
                    if ckind is None:
                        ckind = kinds[ctag] = local_name(ctag)
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
                        text = serial_text(v, date1904)
                    elif v.isdigit():
                        text = v.lstrip("0") or "0"
                    else:
                        text = number_text(v)
            else:
                text = cell_value(el, strings, date_styles, date1904)
            el.clear()
            if not text:
                continue
            if len(text) > longest:
                raise Overrun
            if ref:
                letters = ref.rstrip(digits)
                col = columns.get(letters)
                if col is None:
                    col = columns[letters] = (
                        column_number(letters) if _REF.fullmatch(letters) else MAX_COLUMN + 1
                    )
                    if len(columns) + len(loose) > widest:
                        raise Wide
                number = ref[len(letters) :]
                if col <= MAX_COLUMN and number.isdigit():
                    col_no = col
                    rows.append(int(number))
                    cols.append(col)
                    values.append(text)
                    continue
            col_no += 1
            if col_no not in loose:
                loose.add(col_no)
                if len(columns) + len(loose) > widest:
                    raise Wide
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


def cell_value(el, strings: list[str], date_styles: set[int], date1904: bool) -> str | None:
    t = el.get("t") or "n"
    v: str | None = None
    inline: list[str] = []
    for child in el:
        name = local_name(child.tag)
        if name == "v":
            v = child.text
        elif name == "is":
            inline.extend(x.text or "" for x in child.iter() if local_name(x.tag) == "t")
    if t == "inlineStr":
        return unescape_ooxml("".join(inline)) if inline else None
    if v is None or v == "":
        return None
    if t == "s":
        try:
            return strings[int(v)]
        except (ValueError, IndexError):
            return None
    if t in ("str", "e"):
        return unescape_ooxml(v)
    if t == "b":
        return "TRUE" if v.strip() in ("1", "true") else "FALSE"
    if t == "d":
        return iso_text(v)
    s = el.get("s")
    if s and s.isdigit() and int(s) in date_styles:
        return serial_text(v, date1904)
    return number_text(v)
