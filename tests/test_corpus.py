"""A hostile landing zone, ingested the ways the office's machines really do it.

One corpus mixes what units send on a bad day: encodings, CSV shapes, workbooks with several
sheets and a stray cell at the far corner, header-only files, refusals, malformed manifests,
Office lock files, a file for an unknown unit, identical bytes for two units, a ledger among
the uploads.  Every run is held to 2 GiB of address space.
It is ingested by two ``sgs ingest`` processes at once, then again (nothing may change), and in
a second store after a process killed mid-file.  Every landed file must end stored with exactly
the records it holds (known from how it was written, not from the reader) or quarantined with a
copy on disk; no output may show a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from support.rates_builders import LEDGER_HEADER, db_fingerprint
from support.store_keys import repeated_keys
from support.upload_files import csv_bytes, records, table, write_xlsx

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_corpus")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
U1 = "111404000448224608"  # 长治市行政审批服务管理局
U2 = "11140400041270234C"  # 长治市市场监督管理局
UNKNOWN = "12140400MB1234567X"  # in no registry
DAY = "2026-03-20"  # the upload builders' records are decided in March 2026


@dataclass
class Expect:
    path: Path
    unit: str | None
    rows: int | None  # records it holds; None: must be quarantined
    ignored: bool = False


def _put(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def build(raw: Path) -> list[Expect]:
    out: list[Expect] = []

    def stored(unit: str, name: str, data: bytes, rows: int, day: str = DAY) -> None:
        out.append(Expect(_put(raw / unit / day / name, data), unit, rows))

    def refused(unit: str, name: str, data: bytes, day: str = DAY) -> None:
        out.append(Expect(_put(raw / unit / day / name, data), unit, None))

    permits, penalties = records("permit", 40), records("penalty", 30)
    plain = csv_bytes(table("permit", permits[:20]))
    stored(U1, "许可_utf8.csv", plain, 20)
    stored(U2, "许可_utf8.csv", plain, 20)  # the same bytes for another unit
    stored(
        U1,
        "处罚_gbk.csv",
        csv_bytes([["长治市行政处罚信息"], *table("penalty", penalties[:15])], "gbk"),
        15,
    )
    stored(U1, "处罚_bom.csv", b"\xef\xbb\xbf" + csv_bytes(table("penalty", penalties[15:25])), 10)
    stored(U1, "许可_表头.csv", csv_bytes(table("permit", [])), 0)
    stored(U1, "许可_表头空行.csv", csv_bytes(table("permit", [])) + b"\r\n  \r\n,,,\r\n", 0)
    lines = csv_bytes(table("permit", permits[20:30])).split(b"\r\n")
    mixed = b"".join(line + (b"\r\n", b"\n", b"\r")[i % 3] for i, line in enumerate(lines[:-1]))
    stored(U1, "许可_换行.csv", mixed, 10)
    rows = table("permit", permits[30:36])
    rows[1] = [*rows[1], "多出的单元格"]  # the first record is longer than the header
    stored(U1, "许可_多列.csv", csv_bytes(rows), 6)
    spaced = csv_bytes(table("permit", permits[36:40])).replace(b"\r\n", b"\r\n   \r\n", 2)
    stored(U1, "许可_空白行.csv", spaced, 4)
    refused(
        U1,
        "処分_sjis.csv",
        "行政処分決定書,番号,年月日\r\n東京都,第1号,令和8年\r\n".encode("shift_jis"),
    )
    refused(U1, "乱码.csv", bytes(range(256)) * 8)
    refused(U1, "空文件.csv", b"")
    quote = csv_bytes(table("permit", permits[:3])) + b'"unterminated,140402198001011234\r\n'
    refused(U1, "引号.csv", quote)
    refused(U1, "坏表.xlsx", b"PK\x03\x04 this is not a workbook")

    # Workbooks: two sheets of records and a hidden stale copy; a header-only workbook.
    book = raw / U1 / DAY / "许可_两表.xlsx"
    book.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(book, table("permit", permits[5:12]), sheet="二月",
               before=[("一月", table("permit", permits[:5]))])  # fmt: skip
    out.append(Expect(book, U1, 12))
    empty_book = write_xlsx(raw / U1 / DAY / "处罚_空表.xlsx", table("penalty", []))
    out.append(Expect(empty_book, U1, 0))
    # A stray keystroke at the far corner of the sheet: 8 records and the stray cell's row.
    far = write_xlsx(raw / U1 / DAY / "许可_远处.xlsx", table("permit", permits[12:20]))
    with zipfile.ZipFile(far) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    stray = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"</sheetData>", stray + b"</sheetData>")
    with zipfile.ZipFile(far, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    out.append(Expect(far, U1, 9))

    # Names the landing zone leaves alone; they must not reach the store at all.
    for name in ("~$许可_两表.xlsx", ".~lock.许可.csv#", "上传中.csv.part", "临时.tmp"):
        out.append(Expect(_put(raw / U1 / DAY / name, plain), U1, None, ignored=True))

    # A folder whose manifest cannot be read: every file of it waits, none is guessed.
    bad_day = "2026-03-21"
    _put(raw / U1 / bad_day / "manifest.json", b'["not", "an", "object"]')
    refused(U1, "许可_清单坏.csv", csv_bytes(table("permit", permits[12:14])), bad_day)
    # A manifest with one bad entry: only that file waits.
    odd_day = "2026-03-22"
    manifest = {"files": {"许可_类别错.csv": {"kind": "许可"},
                          "处罚_好.csv": {"received": "2026-03-22"}}}  # fmt: skip
    _put(raw / U2 / odd_day / "manifest.json", json.dumps(manifest, ensure_ascii=False).encode())
    refused(U2, "许可_类别错.csv", csv_bytes(table("permit", permits[14:16])), odd_day)
    stored(U2, "处罚_好.csv", csv_bytes(table("penalty", penalties[:3])), 3, odd_day)
    # A ledger landed among the uploads: its header, not its name, makes it one.
    entries = [["1", "行政许可", r["XK_WSH"], r["XK_XDR_MC"], r["XK_XDR_SHXYM"], "2026-02-10"]
               for r in permits[:3]]  # fmt: skip
    stored(U1, "台账_2026-02.csv", csv_bytes([LEDGER_HEADER, *entries]), 3)
    # A unit nobody registered.
    refused(UNKNOWN, "许可.csv", csv_bytes(table("permit", permits[:2])))
    return out


def _bounded() -> None:
    """Memory follows the files' content: 2 GiB of address space for the whole run (importing
    polars alone reserves about 0.8 GiB; the far cell above once asked for 512 GiB)."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def sgs(root: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    full = {**os.environ, "SGS_DATA_DIR": str(root), **(env or {})}
    full.pop("SGS_UNITS_FILE", None)
    return subprocess.Popen([SGS, *args], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_bounded)  # fmt: skip


