"""The store, with a real DuckDB file: idempotence, history, quarantine, accounting, concurrency, crashes."""

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
from support.holidays_2027 import TEST_2027
from support.store_keys import repeated_keys

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store import database
from sgs.store.ingest import ingest_file

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
UNIT = "111404000448224608"  # 长治市行政审批服务管理局 in config/units.csv
OTHER_UNIT = "11140400041270234C"  # 长治市市场监督管理局


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SGS_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def land(root: Path, unit: str, day: str, name: str, frame: pl.DataFrame, **kw) -> Path:
    return write_upload(frame, root / "raw" / unit / day / name, **kw)


def dump(root: Path) -> dict[str, list]:
    """Every table's content, ordered: equal dumps mean equal databases."""
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out = {}
        for t in sorted(tables):
            cols = [c for c in con.table(t).columns if c not in ("ingested_at", "quarantined_at")]
            query = f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM {t} ORDER BY ALL"
            out[t] = con.execute(query).fetchall()
        return out


def query(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def test_lossless_accounting_on_a_file_with_errors(root):
    sample = generate("permit", 60, seed=11, defect_rate=0.4, unit=UNIT)
    path = land(root, UNIT, "2026-11-02", "许可.csv", sample.frame)
    result = ingest_file(path)
    assert result.status == "stored"
    assert result.rows_read == result.rows_stored == 60
    batch = query(
        root,
        "SELECT rows_read, rows_stored, rows_valid, rows_failing, errors, warnings FROM batches",
    )
    assert batch == [
        (60, 60, result.rows_valid, result.rows_failing, result.errors, result.warnings)
    ]
    assert query(root, "SELECT count(*) FROM permits")[0][0] == 60
    # every failing row has its errors, every error points at a stored record of the batch
    failing = query(root, "SELECT count(*) FROM permits WHERE NOT valid")[0][0]
    expected_failing = sample.defects.filter(pl.col("severity") == "error")["row_index"].n_unique()
    assert failing == result.rows_failing == expected_failing
    orphan = query(
        root,
        "SELECT count(*) FROM errors e LEFT JOIN permits p USING (record_id) WHERE p.record_id IS NULL",
    )[0][0]
    assert orphan == 0
    stored_errors = query(root, "SELECT count(*) FROM errors WHERE severity = 'error'")[0][0]
    assert (
        stored_errors
        == result.errors
        == sample.defects.filter(pl.col("severity") == "error").height
    )
    # rows without errors are valid, rows with only warnings too
    assert query(root, "SELECT count(*) FROM permits WHERE valid AND errors > 0")[0][0] == 0


def test_reingest_changes_nothing(root):
    sample = generate("penalty", 25, seed=3, defect_rate=0.2, unit=UNIT)
    path = land(root, UNIT, "2026-11-03", "处罚.xlsx", sample.frame)
    first = ingest_file(path)
    before = dump(root)
    again = ingest_file(path)
    assert (first.status, again.status) == ("stored", "skipped")
    assert again.batch_id == first.batch_id
    assert dump(root) == before
    # the same bytes under another name are the same file; received the same day, the copy
    # whose name sorts after the stored one's changes nothing ...
    copy = path.with_name("处罚（副本）.xlsx")
    shutil.copy(path, copy)
    assert ingest_file(copy).status == "skipped"
    assert dump(root) == before
    # ... and one whose name sorts first gives the stored upload its name, as if it had been
    # ingested first (the name is part of the order of versions: docs/policy.md section 4)
    first_copy = path.with_name("处罚-副本.xlsx")
    shutil.copy(path, first_copy)
    assert ingest_file(first_copy).status == "skipped"
    names = query(root, "SELECT file_name, received_date FROM batches")
    assert [(n, str(d)) for n, d in names] == [("处罚-副本.xlsx", "2026-11-03")]


def test_typed_columns_and_what_they_cannot_hold(root):
    sample = generate("permit", 3, seed=5, unit=UNIT)
    frame = sample.frame.with_columns(
        pl.Series("XK_JDRQ", ["2026/02/30", "2026年3月2日", "20260305"]),
        pl.Series("XK_XDR_MC", ["  前后有空格的名称  ", "名称乙", "名称丙"]),
    )
    path = land(root, UNIT, "2026-11-02", "typed.csv", frame)
    ingest_file(path)
    rows = query(root, "SELECT XK_JDRQ, original, XK_XDR_MC FROM permits ORDER BY source_row")
    assert rows[0][0] is None and json.loads(rows[0][1])["XK_JDRQ"] == "2026/02/30"
    assert rows[1][0] == date(2026, 3, 2) and rows[1][1] is None
    assert rows[2][0] == date(2026, 3, 5)
    assert rows[0][2] == "前后有空格的名称"


def test_records_handed_over_in_slices_are_stored_row_for_row(tmp_path, monkeypatch):
    """A big file's records reach DuckDB in Arrow slices appended by several threads at once
    (store/sql.py ``SCAN_BATCH``): each stored row is still its own file row, whole, in the
    file's order by ``record_id`` — checked against the file read by polars — and the records
    and errors are those an unsliced hand-over stores."""
    from sgs.store import sql

    sample = generate("permit", 200, seed=21, unit=UNIT)
    written = pl.read_csv(write_upload(sample.frame, tmp_path / "许可.csv"), infer_schema=False)
    roots = {}
    for batch in (7, 1 << 30):
        monkeypatch.setattr(sql, "SCAN_BATCH", batch)
        roots[batch] = tmp_path / f"data-{batch}"
        path = land(roots[batch], UNIT, "2026-11-02", "许可.csv", sample.frame)
        assert ingest_file(path, root=roots[batch]).rows_stored == 200
    rows = query(roots[7], "SELECT source_row, XK_XDR_MC, XK_WSH FROM permits ORDER BY record_id")
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert [(r[1], r[2]) for r in rows] == list(
        zip(written["行政相对人名称"], written["行政许可决定文书号"], strict=True)
    )
    sliced, whole = dump(roots[7]), dump(roots[1 << 30])
    assert (sliced["permits"], sliced["errors"]) == (whole["permits"], whole["errors"])


def _storage_version(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE NOT internal"
            " AND database_name NOT IN ('memory', 'temp')"
        ).fetchone()[0]


def test_a_store_is_written_in_duckdb_1_5_s_format_and_an_older_one_moves_to_it(tmp_path):
    """A new store is written in DuckDB 1.5's storage format (one dictionary-and-FSST string
    encoding: the insert of a big file costs about 60 % of the 1.0 format's; docs/performance.md).
    A store in the 1.0 format — DuckDB's default, what every store before this change is — is
    written on by the next ``sgs ingest``, keeps its rows, gives what a store built in the new
    format gives, and is in the new format afterwards."""
    first = generate("permit", 40, seed=31, unit=UNIT, defect_rate=0.3).frame
    second = generate("permit", 25, seed=32, unit=OTHER_UNIT, defect_rate=0.3).frame
    roots = {"new": tmp_path / "new", "old": tmp_path / "old"}
    paths = {}
    for side, root in roots.items():
        paths[side] = (land(root, UNIT, "2026-11-02", "许可.csv", first),
                       land(root, OTHER_UNIT, "2026-11-03", "许可.csv", second))  # fmt: skip
        env = os.environ | {"SGS_DATA_DIR": str(root)}
        done = warm_sgs.run(["ingest", str(paths[side][0])], env=env, timeout=300)
        assert done.returncode == 0, done.stderr
    assert _storage_version(database.db_path(roots["new"])) == "v1.5.0+"
    # the "old" store copied, table by table, into a file in DuckDB's default (1.0) format
    old = database.db_path(roots["old"])
    legacy = old.with_name("legacy.duckdb")
    with duckdb.connect() as con:
        con.execute(f"ATTACH '{old}' AS src (READ_ONLY)")
        con.execute(f"ATTACH '{legacy}' AS dst")
        con.execute("COPY FROM DATABASE src TO dst")
    old.unlink()
    legacy.rename(old)
    assert _storage_version(old) == "v1.0.0+"
    for side, root in roots.items():
        env = os.environ | {"SGS_DATA_DIR": str(root)}
        done = warm_sgs.run(["ingest", str(paths[side][1])], env=env, timeout=300)
        assert done.returncode == 0, done.stderr
    assert _storage_version(old) == "v1.5.0+"
    assert query(roots["old"], "SELECT count(*) FROM permits") == [(65,)]
    same = {side: json.dumps(dump(root), default=str).replace(str(root), "<root>")
            for side, root in roots.items()}  # fmt: skip
    assert same["old"] == same["new"]


def test_resubmission_becomes_current_and_keeps_history(root):
    sample = generate("permit", 5, seed=8, unit=UNIT, end=date(2026, 10, 1))
    broken = sample.frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("2026/13/01"))
        .otherwise(pl.col("XK_YXQZ"))
        .alias("XK_YXQZ")
    )
    ingest_file(land(root, UNIT, "2026-10-10", "first.csv", broken))
    fixed_row = sample.frame.slice(2, 1)
    ingest_file(land(root, UNIT, "2026-10-14", "fix.csv", fixed_row))
    versions = query(
        root,
        "SELECT version, versions, is_current, valid, received_date, record_id = first_record_id"
        " FROM permit_versions WHERE record_key = (SELECT record_key FROM permits WHERE NOT valid)"
        " ORDER BY version",
    )
    assert versions == [
        (1, 2, False, False, date(2026, 10, 10), True),
        (2, 2, True, True, date(2026, 10, 14), False),
    ]
    # the other four records have one version each
    assert query(root, "SELECT count(*) FROM permit_versions WHERE versions = 1")[0][0] == 4


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\x01\x02garbage" * 50, "unreadable"),
        ("XK_XMMC,XK_SPLB,DFBM,SJC\n甲,乙,140400,2016\n".encode(), "layout_v1"),
        ("行政相对人名称,备注\n甲,乙\n".encode(), "no_header"),
    ],
)
def test_unusable_files_are_quarantined_with_reason(root, content, reason):
    path = root / "raw" / UNIT / "2026-11-05" / "bad.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    result = ingest_file(path)
    assert (result.status, result.reason) == ("quarantined", reason)
    rows = query(root, "SELECT reason_code, message, stored_path, unit_code FROM quarantine")
    assert len(rows) == 1 and rows[0][0] == reason and rows[0][3] == UNIT
    assert Path(rows[0][2]).read_bytes() == content
    assert any("\u4e00" <= ch <= "\u9fff" for ch in rows[0][1])  # a Chinese reason
    assert query(root, "SELECT count(*) FROM batches")[0][0] == 0
    ingest_file(path)  # once is enough: re-running keeps one quarantine row
    assert query(root, "SELECT count(*) FROM quarantine")[0][0] == 1


