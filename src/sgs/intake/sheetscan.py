"""Compiled code for big XLSX sheets (issue 20): one pass over the XML, no pivot.

The polars reader (:mod:`sgs.intake.sheetxml`) looks at every cell's markup in a dozen
vectorised passes and :func:`sgs.intake.sheets.scan_cells` pivots the cells into columns by
hashing each of them: at a million rows (18 million cells, 1.4 GB of XML) about seven times
the time of the CSV of the same rows.  Here, for sheets of at least
:data:`sgs.intake.bigsheet.NATIVE_SHEET_BYTES` of XML, loops compiled by numba do it:

- :func:`scan` walks a chunk once and writes, per cell, its row, column, style, type, how its
  text is found (``fixes``) and byte spans: of the text itself (an inline string, a plain
  ``<v>``), of a shared string's index, or of the ``<v>``/``<t>`` that the polars reader's
  value rules must decide (dates, decimals, entities, booleans);
- :func:`lay_out` writes those texts straight into Arrow columns, one per spreadsheet column,
  one row per distinct row — the wide table the header search reads — and marks the rows
  holding something other than white space;
- :func:`gather` copies spans into an Arrow string column where long cells are wanted.

The scan understands exactly the cell shapes the polars reader does — attributes in any order,
``<v>``, ``<f>`` (skipped), ``<is><t>`` — and hands any other cell on as a *complex* piece
(the text after its ``<c ``, as the polars reader cuts it) to be parsed by ElementTree.  What
neither parses (CDATA, comments, a prefixed tag, a ``<c`` without a blank, a reference of
another form) makes it return ``UNSUPPORTED``, and the sheet is read element by element.

Why numba: the per-cell passes are the cost, and no package on the registry offers a
streaming XML-to-Arrow reader.  Its import costs 1-1.5 s and 100+ MiB per process (the first
compile on a machine about ten seconds more, then cached in ``__pycache__``), hence the size
threshold.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _cache_folder() -> None:
    """Somewhere numba can keep the compiled code.  It tries this module's ``__pycache__``,
    then the user's cache folder, and when neither can be written (a read-only install run
    by a user without a home) it refuses to compile at all — which would make every big
    sheet unreadable.  Then a folder under the temporary directory is named for it."""
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    here = Path(__file__).parent / "__pycache__"
    try:
        here.mkdir(exist_ok=True)
        tempfile.TemporaryFile(dir=here).close()
    except OSError:
        try:
            home_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
            home_cache.mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=home_cache).close()
        except (OSError, RuntimeError):
            os.environ["NUMBA_CACHE_DIR"] = str(Path(tempfile.gettempdir()) / "sgs-numba-cache")


_cache_folder()

import numba  # noqa: E402 (after its cache folder is settled)
import numpy as np  # noqa: E402

UNSUPPORTED = -1
FULL = -2  # the arrays are too short for the chunk's cells: call again with longer ones
COMPLEX = 255
AS_IS, SHARED, RULES = 0, 1, 2
# t="…" as a code: absent, s, inlineStr, str, e, b, d, n, anything else.
T_NAMES = ("n", "s", "inlineStr", "str", "e", "b", "d", "n", "?")

_LT, _GT, _SLASH, _QUOTE, _EQ, _BLANK = 60, 62, 47, 34, 61, 32
_V_OPEN = np.frombuffer(b"<v>", np.uint8)
_V_CLOSE = np.frombuffer(b"</v>", np.uint8)
_V_EMPTY = np.frombuffer(b"<v/>", np.uint8)
_C_CLOSE = np.frombuffer(b"</c>", np.uint8)
_F_CLOSE = np.frombuffer(b"</f>", np.uint8)
_IS_OPEN = np.frombuffer(b"<is>", np.uint8)
_IS_CLOSE = np.frombuffer(b"</is>", np.uint8)
_T_OPEN = np.frombuffer(b"<t>", np.uint8)
_T_PRESERVE = np.frombuffer(b'<t xml:space="preserve">', np.uint8)
_T_EMPTY = np.frombuffer(b"<t/>", np.uint8)
_T_IS_CLOSE = np.frombuffer(b"</t></is>", np.uint8)


@numba.njit(nogil=True, cache=True, inline="always")
def _blank(b: int) -> bool:
    return b == 32 or b == 9 or b == 10 or b == 13


@numba.njit(nogil=True, cache=True)
def _at(buf, p, lit) -> bool:
    if p + len(lit) > len(buf):
        return False
    for j in range(len(lit)):  # noqa: SIM110 (numba compiles loops, not generators)
        if buf[p + j] != lit[j]:
            return False
    return True


@numba.njit(nogil=True, cache=True, inline="always")
def _text_end(buf, p) -> int:
    """Where a value's text starting at ``p`` ends: its next ``<`` (or a ``>``, which the
    scan leaves to ElementTree)."""
    n = len(buf)
    while p < n and buf[p] != _LT and buf[p] != _GT:
        p += 1
    return p


@numba.njit(nogil=True, cache=True)
def _next_cell(buf, p) -> int:
    """Where the next ``<c `` starts (the end when none); ``UNSUPPORTED`` when markup the
    readers do not parse comes first (``<!``, ``<?``, ``<c`` without a blank, a prefix)."""
    n = len(buf)
    while p < n:
        if buf[p] == _LT and p + 1 < n:
            c1 = buf[p + 1]
            if c1 == 33 or c1 == 63:
                return UNSUPPORTED
            if c1 == 99:
                if p + 2 < n and buf[p + 2] == _BLANK:
                    return p
                return UNSUPPORTED
            q = p + 1
            while q < n and buf[q] != _GT and not _blank(buf[q]):
                if buf[q] == 58:  # ':' in a tag's name: a namespace prefix
                    return UNSUPPORTED
                q += 1
        p += 1
    return n


@numba.njit(nogil=True, cache=True)
def _marked(buf, start, end) -> bool:
    """Whether the text holds an entity (``&``) or an OOXML escape (``_x``)."""
    for p in range(start, end):
        b = buf[p]
        if b == 38 or (b == 95 and p + 1 < end and buf[p + 1] == 120):
            return True
    return False


@numba.njit(nogil=True, cache=True)
def _digits(buf, start, end) -> int:
    """The number 1-9 plain digits spell, else -1."""
    if end <= start or end - start > 9:
        return -1
    n = 0
    for p in range(start, end):
        b = buf[p]
        if b < 48 or b > 57:
            return -1
        n = n * 10 + (b - 48)
    return n


@numba.njit(nogil=True, cache=True)
def _all_digits(buf, start, end) -> bool:
    if end <= start:
        return False
    for p in range(start, end):  # noqa: SIM110 (numba compiles loops, not generators)
        if buf[p] < 48 or buf[p] > 57:
            return False
    return True


@numba.njit(nogil=True, cache=True)
def _t_code(buf, vs, ve) -> int:
    size = ve - vs
    first = buf[vs] if size else 0
    if size == 1:
        if first == 115:
            return 1  # s
        if first == 101:
            return 4  # e
        if first == 98:
            return 5  # b
        if first == 100:
            return 6  # d
        if first == 110:
            return 7  # n
    if size == 9 and first == 105 and buf[vs + 1] == 110 and buf[vs + 6] == 83:
        return 2  # inlineStr
    if size == 3 and first == 115 and buf[vs + 1] == 116 and buf[vs + 2] == 114:
        return 3  # str
    return 8


@numba.njit(nogil=True, cache=True)
def scan(
    buf, dated, rows, cols, styles, types, fixes, direct, shared, values, inline, pieces
) -> int:
    """Cells of one chunk of whole rows into the given arrays; returns how many, or
    ``UNSUPPORTED``, or ``FULL`` when the arrays cannot hold them all.  ``dated[s]``: style ``s`` shows a date.

    Per cell: ``fixes`` says how its text is found — ``AS_IS``: the bytes of its ``direct``
    span (an inline string or a ``<v>`` without ``&`` or ``_x``, plain digits without their
    leading zeros); ``SHARED``: the shared string ``shared``; ``RULES``: the value rules of
    :func:`sgs.intake.sheetxml._values` over its type, style and ``values``/``inline`` spans
    (numbers with a point or exponent, dates, booleans, entities, odd indices).  A complex
    cell has type ``COMPLEX`` and a ``pieces`` span.  Spans are (start, end), -1 for none.
    Cells without a value are left out."""
    n = len(buf)
    p = _next_cell(buf, 0)
    if p < 0:
        return UNSUPPORTED
    k = 0
    while p < n:
        p += 3
        start = p
        row = -1
        col = -1
        style = -1
        code = 0
        odd = False
        empty = False
        while True:  # the attributes
            while p < n and _blank(buf[p]):
                p += 1
            if p >= n:
                return UNSUPPORTED
            b = buf[p]
            if b == _SLASH:
                if p + 1 < n and buf[p + 1] == _GT:
                    p += 2
                    empty = True
                else:
                    odd = True
                break
            if b == _GT:
                p += 1
                break
            ns = p
            while p < n and buf[p] != _EQ and buf[p] != _GT and not _blank(buf[p]):
                p += 1
            ne = p
            if p + 1 >= n or buf[p] != _EQ or buf[p + 1] != _QUOTE:
                odd = True  # single quotes, blanks around '=', …: ElementTree decides
                break
            p += 2
            vs = p
            while p < n and buf[p] != _QUOTE:
                p += 1
            if p >= n:
                return UNSUPPORTED
            ve = p
            p += 1
            if ne - ns != 1:
                continue  # another attribute: no bearing on the value
            name = buf[ns]
            if name == 114:  # r: 1-3 capital letters, then the row's digits
                q = vs
                c = 0
                while q < ve and q - vs < 3 and 65 <= buf[q] <= 90:
                    c = c * 26 + (buf[q] - 64)
                    q += 1
                d0 = q
                r = 0
                while q < ve and q - d0 < 9 and 48 <= buf[q] <= 57:
                    r = r * 10 + (buf[q] - 48)
                    q += 1
                if d0 == vs or q == d0 or q != ve or c > 16384:
                    return UNSUPPORTED  # a reference of another form: the element reader
                row = r
                col = c
            elif name == 115:  # s
                s = 0
                q = vs
                while q < ve and q - vs < 9 and 48 <= buf[q] <= 57:
                    s = s * 10 + (buf[q] - 48)
                    q += 1
                style = s if (q == ve and ve > vs) else -1
            elif name == 116:  # t
                code = _t_code(buf, vs, ve)
        v0 = v1 = i0 = i1 = -1
        if not odd and not empty:
            while True:  # the children, up to </c>
                if p >= n or buf[p] != _LT:
                    odd = True
                    break
                if _at(buf, p, _C_CLOSE):
                    p += 4
                    break
                if v0 < 0 and _at(buf, p, _V_OPEN):
                    p += 3
                    v0 = p
                    p = v1 = _text_end(buf, p)
                    if not _at(buf, p, _V_CLOSE):
                        odd = True
                        break
                    p += 4
                elif _at(buf, p, _V_EMPTY):
                    p += 4
                elif (
                    p + 2 < n and buf[p + 1] == 102 and (buf[p + 2] == _GT or buf[p + 2] == _BLANK)
                ):
                    while p < n and buf[p] != _GT:  # a formula: skipped
                        p += 1
                    if p >= n:
                        odd = True
                        break
                    p += 1
                    if buf[p - 2] != _SLASH:
                        while p < n and buf[p] != _LT:
                            p += 1
                        if not _at(buf, p, _F_CLOSE):
                            odd = True
                            break
                        p += 4
                elif i0 < 0 and _at(buf, p, _IS_OPEN):
                    p += 4
                    if _at(buf, p, _T_EMPTY):
                        p += 4
                        if not _at(buf, p, _IS_CLOSE):
                            odd = True
                            break
                        p += 5
                        continue
                    if _at(buf, p, _T_OPEN):
                        p += 3
                    elif _at(buf, p, _T_PRESERVE):
                        p += len(_T_PRESERVE)
                    else:
                        odd = True  # rich text, a phonetic guide
                        break
                    i0 = p
                    p = i1 = _text_end(buf, p)
                    if not _at(buf, p, _T_IS_CLOSE):
                        odd = True
                        break
                    p += 9
                else:
                    odd = True
                    break
        if k >= len(rows):
            return FULL
        if odd:
            end = _next_cell(buf, p)
            if end < 0:
                return UNSUPPORTED
            types[k] = COMPLEX
            fixes[k] = RULES
            direct[k, 0] = -1
            pieces[k, 0] = start
            pieces[k, 1] = end
            values[k, 0] = -1
            inline[k, 0] = -1
            rows[k] = row
            cols[k] = col
            styles[k] = -1
            k += 1
            p = end
            continue
        fix = AS_IS
        d0 = d1 = -1
        if code == 2:  # inlineStr: the inline text only
            d0, d1 = i0, i1
            if d0 >= 0 and _marked(buf, d0, d1):
                fix = RULES
        elif v0 < 0 or v1 == v0:
            d0 = -1  # no value, or an empty one
        elif code == 1:  # s
            index = _digits(buf, v0, v1)
            if index >= 0:
                fix = SHARED
                shared[k] = index
            else:
                fix = RULES
        elif code == 3 or code == 4:  # str, e
            d0, d1 = v0, v1
            if _marked(buf, d0, d1):
                fix = RULES
        elif code == 5 or code == 6 or (0 <= style < len(dated) and dated[style]):  # b, d
            fix = RULES
        elif _all_digits(buf, v0, v1):
            d0, d1 = v0, v1
            while d0 < d1 - 1 and buf[d0] == 48:  # leading zeros go, "000" stays "0"
                d0 += 1
        else:
            fix = RULES  # a point, an exponent, a sign: number_text
        if not empty and (d0 >= 0 or fix != AS_IS):
            rows[k] = row
            cols[k] = col
            styles[k] = style
            types[k] = code
            fixes[k] = fix
            direct[k, 0] = d0
            direct[k, 1] = d1
            values[k, 0] = v0
            values[k, 1] = v1
            inline[k, 0] = i0
            inline[k, 1] = i1
            pieces[k, 0] = -1
            k += 1
        p = _next_cell(buf, p)
        if p < 0:
            return UNSUPPORTED
    return k


@numba.njit(nogil=True, cache=True)
def gather(buf, spans, k, offsets, valid):
    """The bytes of ``spans[:k]`` laid end to end, with Arrow offsets and validity."""
    total = 0
    for j in range(k):
        if spans[j, 0] >= 0:
            total += spans[j, 1] - spans[j, 0]
    data = np.empty(total, np.uint8)
    at = 0
    offsets[0] = 0
    for j in range(k):
        s = spans[j, 0]
        valid[j] = s >= 0
        if s >= 0:
            e = spans[j, 1]
            data[at : at + e - s] = buf[s:e]
            at += e - s
        offsets[j + 1] = at
    return data


@numba.njit(nogil=True, cache=True)
def _visible(text, start, end) -> bool:
    """Whether UTF-8 ``text[start:end]`` holds a character that is not white space (Unicode's
    White_Space, what polars' ``strip_chars`` strips: ASCII blanks and controls 9-13, U+0085,
    U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000)."""
    p = start
    while p < end:
        b = text[p]
        if b < 0x80:
            if b != 32 and not 9 <= b <= 13:
                return True
            p += 1
        elif b == 0xC2 and p + 1 < end and (text[p + 1] == 0x85 or text[p + 1] == 0xA0):
            p += 2
        elif (
            (b == 0xE1 and p + 2 < end and text[p + 1] == 0x9A and text[p + 2] == 0x80)
            or (
                b == 0xE2
                and p + 2 < end
                and (
                    (
                        text[p + 1] == 0x80
                        and (text[p + 2] <= 0x8A or text[p + 2] in (0xA8, 0xA9, 0xAF))
                    )
                    or (text[p + 1] == 0x81 and text[p + 2] == 0x9F)
                )
            )
            or (b == 0xE3 and p + 2 < end and text[p + 1] == 0x80 and text[p + 2] == 0x80)
        ):
            p += 3
        else:
            return True
    return False


@numba.njit(nogil=True, cache=True)
def lay_out(buf, rows, cols, slots, fixes, direct, shared, shared_offsets, shared_data, width):
    """A chunk's scanned cells (none complex) as ``width`` Arrow string columns, one row per
    distinct row: the wide table the header search and the checks read, built without the
    long (row, column, value) table and its pivot.

    A cell's text is its ``direct`` span (``AS_IS``) or shared string ``shared`` (``SHARED``);
    ``RULES`` cells are left null here for the caller to fill (``index`` says their row).
    Empty texts are null, as the long table leaves them out.  ``filled`` marks the rows with a
    laid-out text that is not all white space (a row of ``RULES`` cells only is the caller's
    to judge).  ``longest``: the most bytes a laid-out text has.  Returns ``None`` when the cells
    are not in strictly increasing (row, column) order — a cell written twice or out of order,
    which the long path settles.  Each column is written front to back (a pivot without
    hashing): per slot its offsets (a row of ``starts``), validity, and the region
    ``bases[s]:bases[s + 1]`` of one data buffer."""
    n = len(rows)
    count = len(shared_offsets) - 1
    height = 0
    sizes = np.zeros(width, np.int64)
    for j in range(n):
        if j == 0 or rows[j] != rows[j - 1]:
            if j > 0 and rows[j] < rows[j - 1]:
                return None
            height += 1
        elif cols[j] <= cols[j - 1]:
            return None
        if fixes[j] == AS_IS:
            sizes[slots[j]] += direct[j, 1] - direct[j, 0]
        elif fixes[j] == SHARED and shared[j] < count:
            sizes[slots[j]] += shared_offsets[shared[j] + 1] - shared_offsets[shared[j]]
    bases = np.zeros(width + 1, np.int64)
    for s in range(width):
        bases[s + 1] = bases[s] + sizes[s]
    cursor = bases[:width].copy()
    numbers = np.empty(height, np.int64)
    filled = np.zeros(height, np.bool_)  # a cell laid out here shows something
    index = np.empty(n, np.int32)
    starts = np.empty((width, height + 1), np.int64)
    valid = np.zeros((width, height), np.bool_)
    data = np.empty(bases[width], np.uint8)
    longest = 0
    r = -1
    for j in range(n):
        if j == 0 or rows[j] != rows[j - 1]:
            r += 1
            numbers[r] = rows[j]
        index[j] = r
        s = slots[j]
        at = cursor[s]
        if fixes[j] == AS_IS:
            if not filled[r]:
                filled[r] = _visible(buf, direct[j, 0], direct[j, 1])
            for a in range(direct[j, 0], direct[j, 1]):
                data[at] = buf[a]
                at += 1
        elif fixes[j] == SHARED and shared[j] < count:
            a0, a1 = shared_offsets[shared[j]], shared_offsets[shared[j] + 1]
            if not filled[r]:
                filled[r] = _visible(shared_data, a0, a1)
            for a in range(a0, a1):
                data[at] = shared_data[a]
                at += 1
        if at > cursor[s]:
            valid[s, r] = True
            longest = max(longest, at - cursor[s])
        cursor[s] = at
        starts[s, r + 1] = at - bases[s]
    for s in range(width):  # rows without a cell in the column: empty and null
        starts[s, 0] = 0
        for i in range(height):
            if not valid[s, i]:
                starts[s, i + 1] = starts[s, i]
    return numbers, filled, index, starts, valid, bases, data, longest
