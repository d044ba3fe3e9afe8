"""``sgs store export`` / ``sgs store import`` (issue 23, item 2): a store's rows moved through
Parquet files into a new store, run as a user runs them.

The source is the sample landing zone ingested and checked with Great Expectations (the store
the Data Docs tests build once per session), with October published.  What the import must give
back is read from the source store itself, table by table, and from the commands the office
runs on it (rates, points, the published figures).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from support import warm_sgs
from support.docs_builders import checked_landing_zone
from support.rates_builders import shared_build

from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store.identity import IDENTITY_VERSION

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_store_transfer")

PERIOD = "2026-10"
UNIT = "111404000448224608"  # 长治市行政审批服务管理局
REBUILT = {"meta", "units", "calendar"}


def sgs(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(root), "SGS_TODAY": "2026-12-05"}
    return warm_sgs.run([*args], env=env, timeout=300)


def ok(run: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert run.returncode == 0, run.stderr
    return run


def refused(run: subprocess.CompletedProcess, words: str) -> None:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert words in run.stderr and "Traceback" not in run.stderr, run.stderr


def db(root: Path) -> Path:
    return root / "curated" / "sgs.duckdb"


def tables(root: Path) -> dict[str, list[tuple]]:
    """Every table's rows, all columns, ordered."""
    with duckdb.connect(str(db(root)), read_only=True) as con:
        names = [n for (n,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return {n: con.execute(f"SELECT * FROM {n} ORDER BY ALL").fetchall() for n in names}


def counts(root: Path) -> dict[str, int]:
    return {name: len(rows) for name, rows in tables(root).items() if name not in REBUILT}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    built = shared_build(tmp_path_factory, "web_docs_store", checked_landing_zone)
    root = tmp_path_factory.mktemp("source") / "data"
    shutil.copytree(built / "curated", root / "curated", ignore=shutil.ignore_patterns("*.lock"))
    ok(sgs(root, "publish", "--period", PERIOD, "--as-of", "2026-11-30", "--by", "王五"))
    return root


@pytest.fixture(scope="module")
def exported(source, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "store-2026-12"
    ok(sgs(source, "store", "export", str(folder)))
    return folder


def test_the_manifest_counts_every_row_of_the_office_s_data(source, exported):
    manifest = json.loads((exported / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["format"], manifest["version"]) == ("sgs-store-export", 1)
    assert manifest["record_identity"] == IDENTITY_VERSION
    assert manifest["tables"] == counts(source)
    assert {"batches", "permits", "penalties", "ledger_entries", "expectation_results",
            "publications", "published_rows"} <= {t for t, n in manifest["tables"].items() if n}  # fmt: skip
    assert sorted(p.name for p in exported.iterdir()) == sorted(
        ["manifest.json", *(f"{t}.parquet" for t in manifest["tables"])]
    )


def test_an_export_imports_into_a_new_store_row_for_row(source, exported, tmp_path):
    target = tmp_path / "data"
    done = ok(sgs(target, "store", "import", str(exported), "--json"))
    assert json.loads(done.stdout)["rows"] == sum(counts(source).values())
    assert tables(target) == tables(source)  # the rebuilt ones from the same config/ too
    for args in (("rates",), ("points",), ("rates", "--published"), ("points", "--published")):
        command = [*args, "--period", PERIOD, "--json"]
        assert ok(sgs(target, *command)).stdout == ok(sgs(source, *command)).stdout, args
    # and the store goes on: a new file gets the ids after the imported ones
    late = write_upload(generate("permit", 5, seed=230, unit=UNIT).frame, tmp_path / "许可.csv")
    stored = json.loads(ok(sgs(target, "ingest", str(late), "--unit", UNIT, "--received", "2026-12-04",
                               "--json")).stdout)  # fmt: skip
    with duckdb.connect(str(db(source)), read_only=True) as con:
        last_batch = con.execute("SELECT max(batch_id) FROM batches").fetchone()[0]
        last_record = con.execute("SELECT max(record_id) FROM permits").fetchone()[0]
    assert stored["status"] == "stored" and stored["batch_id"] == last_batch + 1
    with duckdb.connect(str(db(target)), read_only=True) as con:
        new_ids = con.execute("SELECT min(record_id) FROM permits WHERE batch_id = ?",
                              [stored["batch_id"]]).fetchone()[0]  # fmt: skip
    assert new_ids > last_record


def test_a_store_with_data_is_not_imported_into(source, exported):
    before = tables(source)
    refused(sgs(source, "store", "import", str(exported)), "目标数据库已有数据")
    assert tables(source) == before


def _damaged(exported: Path, into: Path, how: str) -> Path:
    folder = into / "damaged"
    shutil.copytree(exported, folder)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if how == "no manifest":
        manifest_path.unlink()
    elif how == "a row count changed":
        manifest["tables"]["permits"] += 1
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    elif how == "a table file missing":
        (folder / "errors.parquet").unlink()
    elif how == "a table file cut short":
        data = (folder / "permits.parquet").read_bytes()
        (folder / "permits.parquet").write_bytes(data[: len(data) // 2])
    elif how == "another format":
        manifest["format"] = "something-else"
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    elif how == "a newer version":
        manifest["version"] = 2
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    elif how == "a table sgs does not have":
        shutil.copy(folder / "errors.parquet", folder / "surprises.parquet")
        manifest["tables"]["surprises"] = manifest["tables"]["errors"]
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("no manifest", "缺少 manifest.json"),
        ("a row count changed", "清单记的是"),
        ("a table file missing", "缺少文件：errors.parquet"),
        ("a table file cut short", "permits.parquet 无法导入"),
        ("another format", "不是 sgs 数据库的导出清单"),
        ("a newer version", "导出格式版本 2 无法导入"),
        ("a table sgs does not have", "没有这些表，无法导入：surprises"),
    ],
)
def test_a_damaged_export_is_refused_and_nothing_is_written(exported, tmp_path, how, words):
    folder = _damaged(exported, tmp_path, how)
    target = tmp_path / "data"
    refused(sgs(target, "store", "import", str(folder)), words)
    if db(target).exists():  # the store was opened; nothing of the export went in
        assert not any(counts(target).values()), counts(target)


def test_keys_made_by_other_rules_are_made_again(source, exported, tmp_path):
    """An export whose manifest names other identity rules has its records keyed anew: here
    every stored key is spoilt, and the import gives back the keys the source store holds."""
    folder = tmp_path / "older"
    shutil.copytree(exported, folder)
    for table in ("permits", "penalties"):
        path = str(folder / f"{table}.parquet")
        with duckdb.connect() as con:
            spoilt = con.sql(
                f"SELECT * REPLACE ('x' AS record_key) FROM read_parquet('{path}')"
            ).to_arrow_table()
            con.register("spoilt", spoilt)
            con.execute(f"COPY spoilt TO '{path}' (FORMAT parquet)")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["record_identity"] = "an older rule"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    target = tmp_path / "data"
    ok(sgs(target, "store", "import", str(folder)))
    keys = "SELECT record_id, record_key FROM {} ORDER BY record_id"
    for table in ("permits", "penalties"):
        with duckdb.connect(str(db(source)), read_only=True) as con:
            wanted = con.execute(keys.format(table)).fetchall()
        with duckdb.connect(str(db(target)), read_only=True) as con:
            assert con.execute(keys.format(table)).fetchall() == wanted, table


def test_export_wants_a_new_folder_and_a_store(source, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("x")
    refused(sgs(source, "store", "export", str(full)), "不是空目录")
    refused(
        sgs(tmp_path / "nothing", "store", "export", str(tmp_path / "out")), "没有可导出的数据库"
    )
    assert not (tmp_path / "out").exists()


def test_a_store_held_past_the_lock_s_timeout_is_said_in_chinese(source, tmp_path):
    """A writer holds the store (an ingest of a big file): the export waits the lock's time,
    then says so; no traceback, nothing written."""
    from sgs.store import database

    env_timeout = {"SGS_LOCK_TIMEOUT": "1"}
    folder = tmp_path / "out"
    with database.writer(source):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
        env |= {"SGS_DATA_DIR": str(source), **env_timeout}
        run = warm_sgs.run(["store", "export", str(folder)], env=env, timeout=120)
    refused(run, "数据库正被另一个任务使用")
    assert not (folder / "manifest.json").exists()


def test_a_store_file_of_a_newer_duckdb_says_how_to_move_it(tmp_path):
    """A store written by DuckDB 2.0.1 (the project's DuckDB before it moved to the version
    the lake's extensions exist for) is not opened: the commands say, in Chinese, to export it
    with the sgs that wrote it.  The file was made by duckdb 2.0.1 (one empty table)."""
    import gzip

    root = tmp_path / "newer"
    db(root).parent.mkdir(parents=True)
    packed = Path(__file__).parent / "fixtures" / "store-duckdb-2.0.1.duckdb.gz"
    db(root).write_bytes(gzip.decompress(packed.read_bytes()))
    for args in (["rates", "--period", PERIOD], ["store", "export", str(tmp_path / "out")]):
        refused(sgs(root, *args), "sgs store export")


def test_a_damaged_store_file_is_said_at_once_not_waited_for(tmp_path):
    """A file whose header no longer matches its checksum: DuckDB's words ("… in block at
    location 0") once read as "locked", and the command waited for the lock's timeout."""
    root = tmp_path / "damaged"
    ok(sgs(root, "store", "init"))
    data = bytearray(db(root).read_bytes())
    data[12:20] = bytes(8)
    db(root).write_bytes(bytes(data))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(root), "SGS_TODAY": "2026-12-05", "SGS_LOCK_TIMEOUT": "600"}
    run = warm_sgs.run(["rates", "--period", PERIOD], env=env, timeout=60)
    refused(run, "已损坏")