def test_unknown_unit_is_quarantined(root):
    sample = generate("permit", 2, seed=1)
    path = land(root, "91110000000000000X", "2026-11-05", "x.csv", sample.frame)
    result = ingest_file(path)
    assert (result.status, result.reason) == ("quarantined", "unknown_unit")


def test_received_date_precedence(root):
    sample = generate("permit", 2, seed=2, unit=UNIT)
    path = land(root, UNIT, "2026-11-05", "a.csv", sample.frame)
    (path.parent / "manifest.json").write_text(
        json.dumps({"files": {"a.csv": {"received": "2026-11-03"}}}), encoding="utf-8"
    )
    assert ingest_file(path).received == "2026-11-03"
    other = land(root, UNIT, "2026-11-05", "b.csv", generate("permit", 2, seed=4, unit=UNIT).frame)
    assert ingest_file(other).received == "2026-11-05"
    third = land(root, UNIT, "2026-11-05", "c.csv", generate("permit", 2, seed=6, unit=UNIT).frame)
    assert ingest_file(third, received=date(2026, 11, 1)).received == "2026-11-01"
    got = query(
        root, "SELECT file_name, received_date, received_from FROM batches ORDER BY file_name"
    )
    assert got == [
        ("a.csv", date(2026, 11, 3), "manifest"),
        ("b.csv", date(2026, 11, 5), "folder"),
        ("c.csv", date(2026, 11, 1), "option"),
    ]