def finish(proc: subprocess.Popen, codes: tuple[int, ...] = (1,)) -> str:
    out, err = proc.communicate(timeout=600)
    assert "Traceback" not in out + err, err[-3000:]
    assert proc.returncode in codes, (proc.returncode, out[-2000:], err[-2000:])
    return out


def query(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def check_accounting(root: Path, corpus: list[Expect]) -> None:
    """Each file: stored with exactly its records, or quarantined with its copy on disk."""
    for e in corpus:
        stored = query(
            root,
            "SELECT sum(rows_stored) FROM batches WHERE source_path = ? AND unit_code = ?",
            [str(e.path.resolve()), e.unit or ""],
        )[0][0]
        held = query(
            root,
            "SELECT stored_path FROM quarantine WHERE source_path = ?",
            [str(e.path.resolve())],
        )
        if e.ignored:
            assert stored is None and not held, e.path.name
        elif e.rows is None:
            assert stored is None and held, e.path.name
            assert all(Path(p).read_bytes() == e.path.read_bytes() for (p,) in held)
        else:
            assert stored == e.rows and not held, (e.path.name, stored, held)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[Expect]]:
    root = tmp_path_factory.mktemp("corpus")
    return root, build(root / "raw")


def test_two_parallel_ingests_store_or_quarantine_every_file(corpus):
    root, files = corpus
    first, second = (sgs(root, "ingest", str(root / "raw")) for _ in range(2))
    outputs = [finish(first), finish(second)]
    assert any("隔离" in out for out in outputs)
    check_accounting(root, files)
    kinds = [
        ("stored" if e.rows is not None else "ignored" if e.ignored else "held") for e in files
    ]
    assert (kinds.count("stored"), kinds.count("held"), kinds.count("ignored")) == (14, 8, 4)
    assert query(root, "SELECT kind, period FROM batches WHERE file_name = '台账_2026-02.csv'") == [
        ("ledger", "2026-02")
    ]
    assert query(root, "SELECT count(*) FROM batches WHERE kind = 'permit' AND file_name = ?",
                 ["许可_utf8.csv"]) == [(2,)]  # fmt: skip
    assert repeated_keys(root / "curated" / "sgs.duckdb") == {}  # two writers, one lock


def test_a_rerun_changes_nothing(corpus):
    root, files = corpus
    if not (root / "curated" / "sgs.duckdb").exists():  # run alone, or on another xdist worker
        finish(sgs(root, "ingest", str(root / "raw")))
    before = db_fingerprint(root)[1]
    finish(sgs(root, "ingest", str(root / "raw")))
    assert db_fingerprint(root)[1] == before
    check_accounting(root, files)


def test_a_killed_ingest_then_a_rerun_gives_the_same_store(corpus, tmp_path):
    source, _ = corpus
    clean = tmp_path / "clean"
    killed = tmp_path / "killed"
    for target in (clean, killed):
        shutil.copytree(source / "raw", target / "raw")
    finish(sgs(clean, "ingest", str(clean / "raw")))
    proc = sgs(killed, "ingest", str(killed / "raw"), env={"SGS_FAULT": "before-commit"})
    proc.communicate(timeout=600)
    assert proc.returncode == -9
    finish(sgs(killed, "ingest", str(killed / "raw")))

    def content(root: Path) -> dict:
        return {
            "batches": sorted(
                query(
                    root,
                    "SELECT unit_code, kind, file_name, sha256, rows_stored,"
                    " received_date FROM batches",
                )
            ),
            "records": query(root, "SELECT count(*), count(DISTINCT record_key) FROM permits"),
            "quarantine": sorted(
                query(root, "SELECT file_name, unit_code, reason_code FROM quarantine")
            ),
            "errors": query(root, "SELECT count(*) FROM errors"),
        }

    assert content(killed) == content(clean)
