"""Big XLSX sheets (issue 20): the compiled scan, the wide table without a pivot, ISA-L.

A sheet of at least ``NATIVE_SHEET_BYTES`` of XML is inflated by ISA-L, scanned by compiled
code and laid out straight into its wide table (:func:`sgs.intake.bigsheet.fast_wide`,
:func:`sgs.intake.sheets.scan_wide`).  Building such a sheet in a test would take minutes, so
these tests run the same code on small workbooks: in process with the chunk size made tiny
(many chunks, rows across their seams) and, end to end, with the size threshold at zero.
The reference is always the path small sheets take — the polars reader's long cells and the
pivot of :func:`sgs.intake.sheets.scan_cells` — itself tested against ElementTree.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from support.upload_files import column_letters, records, table, with_sheet_data, write_xlsx

from sgs.intake import sheetxml, workbook
from sgs.intake.bigsheet import Disordered, fast_wide
from sgs.intake.inflate import open_member
from sgs.intake.limits import read_limits
from sgs.intake.readers import upload_scorer
from sgs.intake.sheets import scan_cells, scan_wide
from sgs.intake.sheetxml import fast_cells


def _header_cells(row: int) -> str:
    """The permit header, written inline, in row ``row``."""
    header = table("permit", records("permit", 1))[0]
    cells = "".join(
        f'<c r="{column_letters(i + 1)}{row}" t="inlineStr"><is><t>{h}</t></is></c>'
        for i, h in enumerate(header)
    )
    return f'<row r="{row}">{cells}</row>'


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


IDEOGRAPHIC_BLANKS = "\u3000\u00a0"
# Rows below a permit header: blank-looking rows (ASCII blanks, U+3000, U+00A0, an entity that
# decodes to a blank, empty strings), dates and decimals (the value rules), shared strings,
# entities, a rich-text cell (parsed alone).
BODY_ROWS = [
    f'<row r="3">{_inline("A3", "甲公司")}<c r="D3" t="s"><v>0</v></c>'
    '<c r="T3" s="1"><v>45992</v></c></row>',
    f'<row r="4">{_inline("A4", "   ")}{_inline("B4", IDEOGRAPHIC_BLANKS)}</row>',
    f'<row r="5">{_inline("A5", "乙&amp;丙")}<c r="O5"><v>0012</v></c>'
    '<c r="P5"><v>1.5</v></c></row>',
    '<row r="6"><c r="A6" t="str"><v>&#32;</v></c></row>',
    f'<row r="7">{_inline("A7", "")}<c r="B7" t="s"><v>1</v></c>{_inline("C7", "己")}</row>',
    f'<row r="9">{_inline("A9", "丁")}<c r="B9" t="inlineStr"><is><r><t>富</t></r>'
    "<r><t>文本</t></r></is></c></row>",
    f'<row r="10">{_inline("A10", "戊")}<c r="C10" t="d"><v>2026-03-01T00:00:00Z</v></c></row>',
]
SHARED = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<si><t>共享</t></si><si><t xml:space="preserve">\u3000</t></si></sst>'
)


def _base(tmp_path: Path) -> Path:
    """A workbook with shared strings and a date style (style 1), written by xlsxwriter."""
    from datetime import datetime

    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "base.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_datetime(0, 0, datetime(2026, 3, 1), book.add_format({"num_format": "yyyy/mm/dd"}))
    sheet.write_string(1, 0, "x")
    book.close()
    return tmp_path / "base.xlsx"


def _workbooks(tmp_path: Path) -> list[Path]:
    sample = write_xlsx(tmp_path / "sample.xlsx", table("permit", records("permit", 400)))
    odd = with_sheet_data(_base(tmp_path), tmp_path / "odd.xlsx",
                     _header_cells(2) + "".join(BODY_ROWS), SHARED)  # fmt: skip
    blank_head = with_sheet_data(_base(tmp_path), tmp_path / "blank_head.xlsx",
                            f'<row r="1">{_inline("A1", "  ")}</row>' + _header_cells(2)
                            + "".join(BODY_ROWS[2:5]), SHARED)  # fmt: skip
    return [sample, odd, blank_head]


def _both(path: Path) -> list[tuple[object, object]]:
    """Each sheet's scan by the small sheets' path and by the big sheets' wide path."""
    limits = read_limits()
    score = upload_scorer()
    out = []
    with zipfile.ZipFile(path) as zf:
        book = workbook._Book(zf, path.name, limits)
        args = (book.strings, book.date_styles, book.date1904, limits.cell_chars, limits.columns)
        for name, _, target, _ in book.sheets:
            with zf.open(target) as fh:
                long = scan_cells(fast_cells(fh, *args), score, name)
            with open_member(zf, target) as fh:
                wide = scan_wide(fast_wide(fh, *args), score, name)
            out.append((long, wide))
    return out


