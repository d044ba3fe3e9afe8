"""The store on DuckLake (issue 23): a real PostgreSQL catalogue, Parquet files in a folder, every
command run as a user runs it (``sgs`` processes with ``SGS_STORE`` set).

What the lake must give is what the embedded file gives for the same files: the generated months
(corrections, ledgers, zero reports, a county and its departments, September published on its
bulletin day) and the bundled sample landing zone go into both stores, and every figure the
office reads — rates, points, as-of figures, the published month, a unit's feedback list, the
bulletin workbook — is compared.  Then what only the lake has: ``sgs store init`` (idempotent,
the only command that changes its schema), a writer killed with ``kill -9`` mid-file, a commit
overtaken by another one and written again, the advisory lock, masked passwords.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs
from support.month_scenario import generate, land
from support.postgres import lake_query
from support.store_keys import repeated_keys

ROOT = Path(__file__).resolve().parents[1]
SGS = Path(sys.executable).parent / "sgs"
TODAY = "2026-12-05"
UNIT = "111404000448224608"  # 长治市行政审批服务管理局
BULLETIN = date(2026, 10, 4)  # September's bulletin day in the generated months
PERIODS = ("2026-09", "2026-10")
#: The tests of the generated months share one module fixture: one worker builds it, once
#: (``scripts/test`` runs pytest-xdist with ``--dist loadgroup``).
MONTHS = pytest.mark.xdist_group("lake-months")


def sgs(root: Path, store: str | None, *args: str, fault: str | None = None,
        lock_timeout: float | None = None, units: Path | None = None,
        ) -> subprocess.CompletedProcess:  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(root), "SGS_TODAY": TODAY}
    if units is not None:
        env["SGS_UNITS_FILE"] = str(units)
    if store is not None:
        env["SGS_STORE"] = store
    if fault is not None:
        env["SGS_FAULT"] = fault
    if lock_timeout is not None:
        env["SGS_LOCK_TIMEOUT"] = str(lock_timeout)
    if fault is not None:  # the process itself is under test (killed): a plain one
        return subprocess.run([str(SGS), *args], env=env, capture_output=True, text=True,
                              timeout=600, cwd=root)  # fmt: skip
    return warm_sgs.run([*args], env=env, cwd=root, timeout=600)


def ok(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    return run.stdout


def as_json(run: subprocess.CompletedProcess) -> object:
    return json.loads(ok(run) if run.returncode == 0 else run.stdout)


def lake_store(postgres, name: str) -> str:
    return "ducklake:postgres:" + postgres.new_database(name)


def catalogue(store: str) -> str:
    return store.removeprefix("ducklake:postgres:")


def workbook_values(path: Path) -> dict[str, list[tuple]]:
    """Every sheet's cells; the minute a workbook was written or a month published (a
    ``YYYY-MM-DD HH:MM`` anywhere: the cover's 生成时间 cell, a sheet's title line) left out —
    the two stores' commands run seconds apart, sometimes across a minute."""
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    book = openpyxl.load_workbook(path, read_only=True)
    return {
        ws.title: [tuple(stamp.sub("<time>", v) if isinstance(v, str) else v for v in row)
                   for row in ws.iter_rows(values_only=True)]
        for ws in book
    }  # fmt: skip


# ----------------------------------------------------------------------------- same figures


class Pair:
    """The same arrivals stored twice: ``file`` (the embedded default) and ``lake``."""

    def __init__(self, base: Path, store: str) -> None:
        self.roots = {"file": base / "file", "lake": base / "lake"}
        self.stores = {"file": None, "lake": store}

    def both(self, *args: str) -> dict[str, subprocess.CompletedProcess]:
        return {side: sgs(self.roots[side], self.stores[side], *args) for side in self.roots}

    def same(self, *args: str) -> str:
        """Run the command on both stores; both succeed and print the same."""
        out = self.both(*args)
        assert out["file"].returncode == out["lake"].returncode == 0, out
        assert out["file"].stdout == out["lake"].stdout, args
        return out["file"].stdout


def arrive(pair: Pair, landed: list, sc, after: date, day: date) -> None:
    """What was received in (after, day]: the files by one ``sgs ingest``, the zero reports
    by ``sgs ledger --zero`` — into both stores."""
    for side, root in pair.roots.items():
        chunk = [str(root / f.path.relative_to(pair.roots["file"]))
                 for f in landed if after < f.received <= day]  # fmt: skip
        if chunk:
            ok(sgs(root, pair.stores[side], "ingest", *chunk))
        for z in sc.zeros:
            if after < z.received <= day:
                ok(sgs(root, pair.stores[side], "ledger", "--zero", "--unit", z.unit,
                       "--period", z.period, "--received", z.received.isoformat()))  # fmt: skip