def _run_ingest(root: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [SGS, "ingest", *args, "--json"],
        env={**os.environ, "SGS_DATA_DIR": str(root), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_parallel_ingests_in_separate_processes(root):
    paths = []
    for i, unit in enumerate([UNIT, OTHER_UNIT, UNIT, OTHER_UNIT]):
        sample = generate(
            "permit" if i % 2 else "penalty", 400, seed=20 + i, defect_rate=0.1, unit=unit
        )
        paths.append(land(root, unit, "2026-11-06", f"f{i}.csv", sample.frame))
    # four processes at once, two of them racing on the same file
    procs = [_run_ingest(root, str(p)) for p in [*paths, paths[0]]]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0] * 5, [o[1].decode() for o in outs]
    statuses = sorted(json.loads(o[0])["status"] for o in outs)
    assert statuses == ["skipped", "stored", "stored", "stored", "stored"]
    assert query(root, "SELECT count(*) FROM batches")[0][0] == 4
    assert (
        query(root, "SELECT count(*) FROM permits")[0][0]
        + query(root, "SELECT count(*) FROM penalties")[0][0]
        == 1600
    )
    assert repeated_keys(database.db_path(root)) == {}


def test_the_store_s_ddl_is_what_duckdb_lake_accepts(root):
    """Issue 23: no PRIMARY KEY, UNIQUE or ON CONFLICT, literal defaults, each WINDOW name once
    — in the DDL's text and in a new store's catalogue."""
    import re

    from sgs.store.tables import tables_ddl

    ddl = re.sub(r"--[^\n]*", "", tables_ddl()).upper()  # the statements, not their comments
    assert not re.search(r"PRIMARY\s+KEY|UNIQUE|ON\s+CONFLICT|FOREIGN\s+KEY", ddl)
    defaults = re.findall(r"DEFAULT\s+('[^']*'|[^\s,;)]+)", ddl)
    assert defaults and all(re.fullmatch(r"TRUE|FALSE|-?\d+|'[^']*'", d) for d in defaults)
    # the DDL runs as one string: a window name once in all of it
    names = re.findall(r"WINDOW\s+(\w+)\s+AS", ddl)
    assert names and len(names) == len(set(names)), names
    path = land(root, UNIT, "2026-11-06", "f.csv", generate("permit", 3, seed=43, unit=UNIT).frame)
    assert ingest_file(path).status == "stored"
    kinds = query(root, "SELECT DISTINCT constraint_type FROM duckdb_constraints()")
    assert {k for (k,) in kinds} <= {"NOT NULL"}, kinds


def test_a_store_held_by_another_program_is_named_in_chinese(root):
    """Another program (not sgs, so not taking our lock) holds the database: ingest waits its
    lock timeout, then says so in Chinese; DuckDB's own words (English, the other program's
    path) stay out of the message."""
    path = land(root, UNIT, "2026-11-06", "f.csv", generate("permit", 5, seed=41, unit=UNIT).frame)
    assert ingest_file(path).status == "stored"
    again = land(root, UNIT, "2026-11-07", "g.csv", generate("permit", 5, seed=42, unit=UNIT).frame)
    holder = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "python"), "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(database.db_path(root))!r}); "
         "print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        done = _run_ingest(root, str(again), env={"SGS_LOCK_TIMEOUT": "1"})
        out, err = (x.decode() for x in done.communicate(timeout=120))
    finally:
        holder.kill()
        holder.wait()
    text = out + err
    assert done.returncode != 0
    assert "另一个程序正占用它（已等待 1 秒）" in text, text
    assert "IO Error" not in text and "Conflicting lock" not in text and "Traceback" not in text