@pytest.mark.parametrize("chunk", [4 << 20, 700], ids=["one chunk", "many chunks"])
def test_the_wide_path_finds_the_same_table_as_the_pivot(tmp_path, monkeypatch, chunk):
    """A sample of 400 permits, a sheet of odd rows (blank-looking ones, dates, decimals,
    entities, shared strings, rich text) and one with a blank row above the header: the wide
    table laid out by compiled code holds the same header, rows, columns and cells as the
    pivot of the long cells, read in one chunk or in chunks of 700 bytes."""
    monkeypatch.setattr(sheetxml, "CHUNK_BYTES", chunk)
    for path in _workbooks(tmp_path):
        for long, wide in _both(path):
            assert (long.rows, long.hidden) == (wide.rows, wide.hidden), path.name
            a, b = long.table, wide.table
            assert (a is None) == (b is None), path.name
            assert (a.header, a.positions, a.header_row, a.first_data_row, a.blank_rows,
                    a.score) == (b.header, b.positions, b.header_row, b.first_data_row,
                                 b.blank_rows, b.score), path.name  # fmt: skip
            assert a.rows.to_list() == b.rows.to_list(), path.name
            assert a.body.equals(b.body), (path.name, a.body, b.body)


def test_odd_rows_are_read_as_the_element_reader_reads_them(tmp_path, monkeypatch):
    """Hand-worked cells of the odd sheet, by the wide path: blank-looking rows are no rows
    (row 4 of blanks, row 6 whose only text is an entity for a blank); an empty string is
    no cell, a blank shared string is kept in a row with text; a date-styled serial shows as
    a date; leading zeros go; rich text is joined."""
    monkeypatch.setattr(sheetxml, "CHUNK_BYTES", 700)
    path = _workbooks(tmp_path)[1]
    [(_, wide)] = _both(path)
    body = wide.table.body
    cells = {
        (r, wide.table.positions[j]): v
        for j, column in enumerate(body.columns)
        for r, v in zip(wide.table.rows.to_list(), body[column].to_list(), strict=True)
        if v is not None
    }
    assert wide.table.rows.to_list() == [3, 5, 7, 9, 10]
    assert cells[(3, 0)] == "甲公司" and cells[(3, 19)] == "2025-12-01" and cells[(3, 3)] == "共享"
    assert cells[(5, 0)] == "乙&丙" and cells[(5, 14)] == "12" and cells[(5, 15)] == "1.5"
    assert (7, 0) not in cells and cells[(7, 1)] == "\u3000" and cells[(7, 2)] == "己"
    assert cells[(9, 1)] == "富文本" and cells[(10, 2)] == "2026-03-01"


def test_rows_out_of_order_across_chunks_leave_the_sheet_to_the_long_path(tmp_path, monkeypatch):
    """A row that comes after a later one in another chunk: the wide path declines
    (``Disordered``), and the sheet is read by the long path, which sorts (the last of a cell
    written twice counts); the table is the one the long path finds."""
    monkeypatch.setattr(sheetxml, "CHUNK_BYTES", 700)
    rows = _header_cells(1) + "".join(
        f'<row r="{r}">{_inline(f"A{r}", f"单位{r}")}{_inline(f"O{r}", f"文书{r}")}</row>'
        for r in [2, 3, 4, 30, 31, 5, 6, 31]
    )
    path = with_sheet_data(_base(tmp_path), tmp_path / "disordered.xlsx", rows)
    limits = read_limits()
    with zipfile.ZipFile(path) as zf:
        book = workbook._Book(zf, path.name, limits)
        args = (book.strings, book.date_styles, book.date1904, limits.cell_chars, limits.columns)
        with open_member(zf, "xl/worksheets/sheet1.xml") as fh, pytest.raises(Disordered):
            fast_wide(fh, *args)
    monkeypatch.setattr(workbook, "NATIVE_SHEET_BYTES", 0)
    [sheet] = list(workbook.xlsx_sheets(path))
    assert sheet.wide is None
    found = scan_cells(sheet.cells, upload_scorer(), sheet.name)
    assert found.table.rows.to_list() == [2, 3, 4, 5, 6, 30, 31]