@pytest.fixture(scope="module")
def months(postgres, tmp_path_factory) -> Pair:
    """The generated months (seed 1) into both stores as the office grows them: to September's
    bulletin day, when September is published, then to the end."""
    base = tmp_path_factory.mktemp("lake-months")
    pair = Pair(base, lake_store(postgres, "months"))
    sc = generate(seed=1)
    landed = land(sc, pair.roots["file"])
    shutil.copytree(pair.roots["file"] / "raw", pair.roots["lake"] / "raw")
    ok(sgs(pair.roots["lake"], pair.stores["lake"], "store", "init"))
    arrive(pair, landed, sc, date.min, BULLETIN)
    for side, root in pair.roots.items():
        ok(sgs(root, pair.stores[side], "publish", "--period", "2026-09", "--as-of",
               BULLETIN.isoformat(), "--by", "月通报"))  # fmt: skip
    arrive(pair, landed, sc, BULLETIN, date(2026, 12, 4))
    return pair


@MONTHS
def test_the_months_figures_are_the_same_on_the_lake(months: Pair) -> None:
    for period in PERIODS:
        rates = json.loads(months.same("rates", "--period", period, "--json"))
        assert any(r["uploaded"] for r in rates) and any(r["ledger_entries"] for r in rates)
        months.same("points", "--period", period, "--json")
        months.same("rates", "--period", period, "--as-of", "2026-11-05", "--json")
        months.same("rates", "--period", period, "--details", "unlisted", "--json")
    months.same("points", "--year", "2026", "--json")


@MONTHS
def test_the_published_month_is_the_same_on_the_lake(months: Pair) -> None:
    """What was published on the bulletin day, and what later files revised, read back (the
    time each store's ``sgs publish`` ran aside)."""
    for extra in ((), ("--ranking",)):
        runs = months.both("points", "--published", *extra, "--period", "2026-09", "--json")
        rows = {side: [{k: v for k, v in r.items() if k != "published_at"}
                       for r in json.loads(ok(run))] for side, run in runs.items()}  # fmt: skip
        assert rows["file"] == rows["lake"] and rows["file"]


@MONTHS
def test_the_bulletin_and_a_feedback_list_are_the_same_on_the_lake(months: Pair, tmp_path) -> None:
    books = {}
    for side, root in months.roots.items():
        out = tmp_path / f"{side}.xlsx"
        ok(sgs(root, months.stores[side], "report", "--period", "2026-10", "--out", str(out)))
        books[side] = workbook_values(out)
    for sheet, rows in books["file"].items():
        diff = [(a, b) for a, b in zip(rows, books["lake"][sheet], strict=True) if a != b]
        assert not diff, (sheet, diff[:3])
    lists = {}
    for side, root in months.roots.items():
        out = tmp_path / f"feedback-{side}.xlsx"
        ok(sgs(root, months.stores[side], "feedback", "--unit", UNIT, "--out", str(out)))
        lists[side] = workbook_values(out)
    for sheet, rows in lists["file"].items():
        diff = [(a, b) for a, b in zip(rows, lists["lake"][sheet], strict=True) if a != b]
        assert not diff, (sheet, diff[:3])
    assert sum(len(rows) for rows in lists["file"].values()) > 3


@MONTHS
def test_the_lake_holds_each_id_once(months: Pair) -> None:
    """Uniqueness the lake cannot enforce (no keys), checked by query, as for the file."""
    rows = lake_query(
        catalogue(months.stores["lake"]),
        "SELECT (SELECT count(*) - count(DISTINCT batch_id) FROM lake.batches),"
        " (SELECT count(*) - count(DISTINCT record_id) FROM lake.permits),"
        " (SELECT count(*) - count(DISTINCT record_id) FROM lake.penalties),"
        " (SELECT count(*) - count(DISTINCT entry_id) FROM lake.ledger_entries),"
        " (SELECT count(*) FROM lake.permits JOIN lake.penalties USING (record_id)),"
        " (SELECT count(*) FROM lake.batches)",
    )
    *repeats, batches = rows[0]
    assert repeats == [0, 0, 0, 0, 0] and batches > 20
    assert repeated_keys(months.roots["file"] / "curated" / "sgs.duckdb") == {}