@pytest.mark.parametrize("point", ["after-records", "before-commit"])
def test_a_process_killed_mid_file_leaves_the_store_as_it_was(root, point):
    first = land(
        root, UNIT, "2026-11-07", "ok.csv", generate("permit", 50, seed=30, unit=UNIT).frame
    )
    assert ingest_file(first).status == "stored"
    before = dump(root)
    crash = land(
        root, UNIT, "2026-11-07", "crash.csv", generate("permit", 500, seed=31, unit=UNIT).frame
    )
    proc = _run_ingest(root, str(crash), env={"SGS_FAULT": point})
    proc.communicate(timeout=300)
    assert proc.returncode == -9  # SIGKILL, as a power cut or an OOM kill would
    assert dump(root) == before
    # and the store is usable: the same file goes in cleanly afterwards
    assert ingest_file(crash).status == "stored"
    assert query(root, "SELECT count(*) FROM permits")[0][0] == 550


def test_ingest_cli_reports_each_file_and_exit_code(root):
    good = land(
        root, UNIT, "2026-11-08", "good.csv", generate("permit", 10, seed=40, unit=UNIT).frame
    )
    bad = root / "raw" / UNIT / "2026-11-08" / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    run = warm_sgs.run(["ingest", str(root / "raw")], env={**os.environ, "SGS_DATA_DIR": str(root)})
    assert run.returncode == 1  # a file was quarantined
    assert "[入库]" in run.stdout and "[隔离]" in run.stdout and good.name in run.stdout
    again = warm_sgs.run(["ingest", str(good)], env={**os.environ, "SGS_DATA_DIR": str(root)})
    assert again.returncode == 0 and "[跳过]" in again.stdout


