"""The landing zone as ``sgs ingest`` meets it (issue 10, items 7 and 10): malformed manifests,
files left by their name, ledgers told by their header, one bad file never stopping the others.

Every test runs the command line in a subprocess against a temporary data root, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
UNIT = "111404000448224608"  # 长治市行政审批服务管理局
OTHER_UNIT = "11140400041270234C"  # 长治市市场监督管理局
DAY = "2026-11-05"


def sgs(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    return warm_sgs.run([*args], env={**env, "SGS_DATA_DIR": str(root)})


def lines(run: subprocess.CompletedProcess) -> dict[str, dict]:
    """The ``--json`` lines of a run by file name."""
    out = {}
    for line in run.stdout.splitlines():
        obj = json.loads(line)
        out[Path(obj["path"]).name] = obj
    return out


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def dump(root: Path) -> dict[str, list]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out = {}
        for t in sorted(tables):
            cols = [c for c in con.table(t).columns if c not in ("ingested_at", "quarantined_at")]
            listed = ", ".join(f'"{c}"' for c in cols)
            out[t] = con.execute(f"SELECT {listed} FROM {t} ORDER BY ALL").fetchall()
        return out


def upload(root: Path, unit: str, day: str, name: str, seed: int, kind: str = "permit") -> Path:
    frame = generate(kind, 4, seed=seed, unit=unit, end=date(2026, 11, 1)).frame
    return write_upload(frame, root / "raw" / unit / day / name)


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "data"


MALFORMED = {
    "a list": ([{"a.csv": {"received": "2026-11-04"}}], "manifest_unreadable"),
    "not JSON": ("{files: a.csv", "manifest_unreadable"),
    "no files object": ({"a.csv": {"received": "2026-11-04"}}, "manifest_unreadable"),
    "a string entry": ({"files": {"a.csv": "2026-11-04"}}, "manifest_entry"),
    "an unknown kind": ({"files": {"a.csv": {"kind": "许可"}}}, "manifest_entry"),
    "an impossible date": ({"files": {"a.csv": {"received": "2026-13-01"}}}, "manifest_entry"),
    "a misspelt key": ({"files": {"a.csv": {"recieved": "2026-11-04"}}}, "manifest_entry"),
    "a bad month": ({"files": {"a.csv": {"kind": "ledger", "period": "2026-10-01"}}}, "manifest_entry"),
}  # fmt: skip


def test_a_malformed_manifest_quarantines_its_files_and_the_run_goes_on(root):
    """Every kind of malformed manifest at once, each in a day folder of its own (one landing
    zone, three runs: the command is the same for each case, and so is its cost)."""
    cases = {}
    for i, case in enumerate(MALFORMED, start=1):
        day = f"2026-11-{i:02d}"
        a = upload(root, UNIT, day, "a.csv", seed=10 * i + 1)
        upload(root, UNIT, day, "b.csv", seed=10 * i + 2)
        content, reason = MALFORMED[case]
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        (a.parent / "manifest.json").write_text(text, encoding="utf-8")
        cases[day] = (case, reason, a)
    upload(root, OTHER_UNIT, "2026-11-06", "c.csv", seed=3)

    def outcomes(run: subprocess.CompletedProcess) -> dict[str, tuple]:
        out = {}
        for line in run.stdout.splitlines():
            obj = json.loads(line)
            path = Path(obj["path"])
            out[f"{path.parent.name}/{path.name}"] = (obj["status"], obj["reason"], obj)
        return out

    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 1, run.stderr  # files were quarantined
    assert "Traceback" not in run.stderr
    got = outcomes(run)
    assert got["2026-11-06/c.csv"][:2] == ("stored", None)  # the other unit's file goes on
    rows = query(
        root,
        "SELECT file_name, reason_code, message, stored_path, received_date, unit_code"
        " FROM quarantine",
    )
    for day, (case, reason, _) in cases.items():
        whole_folder = reason == "manifest_unreadable"
        assert got[f"{day}/a.csv"][:2] == ("quarantined", reason), case
        assert got[f"{day}/b.csv"][:2] == (
            ("quarantined", reason) if whole_folder else ("stored", None)
        ), case
    assert len(rows) == sum(2 if r == "manifest_unreadable" else 1 for _, r, _ in cases.values())
    for _, code, message, stored, received, unit in rows:
        assert unit == UNIT  # whose file it is, from its folder
        assert code in {r for _, r, _ in cases.values()} and "清单" in message
        assert received is None  # never guessed
        assert Path(stored).parent == root / "quarantine" / "undated" and Path(stored).is_file()

    # the text summary says what was quarantined, and why
    again = sgs(root, "ingest", str(root / "raw"))
    assert again.returncode == 1
    assert "隔离的文件" in again.stdout
    shown = again.stdout.splitlines()
    for day, (case, reason, _) in cases.items():
        assert any(f"{day}/a.csv" in ln and "配置问题" in ln and reason in ln for ln in shown), case
    assert len(query(root, "SELECT * FROM quarantine")) == len(rows)  # logged once

    # corrected, the files go in on the next run
    for _, _, a in cases.values():
        (a.parent / "manifest.json").write_text(
            json.dumps({"files": {"a.csv": {"received": "2026-11-04"}}}), encoding="utf-8"
        )
    fixed = sgs(root, "ingest", str(root / "raw"), "--json")
    assert fixed.returncode == 0, fixed.stdout
    now = outcomes(fixed)
    for day in cases:
        assert (
            now[f"{day}/a.csv"][0] == "stored"
            and now[f"{day}/a.csv"][2]["received"] == "2026-11-04"
        )


def test_files_left_by_name_are_listed_without_a_record(root):
    good = upload(root, UNIT, DAY, "许可.csv", seed=4)
    folder = good.parent
    for name in ("~$许可.xlsx", ".~lock.许可.csv#", "下载中.csv.part", "tmp123.tmp", "说明.md"):
        shutil.copy(good, folder / name)
    (folder / ".git").mkdir()
    shutil.copy(good, folder / ".git" / "objects.csv")

    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 0, run.stderr
    got = {name: r["status"] for name, r in lines(run).items()}
    assert got == {
        "许可.csv": "stored", "~$许可.xlsx": "ignored", ".~lock.许可.csv#": "ignored",
        "下载中.csv.part": "ignored", "tmp123.tmp": "ignored", "说明.md": "ignored",
        "objects.csv": "ignored",
    }  # fmt: skip
    assert all(
        r["reason"] == "ignored_name" for r in lines(run).values() if r["status"] == "ignored"
    )
    assert query(root, "SELECT count(*) FROM batches") == [(1,)]
    assert query(root, "SELECT count(*) FROM quarantine") == [(0,)]

    text = sgs(root, "ingest", str(root / "raw"))
    assert text.returncode == 0
    assert "按文件名忽略 6 个" in text.stdout and "~$许可.xlsx" in text.stdout


def test_a_ledger_is_told_by_its_header_not_its_name(root):
    """A permit file called 许可台账 is a permit upload; a ledger without 台账 in its name is a
    ledger (its month from the name)."""
    permit = upload(root, UNIT, DAY, "许可台账.csv", seed=5)
    source = generate("permit", 3, seed=6, unit=UNIT, end=date(2026, 10, 30)).frame
    ledger = source.select(
        pl.lit("行政许可").alias("类别"), pl.col("XK_WSH").alias("决定文书号"),
        pl.col("XK_XDR_MC").alias("行政相对人名称"), pl.col("XK_JDRQ").alias("决定日期"),
    )  # fmt: skip
    ledger.write_csv(permit.parent / "报送清单_2026-10.csv")

    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    got = lines(run)
    assert (got["许可台账.csv"]["status"], got["许可台账.csv"]["kind"]) == ("stored", "permit")
    assert (got["报送清单_2026-10.csv"]["status"], got["报送清单_2026-10.csv"]["kind"]) == (
        "stored", "ledger",
    )  # fmt: skip
    assert query(root, "SELECT kind, period, rows_read FROM batches ORDER BY kind") == [
        ("ledger", "2026-10", 3), ("permit", None, 4),
    ]  # fmt: skip


def test_one_bad_path_never_stops_the_others(root, tmp_path):
    """A missing path and a loose file without a unit are errors of the command line (exit 2),
    reported per file; every other file is still ingested."""
    good = upload(root, UNIT, DAY, "许可.csv", seed=7)
    loose = write_upload(generate("permit", 2, seed=8).frame, tmp_path / "loose.csv")
    corrupt = good.parent / "损坏.xlsx"
    corrupt.write_bytes(b"PK\x03\x04 not a workbook")
    run = sgs(root, "ingest", str(tmp_path / "nope.csv"), str(loose), str(corrupt), str(good))
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert "找不到文件或文件夹" in run.stderr and "上报单位" in run.stderr
    assert "[隔离]" in run.stdout and "[入库]" in run.stdout
    assert query(root, "SELECT file_name FROM batches") == [("许可.csv",)]
    assert query(root, "SELECT file_name, reason_code FROM quarantine") == [
        ("损坏.xlsx", "unreadable")
    ]


def test_a_file_of_the_landing_zone_without_a_unit_is_quarantined(root):
    path = write_upload(generate("permit", 2, seed=9).frame, root / "raw" / "loose.csv")
    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 1
    assert (lines(run)["loose.csv"]["status"], lines(run)["loose.csv"]["reason"]) == (
        "quarantined", "no_unit",
    )  # fmt: skip
    assert query(root, "SELECT source_path FROM quarantine") == [(str(path),)]


def test_identical_bytes_for_two_units_are_stored_for_each(root):
    a = upload(root, UNIT, DAY, "许可.csv", seed=10)
    b = root / "raw" / OTHER_UNIT / DAY / "许可.csv"
    b.parent.mkdir(parents=True)
    shutil.copy(a, b)
    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 0, run.stderr
    assert query(root, "SELECT unit_code, rows_stored FROM batches ORDER BY unit_code") == [
        (OTHER_UNIT, 4), (UNIT, 4),
    ]  # fmt: skip


def test_a_rerun_over_the_landing_zone_gives_the_same_database(root):
    """Uploads, a quarantined file, a bad manifest and two versions of a ledger: the second run
    over the same landing zone changes nothing."""
    upload(root, UNIT, DAY, "许可.csv", seed=11)
    upload(root, OTHER_UNIT, DAY, "处罚.csv", seed=12, kind="penalty")
    (root / "raw" / UNIT / DAY / "损坏.csv").write_bytes(b"\x00\x01garbage" * 40)
    bad = upload(root, UNIT, "2026-11-06", "清单错.csv", seed=13)
    (bad.parent / "manifest.json").write_text("[]", encoding="utf-8")
    for day, rows in (("2026-11-03", 2), ("2026-11-04", 3)):
        frame = generate("permit", rows, seed=14, unit=UNIT, end=date(2026, 10, 30)).frame
        ledger = frame.select(
            pl.lit("行政许可").alias("类别"), pl.col("XK_WSH").alias("决定文书号"),
            pl.col("XK_XDR_MC").alias("行政相对人名称"), pl.col("XK_JDRQ").alias("决定日期"),
        )  # fmt: skip
        path = root / "raw" / UNIT / day / "台账_2026-10.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        ledger.write_csv(path)
    first = sgs(root, "ingest", str(root / "raw"))
    assert first.returncode == 1, first.stderr
    before = dump(root)
    second = sgs(root, "ingest", str(root / "raw"))
    assert second.returncode == 1
    assert dump(root) == before
    current = "SELECT received_date, rows_read FROM ledgers WHERE is_current"
    assert query(root, current) == [(date(2026, 11, 4), 3)]
