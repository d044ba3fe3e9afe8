"""Worksheet XML to sparse cells by polars string kernels, chunk by chunk (issue 20).

Parsing a sheet element by element costs a Python object per cell: a million-row XLSX took nine
times as long as the CSV of the same rows.  Here the inflated XML is read in chunks of whole rows
(about ``CHUNK_BYTES``) and each chunk becomes (row, col, text) columns in a handful of vectorised
passes: split at every ``<c `` and one anchored regular expression for the attributes and the
value of the usual cell shapes — what Excel, WPS, openpyxl and xlsxwriter write:

    <c r="B7" s="3" t="s"><v>12</v></c>      <c r="C7" t="inlineStr"><is><t>text</t></is></c>
    <c r="D7"><f>SUM(A7:C7)</f><v>6</v></c>  <c r="E7" s="2"/>

The few cells of another shape in a chunk (rich text, a phonetic guide, attributes in another
order) are parsed one by one with ElementTree; a malformed one is a broken sheet.  What this
reader does not know at all — a namespace prefix (``<x:c>``), CDATA, comments or processing
instructions among the rows, a cell or row without its reference, single-quoted attributes —
makes it return ``None`` and the caller streams the sheet element by element instead
(:func:`sgs.intake.celltext.stream_cells`), which handles all of XML.

Two chunks are in flight at once: polars releases the GIL, so one is parsed while the next is
inflated (zlib releases it too).  Big sheets are read by compiled code instead
(:mod:`sgs.intake.bigsheet`), with this module's chunks and value rules.  Memory is a few chunks plus the cells kept; nothing is sized
from what the sheet declares.  The limits are checked per chunk: a run of XML without ``<`` by
the reader's guard, the longest cell and the number of columns holding a value here.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, NamedTuple, TypeVar
from xml.etree.ElementTree import ParseError, fromstring

import polars as pl

from sgs.intake.celltext import (
    MAX_COLUMN,
    Overrun,
    Wide,
    cell_value,
    column_number,
    iso_text,
    number_text,
    serial_text,
    unescape_ooxml,
)

CHUNK_BYTES = 4 << 20
IN_FLIGHT = 2
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_PRESERVE = 't xml:space="preserve">'
_FOREIGN = r"<!|:c |<c[^ ]"  # CDATA or a comment; a prefixed cell; a cell tag without a blank
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
SCHEMA = {"row": pl.Int64, "col": pl.Int32, "value": pl.String}
T = TypeVar("T")


class Unsupported(Exception):
    """The sheet uses XML this reader does not parse (see the module's docstring)."""


def _xml_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m[1]
        if name[0] != "#":
            return _NAMED[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return chr(code)

    return _ENTITY.sub(one, text)


class _Piece(NamedTuple):
    """Whole rows of ``<sheetData>``: ``head + data[:end]``, put together by the parsing
    thread, so that the reading thread copies nothing."""

    head: bytes  # the start of the first row, left from the read before
    data: bytes  # bytes as read
    end: int

    def body(self) -> bytes:
        if not self.head:
            return self.data if self.end == len(self.data) else self.data[: self.end]
        return b"".join((self.head, memoryview(self.data)[: self.end]))


def _chunks(fh: IO[bytes]) -> Iterator[_Piece]:
    """The ``<sheetData>`` of a sheet in pieces of whole rows (cut after a ``</row>``).

    This runs on the reading thread, between the inflating and the parsing threads, so it
    looks at each byte as few times as it can and copies none: the end of ``<sheetData>`` is
    looked for in the new bytes only (and across the seam), the rows cut at the last
    ``</row>`` read, line ends are left to the parsing thread."""
    head = b""
    while True:  # up to <sheetData
        data = fh.read(CHUNK_BYTES)
        buf = head + data
        if b":sheetData" in buf:
            raise Unsupported
        at = buf.find(b"<sheetData")
        if at != -1:
            head, data = b"", buf[at:]
            break
        if not data:
            return  # no sheet data at all (an empty sheet)
        head = buf[-64:]
    while True:
        # The end tag comes after the last row: looked for behind the last </row> only (a
        # search through every byte costs as much as inflating them).
        cut = data.rfind(b"</row>")
        end = data.find(b"</sheetData>", cut + 1)
        if end == -1 and head and b"</sheetData>" in head[-11:] + data[:11]:
            data, head = head + data, b""  # the end tag across the seam: rare, so copied
            cut = data.rfind(b"</row>")
            end = data.find(b"</sheetData>", cut + 1)
        if end != -1:
            yield _Piece(head, data, end)
            return
        if not data:
            if head:
                yield _Piece(head, data, 0)
            return
        if cut == -1:
            head += data  # one row longer than a chunk: read on (the limits bound it)
        else:
            yield _Piece(head, data, cut + 6)
            head = data[cut + 6 :]
        data = fh.read(CHUNK_BYTES)


def _lf(body: bytes) -> bytes:
    """XML reads every line end as LF, as the element reader does."""
    if b"\r" in body:
        body = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return body


class _Context:
    """What a chunk's cells need from the workbook: shared strings, date styles, the epoch."""

    def __init__(self, strings: list[str], date_styles: set[int], date1904: bool) -> None:
        self.strings = pl.Series("strings", strings, dtype=pl.String)
        self.string_list = strings
        self.date_styles = pl.Series(sorted(date_styles), dtype=pl.Int64)
        self.date1904 = date1904


def _nulls(n: int, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    return pl.repeat(None, n, dtype=dtype, eager=True)


def _mapped(values: pl.Series, fn: Callable[[str], str | None]) -> pl.Series:
    """``fn`` over the distinct values only (a column of dates holds a few hundred)."""
    distinct = values.drop_nulls().unique().to_list()
    if not distinct:
        return _nulls(len(values), pl.String)
    mapping = {x: fn(x) for x in distinct}
    return values.replace_strict(mapping, default=None, return_dtype=pl.String)


def _unescaped(values: pl.Series, body: bytes) -> pl.Series:
    if b"&" in body:
        values = _mapped_where(values, "&", _xml_unescape)
    if b"_x" in body:
        values = _mapped_where(values, "_x", unescape_ooxml)
    return values


def _mapped_where(values: pl.Series, mark: str, fn: Callable[[str], str]) -> pl.Series:
    hit = values.str.contains(mark, literal=True).fill_null(False)
    if not hit.any():
        return values
    fixed = _mapped(values.filter(hit), fn)
    out = values.to_frame("v").with_row_index("i")
    patch = out.filter(hit).with_columns(fixed.alias("v"))
    return out.update(patch, on="i")["v"]


def _only(values: pl.Series, mask: pl.Series) -> pl.Series:
    """``values`` where ``mask`` holds, null elsewhere."""
    return values.zip_with(mask.fill_null(False), _nulls(len(values), values.dtype))


def _values(cells: pl.DataFrame, ctx: _Context, body: bytes) -> pl.Series:
    """The text each simple cell shows (null for a cell without a value), as the element by
    element reader gives it (:func:`sgs.intake.celltext.cell_value`)."""
    t = cells["t"].fill_null("n")
    v = cells["v"]
    kinds = set(t.unique().to_list())
    parts: list[tuple[pl.Series, pl.Series]] = []  # (where, text), first match wins
    if "inlineStr" in kinds:
        where = t == "inlineStr"
        parts.append((where, _unescaped(_only(cells["i"], where), body)))
    if "s" in kinds:
        where = t == "s"
        index = _only(v, where).cast(pl.Int64, strict=False)
        index = _only(index, index.is_between(0, len(ctx.strings) - 1))
        parts.append(
            (where, ctx.strings.gather(index) if len(ctx.strings) else _only(v, where & False))
        )
    if kinds & {"str", "e"}:
        where = t.is_in(["str", "e"])
        parts.append((where, _unescaped(_only(v, where), body)))
    if "b" in kinds:
        where = (t == "b") & v.is_not_null() & (v != "")
        flag = v.str.strip_chars().is_in(["1", "true"])
        parts.append(
            (
                where,
                pl.select(
                    pl.when(flag).then(pl.lit("TRUE")).otherwise(pl.lit("FALSE"))
                ).to_series(),
            )
        )
    if "d" in kinds:
        where = t == "d"
        parts.append((where, _mapped(_only(v, where & (v != "")), iso_text)))
    number = ~t.is_in(["inlineStr", "s", "str", "e", "b", "d"])
    if number.any():
        parts.append((number, _numbers(_only(v, number & (v != "")), cells, ctx)))
    out = _nulls(cells.height, pl.String)
    for where, text in reversed(parts):
        out = text.zip_with(where.fill_null(False), out)
    return out


def _numbers(v: pl.Series, cells: pl.DataFrame, ctx: _Context) -> pl.Series:
    """Plain digits lose their leading zeros; other numbers and date-styled ones (a few
    distinct values per column) go through the element reader's own functions."""
    style = cells["s"].cast(pl.Int64, strict=False)
    dated = style.is_in(ctx.date_styles.implode()).fill_null(False) & v.is_not_null()
    digits = (v.str.strip_chars("0123456789") == "").fill_null(False) & ~dated
    plain = v.str.strip_chars_start("0").replace("", "0")
    other = _mapped(_only(v, ~digits & ~dated), number_text)
    out = plain.zip_with(digits, other)
    if dated.any():
        epoch = ctx.date1904
        out = _mapped(_only(v, dated), lambda x: serial_text(x, epoch)).zip_with(dated, out)
    return out


def _complex(pieces: pl.Series, ctx: _Context) -> pl.DataFrame:
    """Cells of another shape, one by one (a handful per chunk at most, in practice)."""
    rows, cols, values = [], [], []
    for piece in pieces.to_list():
        end = piece.find("</c>")
        head_end = piece.find(">")
        if head_end != -1 and piece[head_end - 1] == "/" and (end == -1 or head_end < end):
            xml = "<c " + piece[: head_end + 1]
        elif end == -1:
            raise ParseError("cell without its end")
        else:
            xml = "<c " + piece[: end + 4]
        el = fromstring(xml)
        ref = el.get("r") or ""
        letters = ref.rstrip("0123456789")
        number = ref[len(letters) :]
        if not number.isdigit() or not re.fullmatch(r"[A-Za-z]{1,3}", letters):
            raise Unsupported  # a cell without a usable reference: the streaming reader
        column = column_number(letters)
        if column > MAX_COLUMN:
            raise Unsupported
        text = cell_value(el, ctx.string_list, set(ctx.date_styles.to_list()), ctx.date1904)
        if text:
            rows.append(int(number))
            cols.append(column)
            values.append(text)
    return pl.DataFrame({"row": rows, "col": cols, "value": values}, schema=SCHEMA)


def _shapes() -> list[pl.Expr]:
    """Each cell piece (the text after ``<c ``) split at ``<`` — its head (attributes) first,
    then the tags of its value — and the head at ``"``: literal splits, no regular
    expression; the cell is understood when the fields have one of the usual shapes."""
    head, body = pl.col("head"), pl.col("body")
    n = [head.struct.field(f"field_{i}") for i in range(7)]
    b = [pl.lit("")] + [body.struct.field(f"field_{i}") for i in range(1, 7)]
    names = {" s=", " t="}
    head_ok = (
        (n[0] == "r=")
        & (n[2].is_in(names) | n[2].is_in([">", "/>"]))
        & (n[4].is_null() | n[4].is_in(names) | n[4].is_in([">", "/>"]))
        & (n[6].is_null() | n[6].is_in([">", "/>"]))
    )
    empty = pl.col("raw_head").str.ends_with("/>")

    def attr(name: str) -> pl.Expr:
        return pl.when(n[2] == name).then(n[3]).when(n[4] == name).then(n[5])

    f_open = b[1].str.starts_with("f>") | (b[1].str.starts_with("f ") & ~b[1].str.ends_with("/>"))
    f_self = b[1].str.starts_with("f ") & b[1].str.ends_with("/>")
    v_plain = b[1].str.starts_with("v>") & (b[2] == "/v>") & (b[3] == "/c>")
    v_after_f = (
        f_open & (b[2] == "/f>") & b[3].str.starts_with("v>") & (b[4] == "/v>") & (b[5] == "/c>")
    )
    v_after_self = f_self & b[2].str.starts_with("v>") & (b[3] == "/v>") & (b[4] == "/c>")
    nothing = (
        (b[1] == "/c>")
        | ((b[1] == "v/>") & (b[2] == "/c>"))
        | (f_open & (b[2] == "/f>") & (b[3] == "/c>"))
        | (f_self & (b[2] == "/c>"))
        | ((b[1] == "is>") & (b[2] == "t/>") & (b[3] == "/is>") & (b[4] == "/c>"))
    )
    inline = (
        (b[1] == "is>")
        & (b[2].str.starts_with("t>") | b[2].str.starts_with(_PRESERVE))
        & (b[3] == "/t>")
        & (b[4] == "/is>")
        & (b[5] == "/c>")
    )
    body_ok = v_plain | v_after_f | v_after_self | nothing | inline
    return [
        n[1].alias("ref"),
        attr(" s=").alias("s"),
        attr(" t=").alias("t"),
        pl.when(v_plain)
        .then(b[1])
        .when(v_after_f)
        .then(b[3])
        .when(v_after_self)
        .then(b[2])
        .str.strip_prefix("v>")
        .alias("v"),
        pl.when(inline).then(b[2]).str.strip_prefix(_PRESERVE).str.strip_prefix("t>").alias("i"),
        empty.alias("e"),
        (head_ok & (empty | body_ok)).alias("ok"),
    ]


def _text(body: bytes) -> pl.Series:
    """The chunk as one polars string, its UTF-8 checked natively (Python's decode costs
    more than the splits); ``ValueError`` when it is not UTF-8."""
    try:
        return pl.Series("p", [body], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.InvalidOperationError as exc:
        raise ValueError("sheet XML is not UTF-8") from exc


def _checked(body: bytes) -> tuple[bytes, pl.Series]:
    """A chunk as every reader takes it: line ends as XML reads them, UTF-8 checked."""
    body = _lf(body)
    return body, _text(body)


def chunk_cells(body: bytes, ctx: _Context) -> pl.DataFrame:
    """One chunk of rows -> its non-empty cells (row, col, value), in document order."""
    body, text = _checked(body)
    # Markup this reader does not parse (CDATA, a comment; a cell tag not followed by a blank,
    # or prefixed ``<x:c``) sends the sheet to the element reader.  Checked by polars here,
    # in the worker thread, in one pass of a literal-set regex (a quarter of three literal
    # scans' time).
    if text.str.contains(_FOREIGN).item():
        raise Unsupported
    pieces = text.str.split("<c ").explode().slice(1)
    if pieces.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    split = (
        pieces.to_frame()
        .lazy()
        .select(body=pl.col("p").str.split_exact("<", 6))
        .with_columns(raw_head=pl.col("body").struct.field("field_0"))
        .with_columns(head=pl.col("raw_head").str.split_exact('"', 6))
        .select(_shapes())
        .collect()
    )
    ok = split["ok"]
    cells = split.filter(ok & ~split["e"])
    ref = cells["ref"]
    rows = ref.str.strip_chars_start(_LETTERS).cast(pl.Int64, strict=False)
    if rows.null_count() or ref.null_count():
        raise Unsupported  # a reference of another form: the streaming reader decides
    out = pl.DataFrame(
        {
            "row": rows,
            "col": _columns(ref.str.strip_chars_end("0123456789")),
            "value": _values(cells, ctx, body),
        }
    )
    if not ok.all():
        out = pl.concat([out, _complex(pieces.filter(~ok), ctx)])
        out = out.sort("row", "col", maintain_order=True)
    return out.filter(pl.col("value").is_not_null() & (pl.col("value") != ""))


def _columns(letters: pl.Series) -> pl.Series:
    distinct = letters.unique().to_list()
    if not all(x and len(x) <= 3 and x.isascii() and x.isupper() for x in distinct):
        raise Unsupported  # a reference of another form: the streaming reader decides
    numbers = [column_number(x) for x in distinct]
    if any(n > MAX_COLUMN for n in numbers):
        raise Unsupported  # beyond XFD: the streaming reader keeps such cells loose
    if not numbers:
        return pl.Series(letters.name, [], dtype=pl.Int32)
    # An enum's codes index the distinct letters: a gather, cheaper than a hash replace.
    codes = letters.cast(pl.Enum(distinct)).to_physical()
    return pl.Series(numbers, dtype=pl.Int32).gather(codes)


def _in_turn(fh: IO[bytes], work: Callable[[bytes], T], in_flight: int) -> Iterator[T]:
    """``work`` over the sheet's chunks on a pool of threads, results in the chunks' order:
    ``in_flight`` chunks are parsed while this thread inflates the next."""
    pending: deque[Future[T]] = deque()
    with ThreadPoolExecutor(IN_FLIGHT, thread_name_prefix="sheetxml") as pool:
        try:
            for piece in _chunks(fh):
                pending.append(pool.submit(lambda p: work(p.body()), piece))
                if len(pending) >= in_flight:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def fast_cells(
    fh: IO[bytes],
    strings: list[str],
    date_styles: set[int],
    date1904: bool,
    longest: int,
    widest: int,
    cut: Callable[[bytes], pl.DataFrame] | None = None,
    in_flight: int = IN_FLIGHT,
) -> pl.DataFrame:
    """A sheet's non-empty cells; :class:`Unsupported` when the sheet must be streamed
    element by element, :class:`Overrun` / :class:`Wide` beyond the limits.  ``cut``: how a
    chunk becomes cells, :func:`chunk_cells` unless given (big sheets':
    :func:`sgs.intake.bigsheet.native_cells`)."""
    if cut is None:
        ctx = _Context(strings, date_styles, date1904)
        cut = lambda body: chunk_cells(body, ctx)  # noqa: E731
    frames: list[pl.DataFrame] = []
    seen: set[int] = set()

    def measured(body: bytes) -> tuple[pl.DataFrame, int, list[int]]:
        """A chunk's cells with their longest text and their columns, worked out on the
        parsing thread (the reading thread is the one that waits)."""
        cells = cut(body)
        if cells.is_empty():
            return cells, 0, []
        return cells, _longest([cells["value"]], longest), cells["col"].unique().to_list()

    for cells, size, columns in _in_turn(fh, measured, in_flight):
        if cells.is_empty():
            continue
        if size > longest:
            raise Overrun
        seen.update(columns)
        if len(seen) > widest:
            raise Wide
        frames.append(cells)
    if not frames:
        return pl.DataFrame(schema=SCHEMA)
    return pl.concat(frames, rechunk=False)


def _longest(texts: list[pl.Series], limit: int) -> int:
    """The longest text in characters, where it may pass ``limit`` (bytes bound it below)."""
    size = max((t.str.len_bytes().max() or 0 for t in texts), default=0)
    if size > limit:  # a character is at least a byte
        size = max((t.str.len_chars().max() or 0 for t in texts), default=0)
    return size  # type: ignore[return-value]