def test_isal_inflates_the_bytes_zipfile_does_and_refuses_a_damaged_member(tmp_path):
    """The ISA-L reader gives a member's bytes exactly as ``zipfile`` does, in reads of any
    size; a member whose data is damaged, or whose CRC in the directory is wrong, is a
    ``BadZipFile`` (as with ``zipfile``), never wrong bytes."""
    path = write_xlsx(tmp_path / "sample.xlsx", table("permit", records("permit", 300)))
    part = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(path) as zf:
        expected = zf.read(part)
        for size in (1, 1000, 1 << 16, -1):
            with open_member(zf, part) as fh:
                got = b""
                while piece := fh.read(size):
                    got += piece
                    if size == -1:
                        break
            assert got == expected
        info = zf.getinfo(part)
    raw = path.read_bytes()
    start = info.header_offset + 30 + len(part.encode())
    damaged = bytearray(raw)
    for at in range(start + 200, start + 260):
        damaged[at] ^= 0x5A
    (tmp_path / "damaged.xlsx").write_bytes(damaged)
    crc = bytearray(raw)
    central = raw.find(b"PK\x01\x02")  # the central directory entry of the sheet
    while raw[central + 46 : central + 46 + len(part)] != part.encode():
        central = raw.find(b"PK\x01\x02", central + 4)
    crc[central + 16] ^= 0xFF  # its CRC-32
    crc[info.header_offset + 14] ^= 0xFF  # and the local header's
    (tmp_path / "crc.xlsx").write_bytes(crc)
    for name in ("damaged.xlsx", "crc.xlsx"):
        with (
            zipfile.ZipFile(tmp_path / name) as zf,
            open_member(zf, part) as fh,
            pytest.raises(zipfile.BadZipFile),
        ):
            while fh.read(1 << 16):
                pass


def test_a_big_sheets_validation_is_the_small_sheets(tmp_path, monkeypatch):
    """End to end in process, ``validate_file`` of ``sgs sample``'s permit XLSX with defects:
    with every sheet taken as big (ISA-L, compiled scan, wide table) the JSON report —
    verdicts, problems, sheets — is byte for byte the small sheets' path's; a damaged big
    sheet is refused in Chinese."""
    import subprocess
    import sys

    from sgs.errors import FileRefused
    from sgs.report.validation import validation_json
    from sgs.validate.pipeline import validate_file

    sgs = Path(sys.executable).with_name("sgs")
    path = tmp_path / "defects.xlsx"
    subprocess.run([str(sgs), "sample", "permit", "600", "--out", str(path), "--defects", "0.3",
                    "--seed", "3"], check=True, capture_output=True)  # fmt: skip
    small = validation_json(path.name, validate_file(path, None, None, None))
    monkeypatch.setattr(workbook, "NATIVE_SHEET_BYTES", 0)
    big = validation_json(path.name, validate_file(path, None, None, None))
    assert big == small
    assert b'"errors": 0' not in small  # the defects are found: not an empty report twice
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    at = info.header_offset + 30 + len(info.filename) + 300
    for i in range(at, at + 50):
        raw[i] ^= 0x33
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(raw)
    with pytest.raises(FileRefused) as refused:
        validate_file(broken, None, None, None)
    assert "损坏" in str(refused.value)


def test_the_compiled_code_finds_a_cache_folder_when_neither_usual_one_can_be_written(tmp_path):
    """numba keeps compiled code in the module's ``__pycache__`` or the user's cache folder
    and refuses to compile when neither can be written (a read-only install run by a user
    without a home): every big sheet would then be unreadable.  Here both are made
    impossible (``__pycache__`` is a file, HOME is a file) and a copy of the module still
    scans a chunk, keeping its code under the temporary folder."""
    import os
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "pkg"
    folder.mkdir()
    shutil.copy(Path(sheetxml.__file__).with_name("sheetscan.py"), folder / "sheetscan.py")
    (folder / "__pycache__").write_text("not a folder")
    (tmp_path / "home").write_text("not a folder")
    (tmp_path / "tmp").mkdir()
    script = (
        "import importlib.util, numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('scan_copy', {str(folder / 'sheetscan.py')!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        'buf = np.frombuffer(b\'<sheetData><row r="1"><c r="B1"><v>7</v></c></row>\', np.uint8)\n'
        "a = [np.empty(9, t) for t in (np.int64, np.int32, np.int32, np.uint8, np.uint8)]\n"
        "b = [np.empty((9, 2), np.int64), np.empty(9, np.int64)] + [np.empty((9, 2), np.int64)] * 3\n"
        "k = m.scan(buf, np.zeros(0, np.bool_), *a, *b)\n"
        "print(k, a[0][0], a[1][0])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env |= {"HOME": str(tmp_path / "home"), "TMPDIR": str(tmp_path / "tmp")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["1", "1", "2"]
    assert list((tmp_path / "tmp" / "sgs-numba-cache").rglob("*.nbi"))