def test_the_sample_landing_zone_gives_the_same_rates_on_the_lake(postgres, tmp_path) -> None:
    pair = Pair(tmp_path, lake_store(postgres, "samples"))
    for root in pair.roots.values():
        shutil.copytree(ROOT / "data" / "raw", root / "raw")
    ok(sgs(pair.roots["lake"], pair.stores["lake"], "store", "init"))
    for side, root in pair.roots.items():
        ok(sgs(root, pair.stores[side], "ingest", str(root / "raw")))
    for period in ("2026-10", "2026-11"):
        rates = json.loads(pair.same("rates", "--period", period, "--json"))
        assert any(r["uploaded"] for r in rates)
        pair.same("points", "--period", period, "--json")


def test_a_file_store_moves_onto_the_lake_with_its_figures(postgres, tmp_path) -> None:
    """``sgs store export`` of the embedded store, ``sgs store import`` into a new lake."""
    pair = Pair(tmp_path, lake_store(postgres, "moved"))
    shutil.copytree(ROOT / "data" / "raw", pair.roots["file"] / "raw")
    ok(sgs(pair.roots["file"], None, "ingest", str(pair.roots["file"] / "raw")))
    ok(sgs(pair.roots["file"], None, "store", "export", str(tmp_path / "export")))
    pair.roots["lake"].mkdir()
    ok(sgs(pair.roots["lake"], pair.stores["lake"], "store", "init"))
    ok(sgs(pair.roots["lake"], pair.stores["lake"], "store", "import", str(tmp_path / "export")))
    rates = json.loads(pair.same("rates", "--period", "2026-10", "--json"))
    assert any(r["uploaded"] for r in rates)


# ----------------------------------------------------------------------------- the lake's own


@pytest.fixture(scope="module")
def initialised(postgres, tmp_path_factory) -> tuple[Path, str]:
    """One lake made by ``sgs store init`` per test worker: its data root and database."""
    root = tmp_path_factory.mktemp("lake-template")
    ok(sgs(root, lake_store(postgres, "lake_template"), "store", "init"))
    return root, "lake_template"


@pytest.fixture
def lake(postgres, initialised, tmp_path, request) -> tuple[Path, str]:
    """An initialised, empty lake and its data root: a copy of :func:`initialised` — its
    catalogue through PostgreSQL's template databases (0.05 s against 2.6–3 s for ``sgs store
    init``, which the template and the tests of ``init`` run), its data folder copied."""
    template_root, template = initialised
    name = request.node.name[:40].lower()
    store = "ducklake:postgres:" + postgres.new_database(name, template)
    shutil.copytree(template_root, tmp_path, dirs_exist_ok=True)
    return tmp_path, store


def sample_file(root: Path, rows: int = 300, seed: int = 0) -> Path:
    out = root / f"许可_{seed}.csv"
    ok(sgs(root, None, "sample", "permit", str(rows), "--unit", UNIT, "--seed", str(seed),
           "--out", str(out)))  # fmt: skip
    return out


def ingest(root: Path, store: str, path: Path, **kw) -> subprocess.CompletedProcess:
    return sgs(root, store, "ingest", str(path), "--unit", UNIT, "--received", "2026-11-02", **kw)


def counts(store: str) -> tuple[int, int]:
    return lake_query(catalogue(store), "SELECT (SELECT count(*) FROM lake.batches),"
                                        " (SELECT count(*) FROM lake.permits)")[0]  # fmt: skip


def parquet_files(root: Path) -> set[Path]:
    return set((root / "lake").rglob("*.parquet"))


def test_store_init_is_idempotent_and_the_only_schema_change(lake) -> None:
    root, store = lake
    first = as_json(sgs(root, store, "store", "init", "--json"))
    assert first["backend"] == "ducklake" and first["units"] > 30 and first["calendar_days"] > 3000
    schema = "SELECT max(schema_version) FROM ducklake_snapshots('lake')"
    before = lake_query(catalogue(store), schema)
    again = as_json(sgs(root, store, "store", "init", "--json"))
    assert again == first
    ok(ingest(root, store, sample_file(root)))
    ok(sgs(root, store, "ledger", "--zero", "--unit", "111404000720078935", "--period", "2026-10"))
    ok(sgs(root, store, "publish", "--period", "2026-10"))
    assert lake_query(catalogue(store), schema) == before  # writers never ran DDL
    assert counts(store) == (2, 300)


def test_store_init_takes_the_office_s_edited_units_into_the_lake(lake, tmp_path) -> None:
    """Readers see an edited registry at once; ``sgs store init`` writes it into the lake."""
    root, store = lake
    lines = (ROOT / "config" / "units.csv").read_text(encoding="utf-8").rstrip("\n").split("\n")
    edited = tmp_path / "units.csv"
    edited.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the last unit removed
    gone = lines[-1].split(",")[1]
    stored = "SELECT count(*) FROM lake.units"
    (before,) = lake_query(catalogue(store), stored)[0]
    shown = json.loads(ok(sgs(root, store, "rates", "--period", "2026-10", "--json", units=edited)))
    assert gone not in {r["unit_name"] for r in shown}
    assert lake_query(catalogue(store), stored)[0] == (before,)  # a reader wrote nothing
    done = as_json(sgs(root, store, "store", "init", "--json", units=edited))
    assert done["units"] == before - 1 == lake_query(catalogue(store), stored)[0][0]


