"""Big XLSX sheets: compiled code cuts the chunks and lays them out, no pivot (issue 20).

A sheet of at least :data:`NATIVE_SHEET_BYTES` of XML (about 90,000 rows of 28 columns) is
inflated by ISA-L (:mod:`sgs.intake.inflate`), cut into cells by one compiled pass per chunk
(:func:`sgs.intake.sheetscan.scan`) and written straight into its wide table — a column per
spreadsheet column, a row per row that shows something (:func:`fast_wide`,
:func:`sgs.intake.sheetscan.lay_out`) — instead of the polars reader's long cells and their
pivot, which hashes every cell.  The chunks, the value rules for dates, decimals and entities,
the complex cells and the limits are :mod:`sgs.intake.sheetxml`'s own.  Below the threshold
numba's import (1-1.5 s and 100+ MiB a process) would cost more than it saves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import polars as pl

from sgs.intake.celltext import Overrun, Wide
from sgs.intake.sheetxml import (
    Unsupported,
    _checked,
    _complex,
    _Context,
    _in_turn,
    _longest,
    _nulls,
    _only,
    _values,
    fast_cells,
)

NATIVE_SHEET_BYTES = 128 << 20
IN_FLIGHT = 4  # the reading thread keeps inflating while both cores parse


class _BigContext(_Context):
    """The workbook's context, plus what the compiled code reads: which styles show a date,
    and the shared strings as Arrow buffers."""

    def __init__(self, strings: list[str], date_styles: set[int], date1904: bool) -> None:
        import numpy as np
        import pyarrow as pa

        super().__init__(strings, date_styles, date1904)
        self.dated = np.array(
            [s in date_styles for s in range(max(date_styles, default=-1) + 1)], np.bool_
        )
        text = pa.array(strings, pa.large_string())
        _, offsets, data = text.buffers()
        self.shared_offsets = np.frombuffer(offsets, np.int64)[: len(text) + 1].copy()
        self.shared_data = np.frombuffer(data, np.uint8).copy() if data else np.empty(0, np.uint8)


_SCRATCH = threading.local()


def _scratch(size: int) -> tuple:
    """The compiled scan's output arrays, kept per parsing thread and grown when a chunk
    needs more: fresh ones for every chunk cost more in page faults (kernel time) than the
    scan itself."""
    import numpy as np

    arrays = getattr(_SCRATCH, "arrays", None)
    if arrays is None or len(arrays[0]) < size:
        n = max(size, 1 << 19)
        arrays = (
            *(np.empty(n, t) for t in (np.int64, np.int32, np.int64, np.int32, np.uint8, np.uint8)),
            *(np.empty((n, 2), np.int64) for _ in range(4)),
        )
        _SCRATCH.arrays = arrays
    return arrays


class _Scan:
    """One chunk as the compiled scan left it (:func:`sgs.intake.sheetscan.scan`)."""

    def __init__(self, body: bytes, ctx: _BigContext) -> None:
        import numpy as np

        from sgs.intake import sheetscan

        self.body, self.ctx = body, ctx
        self.buf = buf = np.frombuffer(body, np.uint8)
        dated = ctx.dated
        room = len(buf) // 11 + 1  # a usual cell takes 11 bytes at least (``<c r="A1"/>``)
        while True:
            arrays = _scratch(room)
            rows, cols, shared, styles, types, fixes, direct, values, inline, pieces = arrays
            k = sheetscan.scan(buf, dated, rows, cols, styles, types, fixes, direct, shared,
                               values, inline, pieces)  # fmt: skip
            if k != sheetscan.FULL:
                break
            room = len(buf) // 4 + 1  # odd cells as short as ``<c x>``: one per 5 bytes at most
        if k == sheetscan.UNSUPPORTED:
            raise Unsupported
        # Views of the scratch arrays: used before this thread scans its next chunk.
        (self.rows, self.cols, self.shared, self.styles, self.types, self.fixes, self.direct,
         self.values, self.inline, self.pieces) = (x[:k] for x in arrays)  # fmt: skip
        self.odd = self.types == sheetscan.COMPLEX
        self.ruled = np.flatnonzero((self.fixes == sheetscan.RULES) & ~self.odd)

    def strings(self, spans) -> pl.Series:  # spans: a numpy array
        """The bytes of (start, end) spans of the chunk as a string column (-1: null)."""
        import numpy as np
        import pyarrow as pa

        from sgs.intake import sheetscan

        n = len(spans)
        offsets, valid = np.empty(n + 1, np.int64), np.empty(n, np.bool_)
        data = sheetscan.gather(self.buf, spans, n, offsets, valid)
        mask = np.packbits(valid, bitorder="little")
        buffers = [pa.py_buffer(mask), pa.py_buffer(offsets), pa.py_buffer(data)]
        return pl.Series(pa.Array.from_buffers(pa.large_string(), n, buffers))

    def ruled_values(self) -> pl.Series:
        """The text of the cells the value rules decide (dates, decimals, entities, …)."""
        import numpy as np

        from sgs.intake import sheetscan

        names = pl.Series(sheetscan.T_NAMES, dtype=pl.String)
        cells = pl.DataFrame(
            {
                "t": names.gather(np.minimum(self.types[self.ruled], len(names) - 1)),
                "s": pl.Series(self.styles[self.ruled]).replace(-1, None),
                "v": self.strings(self.values[self.ruled]),
                "i": self.strings(self.inline[self.ruled]),
            }
        )
        return _values(cells, self.ctx, self.body)

    def long(self) -> pl.DataFrame:
        """The chunk's non-empty cells (row, col, value), as :func:`chunk_cells` gives them."""
        import numpy as np

        from sgs.intake import sheetscan

        ctx = self.ctx
        value = self.strings(self.direct)
        if (taken := np.flatnonzero(self.fixes == sheetscan.SHARED)).size:
            index = pl.Series(self.shared[taken])
            text = ctx.strings.gather(_only(index, index < len(ctx.strings))) if len(ctx.strings) \
                else _nulls(len(index), pl.String)  # fmt: skip
            value = value.scatter(taken, text)
        if self.ruled.size:
            value = value.scatter(self.ruled, self.ruled_values())
        out = pl.DataFrame({"row": self.rows.copy(), "col": self.cols.copy(), "value": value})
        if self.odd.any():
            complex_ = _complex(self.strings(self.pieces[np.flatnonzero(self.odd)]), ctx)
            out = pl.concat([out.filter(~self.odd), complex_])
            out = out.sort("row", "col", maintain_order=True)
        return out.filter(pl.col("value").is_not_null() & (pl.col("value") != ""))

    def wide(self) -> pl.DataFrame:
        """The chunk as a wide table: ``row``, then a column per spreadsheet column number
        (named by it) holding the texts, null where a row has no cell; only rows with a
        non-blank cell, in order.  A chunk with complex cells, or cells out of order, is
        pivoted from its long cells (the last of a cell written twice counts)."""
        import numpy as np
        import pyarrow as pa

        from sgs.intake import sheetscan

        laid = None
        self.longest: int | None = None  # bytes of the longest text, when laid out here
        if not self.odd.any() and len(self.rows):
            present = np.flatnonzero(np.bincount(self.cols))
            slot = np.zeros(int(present[-1]) + 1, np.int64)
            slot[present] = np.arange(len(present))
            slots = slot[self.cols]
            offsets, data = self.ctx.shared_offsets, self.ctx.shared_data
            laid = sheetscan.lay_out(self.buf, self.rows, self.cols, slots, self.fixes,
                                     self.direct, self.shared, offsets, data, len(present))  # fmt: skip
        if laid is None:
            cells = self.long()
            if cells.is_empty():
                return pl.DataFrame(schema={"row": pl.Int64})
            cells = cells.unique(["row", "col"], keep="last", maintain_order=True)
            wide = cells.sort("row", "col").pivot(
                on="col", index="row", values="value", sort_columns=False
            )
            return _filled(wide, None)
        numbers, filled, index, starts, valid, bases, data, self.longest = laid
        height = len(numbers)
        columns = {}
        for s, col in enumerate(present.tolist()):
            buffers = [
                pa.py_buffer(np.packbits(valid[s], bitorder="little")),
                pa.py_buffer(starts[s]),
                pa.py_buffer(data[bases[s] : bases[s + 1]]),
            ]
            text = pa.Array.from_buffers(pa.large_string(), height, buffers)
            columns[str(col)] = pl.Series(str(col), text)
        if self.ruled.size:
            ruled = pl.DataFrame(
                {"r": index[self.ruled], "s": slots[self.ruled], "v": self.ruled_values()}
            ).filter(pl.col("v").is_not_null() & (pl.col("v") != ""))
            self.longest = max(self.longest, ruled["v"].str.len_bytes().max() or 0)  # type: ignore[type-var]
            for (s,), part in ruled.partition_by("s", as_dict=True).items():
                name = str(present[s])
                columns[name] = columns[name].scatter(part["r"], part["v"])
        wide = pl.DataFrame([pl.Series("row", numbers), *columns.values()])
        if filled.all():
            return wide
        if not self.ruled.size:  # nothing laid out later: the other rows are blank
            return wide.filter(pl.Series(filled))
        return _filled(wide, pl.Series(filled))


