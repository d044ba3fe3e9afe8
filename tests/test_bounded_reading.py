"""Hostile files are refused unread in bounded time and memory (issue 20, items 1 and 2).

Every bomb is built here, in the test's temporary folder, never stored in the repository: a
zip-bomb cell, a workbook part of blanks (a smaller one, with the part limit lowered through its
``SGS_<NAME>`` override), a part of a huge compression ratio, a cell over Excel's 32,767
characters (inline and shared), a CSV data row of a million cells, a CSV header of a million
columns, a workbook of more than 1,000 columns.  Each goes through ``sgs validate`` as a user runs
it (exit 2, the reason code, a Chinese message), measured as its own process (``wait4``: wall
time and peak RSS of that process alone), and the main ones through ``sgs ingest`` (quarantined,
the quarantine row with the reason).  The bounds are generous for a busy CI machine: "refused
within 30 s under 1 GiB", against the minutes and gigabytes these files took before.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from support import warm_sgs
from support.upload_files import (
    RECEIVED,
    codes,
    column_letters,
    csv_bytes,
    names,
    records,
    table,
    write_xlsx,
)

SGS = Path(sys.executable).with_name("sgs")
if not SGS.exists():  # pragma: no cover - running outside the project's venv
    SGS = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sgs"
UNIT = "111404000448224608"  # 长治市行政审批服务管理局 in config/units.csv
CJK = re.compile(r"[\u4e00-\u9fff]")
RAW_PARSER_TEXT = re.compile(r"ComputeError|SchemaError|polars|Traceback|Error:|zipfile", re.I)
MIB = 1 << 20
GIB = 1 << 30
SECONDS = 30  # a refusal within this, on a busy CI machine (the files took minutes before)
LIMIT_ENV = ("SGS_WORKBOOK_RATIO_LIMIT", "SGS_WORKBOOK_PART_LIMIT_MIB", "SGS_CELL_CHARS_LIMIT",
             "SGS_COLUMNS_LIMIT", "SGS_SETTINGS_FILE")  # fmt: skip


# The process that measures: a small Python that forks the command and reports the child's own
# peak RSS.  Linux starts a forked child's high-water mark at its parent's RSS and keeps it
# across ``exec`` — a command forked straight from a test worker that has grown to 1 GiB would
# report 1 GiB whatever it used (seen: every refusal "1062 MiB" after a heavy test on the same
# worker).  Forked from this launcher instead, the command starts from a few MiB.
MEASURED = r"""
import os, signal, sys
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.waitstatus_to_exitcode(status))
"""


def run(cwd: Path, *args: str, **env: str) -> tuple[int, str, str, float, int]:
    """One ``sgs`` process: exit code, stdout, stderr, wall seconds and its own peak RSS (bytes).

    ``wait4`` in the launcher gives the usage of that child alone (``RUSAGE_CHILDREN`` would be
    the maximum over every child of the test run).  A process still running after four times
    the bound is killed with its launcher, so a regression fails instead of hanging CI.
    """
    environ = {k: v for k, v in os.environ.items() if k not in LIMIT_ENV}
    environ |= {"SGS_DATA_DIR": str(cwd / "data"), **env}
    with tempfile.TemporaryDirectory() as scratch:
        peak = Path(scratch) / "maxrss"
        out, err = Path(scratch) / "out", Path(scratch) / "err"
        launcher = [sys.executable, "-S", "-c", MEASURED, str(peak), str(SGS), *args]
        start = time.perf_counter()
        with out.open("wb") as stdout, err.open("wb") as stderr:
            proc = subprocess.Popen(launcher, cwd=cwd, env=environ, stdout=stdout,
                                    stderr=stderr, start_new_session=True)  # fmt: skip
            try:
                proc.wait(timeout=4 * SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        wall = time.perf_counter() - start
        rss = int(peak.read_text()) * 1024 if peak.exists() else 0
        stdout_text, stderr_text = out.read_text(), err.read_text()
    assert "Traceback" not in stderr_text, stderr_text[-3000:]
    return proc.returncode, stdout_text, stderr_text, wall, rss


def refused(path: Path, code: str, **env: str) -> str:
    """``sgs validate`` refuses the file with ``code``, quickly, in bounded memory, in Chinese."""
    rc, out, err, wall, rss = run(path.parent, "validate", path.name, "--json", **env)
    assert rc == 2, (rc, out[:2000], err[:2000])
    obj = json.loads(out)
    assert obj["refused"]["code"] == code, obj["refused"]
    message = obj["refused"]["message"]
    for text in (message, err):
        assert CJK.search(text) and not RAW_PARSER_TEXT.search(text), text
    assert wall < SECONDS, f"refused after {wall:.1f} s"
    assert rss < GIB, f"peak RSS {rss / MIB:.0f} MiB"
    return message


def quarantined(path: Path, code: str, **env: str) -> None:
    """``sgs ingest`` quarantines the file with ``code``: exit 1, the quarantine row, the copy."""
    root = path.parent / "data"
    rc, out, err, wall, rss = run(
        path.parent, "ingest", path.name, "--unit", UNIT, "--received", RECEIVED, "--json", **env
    )
    assert rc == 1, (rc, out[:2000], err[:2000])
    result = json.loads(out.strip().splitlines()[-1])
    assert (result["status"], result["reason"]) == ("quarantined", code), result
    assert wall < SECONDS and rss < GIB, (wall, rss / MIB)
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT file_name, reason_code, message FROM quarantine").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(path.name, code)], rows
    assert CJK.search(rows[0][2]) and not RAW_PARSER_TEXT.search(rows[0][2])
    assert list((root / "quarantine").rglob(f"*_{path.name}"))  # the copy, kept


def workbook(tmp_path: Path, n: int = 3) -> Path:
    return write_xlsx(tmp_path / "base.xlsx", table("permit", records("permit", n)))


def shared_workbook(tmp_path: Path) -> Path:
    """A workbook whose text cells are shared strings, as Excel saves them."""
    import xlsxwriter

    path = tmp_path / "shared.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(table("permit", records("permit", 3))):
        for c, value in enumerate(row):
            sheet.write_string(r, c, str(value))
    book.close()
    return path


def rezip(
    src: Path, dst: Path, edit: dict[str, bytes], extra: dict[str, bytes] | None = None
) -> Path:
    """``src`` with the parts of ``edit`` replaced and ``extra`` parts added, all deflated."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = edit.get(item.filename) or zin.read(item.filename)
            zout.writestr(item.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def with_cell(src: Path, dst: Path, cell: str) -> Path:
    """``src`` with one more row holding ``cell`` (XML) at the end of its first sheet."""
    with zipfile.ZipFile(src) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b"</sheetData>", f'<row r="100">{cell}</row></sheetData>'.encode())
    return rezip(src, dst, {"xl/worksheets/sheet1.xml": sheet})