def test_commands_on_a_lake_never_initialised_say_so(postgres, tmp_path) -> None:
    store = lake_store(postgres, "never")
    for args in (["rates", "--period", "2026-10"], ["store", "export", str(tmp_path / "x")]):
        run = sgs(tmp_path, store, *args)
        assert run.returncode == 2, run.stdout + run.stderr
        assert "sgs store init" in run.stderr and "Traceback" not in run.stderr
    run = ingest(tmp_path, store, sample_file(tmp_path, rows=5))
    assert "sgs store init" in run.stdout + run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "curated" / "sgs.duckdb").exists()


def test_a_writer_killed_mid_file_leaves_nothing_and_the_next_run_stores_it(lake) -> None:
    root, store = lake
    path = sample_file(root)
    files_before = parquet_files(root)
    run = ingest(root, store, path, fault="after-records")
    assert run.returncode == -signal.SIGKILL
    assert counts(store) == (0, 0)
    orphans = parquet_files(root) - files_before
    assert orphans, "the killed insert had written its Parquet file"
    # the advisory lock died with its holder: the next writer does not wait for it
    ok(ingest(root, store, path, lock_timeout=5))
    assert counts(store) == (1, 300)
    tidy = as_json(sgs(root, store, "store", "tidy", "--json"))
    assert tidy["files_after"] < tidy["files_before"]
    assert not orphans & parquet_files(root)
    assert counts(store) == (1, 300)
    again = ingest(root, store, path)
    assert "跳过" in ok(again) and counts(store) == (1, 300)


def test_a_commit_overtaken_by_another_is_written_again(lake) -> None:
    """``SGS_FAULT=lake-conflict``: just before the file's commit another connection commits;
    DuckLake refuses the first commit (no retries of its own) and sgs writes the file again."""
    root, store = lake
    ok(ingest(root, store, sample_file(root), fault="lake-conflict"))
    assert counts(store) == (1, 300)
    snapshots = lake_query(
        catalogue(store),
        "SELECT snapshot_id, changes FROM ducklake_snapshots('lake') ORDER BY snapshot_id",
    )
    texts = [str(changes) for _, changes in snapshots]
    overtaking = max(i for i, t in enumerate(texts) if "meta" in t or "tables_deleted_from" in t)
    storing = max(i for i, t in enumerate(texts) if "tables_inserted_into" in t)
    assert overtaking < storing  # the file's write committed after the one that overtook it


def test_writers_queue_on_the_advisory_lock(lake, postgres) -> None:
    """A second writer waits for the lock, and gives up in Chinese past its timeout."""
    import psycopg

    root, store = lake
    path = sample_file(root, rows=5)
    with psycopg.connect(catalogue(store), autocommit=True) as held:
        held.execute("SELECT pg_advisory_lock(%s)", [0x7367732D6C616B65])
        run = ingest(root, store, path, lock_timeout=1)
    assert "湖仓正被另一个任务写入" in run.stdout + run.stderr
    assert counts(store) == (0, 0)
    ok(ingest(root, store, path, lock_timeout=5))
    assert counts(store) == (1, 5)


def test_a_password_never_reaches_a_message(postgres, tmp_path) -> None:
    secret = "Geheim-7731"
    wrong = f"ducklake:postgres:host={tmp_path} port=1 user=postgres dbname=x password={secret}"
    uri = f"ducklake:postgres:postgresql://postgres:{secret}@localhost:1/x"
    for store in (wrong, uri):
        for args in (["rates", "--period", "2026-10"], ["store", "init"]):
            run = sgs(tmp_path, store, *args)
            assert run.returncode == 2, run.stdout + run.stderr
            assert secret not in run.stdout + run.stderr
            assert "***" in run.stderr and "Traceback" not in run.stderr