def _filled(wide: pl.DataFrame, known: pl.Series | None) -> pl.DataFrame:
    """Only the rows with a cell that is not all white space; ``known`` rows are such rows
    already (the compiled layout saw them), polars looks at the others."""
    if wide.width == 1:
        return wide.clear()

    def seen(frame: pl.DataFrame) -> pl.Series:
        return frame.select(
            pl.any_horizontal(
                (pl.col(c).str.strip_chars() != "").fill_null(False) for c in frame.columns[1:]
            )
        ).to_series()

    if known is None:
        return wide.filter(seen(wide))
    others = (~known).arg_true()
    return wide.filter(known.scatter(others, seen(wide[others])))


class Disordered(Exception):
    """A chunk's rows do not all come after the previous chunk's: the long path settles it."""


def fast_wide(
    fh: IO[bytes],
    strings: list[str],
    date_styles: set[int],
    date1904: bool,
    longest: int,
    widest: int,
) -> pl.DataFrame:
    """A big sheet straight into its wide table (:meth:`_Scan.wide`): ``row``, then a column
    per spreadsheet column number, only rows with a non-blank cell — what
    :func:`sgs.intake.sheets.scan_cells` would pivot the long cells into, without them.
    Raises as :func:`fast_cells` does, and :class:`Disordered` for rows out of order across
    chunks."""
    ctx = _BigContext(strings, date_styles, date1904)
    frames: list[pl.DataFrame] = []
    seen: set[str] = set()
    last = -1

    def measured(body: bytes) -> tuple[pl.DataFrame, int]:
        body, _ = _checked(body)
        scan = _Scan(body, ctx)
        wide = scan.wide()
        texts = [wide[c] for c in wide.columns[1:]]
        if scan.longest is not None and scan.longest <= longest:  # a character is a byte or more
            return wide, scan.longest
        return wide, _longest(texts, longest)

    with _collector_paused():
        for wide, size in _in_turn(fh, measured, IN_FLIGHT):
            if wide.is_empty():
                continue
            if size > longest:
                raise Overrun
            seen.update(wide.columns[1:])
            if len(seen) > widest:
                raise Wide
            rows = wide["row"]
            if rows.min() <= last:  # type: ignore[operator]
                raise Disordered
            last = rows.max()  # type: ignore[assignment]
            frames.append(wide)
    if not frames:
        return pl.DataFrame(schema={"row": pl.Int64})
    return pl.concat(frames, how="diagonal", rechunk=False)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a big sheet is read: the chunks' frames make
    thousands of small objects, and each full collection walks the whole heap (numba's and
    polars' objects included) — seconds of a million-row read, with the GIL held.  Nothing
    read here makes a cycle; the collector's state is restored after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def native_cells(
    fh: IO[bytes],
    strings: list[str],
    date_styles: set[int],
    date1904: bool,
    longest: int,
    widest: int,
) -> pl.DataFrame:
    """A big sheet's long cells, cut by the compiled scan (a sheet :func:`fast_wide` leaves:
    rows out of order across chunks)."""
    ctx = _BigContext(strings, date_styles, date1904)

    def cut(body: bytes) -> pl.DataFrame:
        body, _ = _checked(body)
        return _Scan(body, ctx).long()

    with _collector_paused():
        return fast_cells(fh, strings, date_styles, date1904, longest, widest, cut, IN_FLIGHT)