# ----------------------------------------------------------------------------- zip bombs


def _bomb_cell(src: Path, dst: Path, size: int) -> Path:
    """``src`` whose first sheet ends with one inline cell of ``size`` letters, deflated as it
    is written (the test never holds the cell in memory either)."""
    with zipfile.ZipFile(src) as z:
        sheet = z.read("xl/worksheets/sheet1.xml")
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    head, tail = sheet.split(b"</sheetData>")
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                zout.writestr(name, data)
        with zout.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(head + b'<row r="100"><c r="A100" t="inlineStr"><is><t>')
            block = b"A" * MIB
            for _ in range(size // MIB):
                fh.write(block)
            fh.write(b"</t></is></c></row></sheetData>" + tail)
    return dst


def test_the_peak_measured_is_the_command_s_own_not_the_test_worker_s(tmp_path):
    """A test worker grown past 1 GiB (as a heavy test before leaves it) does not lend its size
    to the command it starts: the refusal of a small workbook still measures tens of MiB."""
    ballast = bytearray(GIB + 128 * MIB)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # touch every page
    try:
        path = _bomb_cell(workbook(tmp_path), tmp_path / "炸弹.xlsx", 64 * MIB)
        rc, _, _, _, rss = run(tmp_path, "validate", path.name, "--json")
    finally:
        del ballast
    assert rc == 2
    assert 0 < rss < 512 * MIB, f"peak RSS {rss / MIB:.0f} MiB"


def test_zip_bomb_cell_is_refused_by_its_compression_ratio(tmp_path):
    """A small file whose one cell inflates to 256 MiB (the measured case: 1.1 MB to 1.1 GB)."""
    path = _bomb_cell(workbook(tmp_path), tmp_path / "炸弹.xlsx", 256 * MIB)
    assert path.stat().st_size < 4 * MIB
    message = refused(path, "compression_ratio")
    assert "xl/worksheets/sheet1.xml" in message and "500" in message
    quarantined(path, "compression_ratio")


def test_zip_bomb_cell_past_a_raised_ratio_limit_stops_while_streaming(tmp_path):
    """With the ratio check out of the way, the cell is still never held: the stream stops at
    the first chunk past the longest cell Excel can hold, long before its 256 MiB."""
    path = _bomb_cell(workbook(tmp_path), tmp_path / "炸弹.xlsx", 256 * MIB)
    message = refused(path, "cell_too_long", SGS_WORKBOOK_RATIO_LIMIT="100000")
    assert "32,767" in message and "Sheet1" in message


def test_part_of_a_huge_ratio_is_refused_whatever_part_it_is(tmp_path):
    """Any part counts, also one sgs never reads (a thumbnail of zeros)."""
    path = rezip(workbook(tmp_path), tmp_path / "缩略图.xlsx", {},
                 {"docProps/thumbnail.jpeg": bytes(64 * MIB)})  # fmt: skip
    assert "docProps/thumbnail.jpeg" in refused(path, "compression_ratio")


def test_blank_workbook_part_is_refused_by_its_ratio(tmp_path):
    """The measured case: the workbook part padded with a gigabyte of blanks (here 64 MiB)."""
    base = workbook(tmp_path)
    with zipfile.ZipFile(base) as z:
        book = z.read("xl/workbook.xml")
    padded = book.replace(b"<sheets>", b"<sheets>" + b" " * (64 * MIB))
    path = rezip(base, tmp_path / "空白.xlsx", {"xl/workbook.xml": padded})
    assert "xl/workbook.xml" in refused(path, "compression_ratio")


def _noise(size: int, seed: int = 1) -> bytes:
    """Blanks that do not compress much (spaces, tabs, line ends at random): 4–5:1."""
    return bytes(random.Random(seed).choices(b" \t\r\n", k=size))


def test_big_workbook_part_is_refused_before_it_is_read(tmp_path):
    """A workbook part over the part limit (lowered to 1 MiB for a 3 MiB part, as the default
    32 MiB stands to a gigabyte): refused from the zip directory, nothing inflated."""
    base = workbook(tmp_path)
    with zipfile.ZipFile(base) as z:
        book = z.read("xl/workbook.xml")
    # 3 MiB of blanks in runs of 1 KiB between empty elements (one run of 3 MiB would be
    # refused by the run guard as well, whatever the part limit).
    blanks = b"".join(_noise(1024, i) + b"<extLst/>" for i in range(3 * 1024))
    padded = book.replace(b"<sheets>", blanks + b"<sheets>")
    path = rezip(base, tmp_path / "大部件.xlsx", {"xl/workbook.xml": padded})
    message = refused(path, "part_too_large", SGS_WORKBOOK_PART_LIMIT_MIB="1")
    assert "xl/workbook.xml" in message and "1 MiB" in message
    quarantined(path, "part_too_large", SGS_WORKBOOK_PART_LIMIT_MIB="1")
    # Under the default limit the same file is read (blanks between elements are XML).
    rc, out, _, _, _ = run(tmp_path, "validate", path.name, "--json")
    assert rc == 0 and json.loads(out)["rows"] == 3


def test_big_shared_strings_part_is_refused(tmp_path):
    base = shared_workbook(tmp_path)
    with zipfile.ZipFile(base) as z:
        strings = z.read("xl/sharedStrings.xml")
    padded = strings.replace(b"</sst>", _noise(3 * MIB) + b"</sst>")
    path = rezip(base, tmp_path / "共享.xlsx", {"xl/sharedStrings.xml": padded})
    assert "sharedStrings" in refused(path, "part_too_large", SGS_WORKBOOK_PART_LIMIT_MIB="1")


# ----------------------------------------------------------------------------- long cells


@pytest.mark.parametrize("chars", [32_768, 40_000])
def test_inline_cell_over_excel_limit_is_refused(tmp_path, chars):
    cell = f'<c r="B100" t="inlineStr"><is><t>{"长" * chars}</t></is></c>'
    path = with_cell(workbook(tmp_path), tmp_path / "长单元格.xlsx", cell)
    assert "32,767" in refused(path, "cell_too_long")


def test_cell_of_exactly_excel_limit_is_read(tmp_path):
    cell = f'<c r="B100" t="inlineStr"><is><t>{"长" * 32_767}</t></is></c>'
    path = with_cell(workbook(tmp_path), tmp_path / "长单元格.xlsx", cell)
    rc, out, err, _, _ = run(tmp_path, "validate", path.name, "--json")
    assert rc == 1, err  # read: the row with the long cell has errors, the file is not refused
    assert json.loads(out)["rows"] == 4


def test_shared_string_over_excel_limit_is_refused(tmp_path):
    base = shared_workbook(tmp_path)
    with zipfile.ZipFile(base) as z:
        strings = z.read("xl/sharedStrings.xml")
    long = f"<si><t>{'x' * 32_768}</t></si>".encode()
    path = rezip(base, tmp_path / "长共享.xlsx",
                 {"xl/sharedStrings.xml": strings.replace(b"</sst>", long + b"</sst>")})  # fmt: skip
    assert "共享字符串" in refused(path, "cell_too_long")
    quarantined(path, "cell_too_long")


def test_cell_limit_is_a_setting(tmp_path):
    cell = '<c r="B100" t="inlineStr"><is><t>abcdefghijk</t></is></c>'
    path = with_cell(workbook(tmp_path), tmp_path / "设置.xlsx", cell)
    assert "10 个字符" in refused(path, "cell_too_long", SGS_CELL_CHARS_LIMIT="10")


# ----------------------------------------------------------------------------- wide rows


def _header_line(kind: str = "permit") -> bytes:
    return csv_bytes([table(kind, [])[0]]).rstrip(b"\r\n")


def test_csv_data_row_of_a_million_cells_is_refused(tmp_path):
    """The measured case: a 2 MB CSV whose one data row has 1,000,000 cells (no answer in 600 s)."""
    record = csv_bytes(table("permit", records("permit", 2))[1:2]).rstrip()
    lines = [_header_line(), record, b",".join([b"1"] * 1_000_000)]
    path = tmp_path / "宽行.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    assert "1,000" in refused(path, "too_many_columns")
    quarantined(path, "too_many_columns")


def test_csv_header_of_a_million_columns_is_refused(tmp_path):
    """The measured case: a 9 MB CSV with a 1,000,000-column header (507 s, 1.86 GB)."""
    header = _header_line() + b"," + b",".join(b"X%d" % i for i in range(1_000_000))
    body = csv_bytes(table("permit", records("permit", 3))[1:])
    path = tmp_path / "宽表头.csv"
    path.write_bytes(header + b"\r\n" + body)
    assert path.stat().st_size > 7 * MIB
    refused(path, "too_many_columns")
    quarantined(path, "too_many_columns")


def test_csv_header_beyond_the_first_1000_cells_is_refused(tmp_path):
    """The standard's columns after 1,000 empty-named ones: not searched for, refused."""
    header = b",".join(b"X%d" % i for i in range(1_000)) + b"," + _header_line()
    path = tmp_path / "表头靠后.csv"
    path.write_bytes(header + b"\r\n" + csv_bytes(table("permit", records("permit", 2))[1:]))
    message = refused(path, "too_many_columns")
    assert "前 1,000 列中没有找到" in message


def test_csv_padded_with_empty_cells_is_read(tmp_path):
    """Empty cells do not count: an export padding every row with commas up to column 2,000."""
    lines = [line + b"," * 2_000 for line in
             [_header_line(), *csv_bytes(table("permit", records("permit", 3))[1:]).splitlines()]]  # fmt: skip
    path = tmp_path / "补齐.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    rc, out, err, _, _ = run(tmp_path, "validate", path.name, "--json")
    assert rc == 0, err
    assert json.loads(out)["rows"] == 3


def test_csv_of_exactly_the_column_limit_is_read(tmp_path):
    n = len(codes("permit"))
    header = _header_line() + b"," + b",".join(b"X%d" % i for i in range(1_000 - n))
    path = tmp_path / "一千列.csv"
    path.write_bytes(header + b"\r\n" + csv_bytes(table("permit", records("permit", 2))[1:]))
    rc, out, err, _, _ = run(tmp_path, "validate", path.name, "--json")
    assert rc == 0, err
    assert len(json.loads(out)["unknown_columns"]) == 1_000 - n


def test_workbook_of_more_than_1000_columns_is_refused(tmp_path):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("宽")
    head = list(names("permit").values())
    sheet.append(head + [f"X{i}" for i in range(1_001 - len(head))])
    for rec in table("permit", records("permit", 2))[1:]:
        sheet.append(list(rec) + ["v"] * (1_001 - len(head)))
    path = tmp_path / "宽表.xlsx"
    book.save(path)
    assert "「宽」" in refused(path, "too_many_columns")
    quarantined(path, "too_many_columns")
    # The limit is a setting: raised, the same file is read.
    rc, _, err, _, _ = run(tmp_path, "validate", path.name, "--json", SGS_COLUMNS_LIMIT="2000")
    assert rc == 0, err


def test_workbook_of_a_million_cells_in_a_row_is_refused_while_streaming(tmp_path):
    """A row of 1,000,000 cells: the stream stops at the 1,001st column."""
    cells = "".join(f'<c r="{column_letters(i)}200"><v>1</v></c>' for i in range(1, 16_385))
    path = with_cell(workbook(tmp_path), tmp_path / "宽行.xlsx", cells)
    refused(path, "too_many_columns")


def test_a_stray_far_cell_is_one_column_not_16384(tmp_path):
    """Columns are counted by the cells holding a value: a stray cell at XFD is one column more
    (tests/test_hostile_files.py reads such a file), not 16,384."""
    path = with_cell(workbook(tmp_path), tmp_path / "远.xlsx",
                     '<c r="XFD100" t="inlineStr"><is><t>x</t></is></c>')  # fmt: skip
    rc, out, err, _, _ = run(tmp_path, "validate", path.name, "--json")
    assert rc == 1, err
    assert len(json.loads(out)["unknown_columns"]) == 1


# ----------------------------------------------------------------------------- the scorer


def test_header_search_does_not_touch_the_filesystem_per_cell(monkeypatch):
    """Scoring a row of 100,000 cells costs no ``stat`` per cell: the catalogue's headers are
    looked up once per scorer (counted, not timed)."""
    from sgs import config
    from sgs.intake.readers import upload_scorer
    from sgs.intake.sheets import combine_header

    calls = 0
    real = config.fingerprint

    def counting(path):
        nonlocal calls
        calls += 1
        return real(path)

    score = upload_scorer()
    monkeypatch.setattr(config, "fingerprint", counting)  # a spy: the real check still runs
    row = {i: f"列{i}" for i in range(100_000)}
    score(list(row.values()))
    combine_header(row, {i: "子" for i in range(100_000)}, score)
    assert calls == 0


def _sheet_of(csv_path: Path, out: Path) -> Path:
    """The rows of a CSV as an XLSX of inline strings, written here with polars (a workbook
    writer takes a minute for 150,000 rows): header in row 1, the rest below."""
    import polars as pl

    frame = pl.read_csv(csv_path, infer_schema=False)
    escaped = [
        pl.col(c)
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        for c in frame.columns
    ]
    number = pl.int_range(2, pl.len() + 2).cast(pl.String)
    cells = [
        pl.when(e.is_not_null())
        .then(
            pl.concat_str(
                pl.lit(f'<c r="{column_letters(i + 1)}'),
                number,
                pl.lit('" t="inlineStr"><is><t>'),
                e,
                pl.lit("</t></is></c>"),
            )
        )
        .otherwise(pl.lit(""))
        for i, e in enumerate(escaped)
    ]
    rows = frame.select(
        pl.concat_str(pl.lit('<row r="'), number, pl.lit('">'), *cells, pl.lit("</row>"))
    ).to_series()
    header = "".join(
        f'<c r="{column_letters(i + 1)}1" t="inlineStr"><is><t>{c}</t></is></c>'
        for i, c in enumerate(frame.columns)
    )
    base = write_xlsx(out.with_suffix(".base.xlsx"), [["x"]])
    with (
        zipfile.ZipFile(base) as zin,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
                continue
            with zout.open(item.filename, "w", force_zip64=True) as fh:
                fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                         b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>')  # fmt: skip
                fh.write(f'<row r="1">{header}</row>'.encode())
                for piece in rows.to_frame().iter_slices(20_000):
                    fh.write("".join(piece.to_series().to_list()).encode())
                fh.write(b"</sheetData></worksheet>")
    return out


def test_a_big_workbook_costs_about_what_the_csv_of_its_rows_costs(tmp_path):
    """Table row 2 (an XLSX of 872,000 rows took 96 s and 5.2 GB): 150,000 permit rows with
    defects, as CSV and as an XLSX of 200 MiB of XML (the big sheets' path: ISA-L, compiled
    scan, no pivot).  ``sgs validate --json`` gives the same verdicts for both, the XLSX in at
    most twice the CSV's peak memory (plus 150 MiB for numba) and, as a limit for a busy CI
    machine rather than a benchmark, four times its time plus 20 s (the issue's goal is 3×;
    docs/performance.md has the measurements)."""
    csv_path = tmp_path / "permits.csv"
    warm_sgs.run(["sample", "permit", "150000", "--out", str(csv_path), "--defects", "0.05",
                  "--seed", "4", "--received", RECEIVED], check=True, timeout=600)  # fmt: skip
    xlsx_path = _sheet_of(csv_path, tmp_path / "permits.xlsx")
    with zipfile.ZipFile(xlsx_path) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size > 128 * MIB
    results = {}
    for path in (csv_path, xlsx_path, csv_path, xlsx_path):  # the second of each counts
        results[path.suffix] = run(
            tmp_path, "validate", path.name, "--json", "--received", RECEIVED
        )
    (rc_c, out_c, _, wall_c, rss_c), (rc_x, out_x, _, wall_x, rss_x) = (
        results[".csv"],
        results[".xlsx"],
    )
    assert rc_c == rc_x == 1
    summary_c, summary_x = json.loads(out_c)["summary"], json.loads(out_x)["summary"]
    assert summary_c == summary_x and summary_c["records"] == 150_000, (summary_c, summary_x)
    assert summary_c["errors"] > 0  # the defects found in both, not two empty reports
    assert rss_x <= 2 * rss_c + 150 * MIB, (rss_x / MIB, rss_c / MIB)
    assert wall_x <= 4 * wall_c + 20, (wall_x, wall_c)