def test_a_data_folder_that_is_not_the_lake_s_is_refused(lake, tmp_path_factory) -> None:
    root, store = lake

    def with_lake_data(folder: Path, *args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
        env |= {"SGS_DATA_DIR": str(root), "SGS_STORE": store, "SGS_LAKE_DATA": str(folder)}
        return warm_sgs.run([*args], env=env, timeout=120)

    elsewhere = tmp_path_factory.mktemp("other-mount")
    run = with_lake_data(elsewhere, "rates", "--period", "2026-10")
    assert run.returncode == 2 and "SGS_LAKE_DATA" in run.stderr, run.stderr
    again = with_lake_data(elsewhere, "store", "init")
    assert again.returncode == 2 and "SGS_LAKE_DATA" in again.stderr, again.stderr
    assert not list(elsewhere.iterdir())  # init did not take the wrong folder for the lake's
    # the same folder under another path (another machine's mount) is accepted
    mount = tmp_path_factory.mktemp("mount") / "lake"
    mount.symlink_to(root / "lake")
    run = with_lake_data(mount, "rates", "--period", "2026-10", "--json")
    assert run.returncode == 0, run.stderr


def test_one_duckdb_version_for_the_project_and_its_extension_wheels() -> None:
    """duckdb and both extension wheels are locked at one version, and the installed DuckDB is
    the one their files are built for."""
    import duckdb

    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    versions = {p["name"]: p["version"] for p in lock["package"]}
    wanted = {"duckdb", "duckdb-extension-ducklake", "duckdb-extension-postgres-scanner"}
    assert {versions[n] for n in wanted} == {duckdb.__version__}
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert {d for d in pins["project"]["dependencies"] if d.split("==")[0] in wanted} == {
        f"{n}=={duckdb.__version__}" for n in wanted
    }


def test_a_lake_connection_loads_the_wheels_extensions_and_no_other(lake) -> None:
    """The two extensions are loaded from the installed wheels without DuckDB's signature check
    (it hashed 76 MB at every connection): the lock file holds each wheel's hash, which uv
    checked when it installed them.  In exchange the connection installs and autoloads no other
    extension: a query needing one is refused rather than fetching or loading it."""
    import duckdb

    from sgs.store import lake as lakes

    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    for package in lock["package"]:
        if package["name"] in ("duckdb-extension-ducklake", "duckdb-extension-postgres-scanner"):
            assert package["wheels"] and all(
                w["hash"].startswith("sha256:") for w in package["wheels"]
            )
    root, store = lake
    con = lakes.connect(lakes.Lake(catalogue(store), (root / "lake").resolve()), read_only=True)
    try:
        loaded = con.execute(
            "SELECT extension_name FROM duckdb_extensions()"
            " WHERE loaded AND install_mode <> 'STATICALLY_LINKED' ORDER BY 1"
        ).fetchall()
        assert loaded == [("ducklake",), ("postgres_scanner",)]
        assert con.execute("SELECT count(*) FROM batches").fetchone() == (0,)
        with pytest.raises(duckdb.Error, match="requires the extension httpfs to be loaded"):
            con.execute("SELECT * FROM read_csv('https://example.invalid/x.csv')")
    finally:
        con.close()


def test_a_duckdb_the_wheels_were_not_built_for_is_refused() -> None:
    code = (
        "import duckdb; duckdb.__version__ = '9.9.9'\n"
        "from sgs.store.lake import check_versions\n"
        "try:\n    check_versions()\nexcept Exception as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("StoreUnavailable DuckDB 版本 9.9.9"), out.stdout + out.stderr
    assert "v1.5.5" in out.stdout


@MONTHS
def test_the_office_s_month_page_reads_the_lake(months: Pair, postgres, monkeypatch) -> None:
    """The download page on the lake: the month's table cell for cell as on the file; a lake
    never initialised is a Chinese 503 that names no catalogue."""
    from starlette.testclient import TestClient
    from support.web_login import login

    from sgs.web.app import create_app

    monkeypatch.setenv("SGS_TODAY", TODAY)
    cells = {}
    for side, root in months.roots.items():
        if months.stores[side] is None:
            monkeypatch.delenv("SGS_STORE", raising=False)
        else:
            monkeypatch.setenv("SGS_STORE", months.stores[side])
        client = TestClient(create_app(root, "口令-lake"))
        assert login(client, "口令-lake").status_code == 303
        page = client.get("/?period=2026-10")
        assert page.status_code == 200, page.text[:500]
        cells[side] = re.findall(r"<td[^>]*>(.*?)</td>", page.text, re.S)
    assert cells["file"] == cells["lake"] and len(cells["file"]) > 50
    never = lake_store(postgres, "never-web")
    monkeypatch.setenv("SGS_STORE", never)
    client = TestClient(create_app(months.roots["lake"], "口令-lake"))
    assert login(client, "口令-lake").status_code == 303
    page = client.get("/?period=2026-10")
    assert page.status_code == 503 and "数据库暂不可用" in page.text
    assert "dbname" not in page.text and "never-web" not in page.text