def test_a_file_outside_the_landing_zone_needs_a_unit(root, tmp_path):
    path = write_upload(generate("permit", 2, seed=41).frame, tmp_path / "loose.csv")
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    run = warm_sgs.run(["ingest", str(path)], env=env)
    assert run.returncode == 2 and "上报单位" in run.stderr
    ok = warm_sgs.run(
        ["ingest", str(path), "--unit", "长治市行政审批服务管理局", "--received", "2026-11-09"],
        env=env,
    )
    assert ok.returncode == 0, ok.stderr
    assert query(root, "SELECT unit_code, received_date, received_from FROM batches") == [
        (UNIT, date(2026, 11, 9), "option")
    ]


def test_a_write_stores_the_calendar_of_a_new_holidays_file(root, tmp_path, monkeypatch):
    """The writer compares the calendar's stamp from its sources; a new 2027.toml must still
    be written into the store by the next write, and an unchanged one must not be rewritten."""
    from sgs.reference import calendar as workdays

    holidays = tmp_path / "holidays"
    holidays.mkdir()
    monkeypatch.setenv("SGS_HOLIDAYS_DIR", str(holidays))
    try:
        with database.writer():
            pass
        last_day = "SELECT max(day) FROM calendar"
        stamp = "SELECT value FROM meta WHERE key = 'calendar'"
        assert query(root, last_day) == [(date(2026, 12, 31),)]
        before = query(root, stamp)
        assert before == [(workdays.sources_fingerprint(),)]

        (holidays / "2027.toml").write_text(TEST_2027, encoding="utf-8")
        with database.writer():
            pass
        assert query(root, last_day) == [(date(2027, 12, 31),)]
        after = query(root, stamp)
        assert after != before and after == [(workdays.sources_fingerprint(),)]
    finally:
        workdays.reset_cache()
