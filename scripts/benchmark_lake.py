"""The store on DuckLake against the embedded file, at a million records (issue 23, item 6).

Run:  .venv/bin/python scripts/benchmark_lake.py [--repeat 5]

Both stores start from the year of ``scripts/benchmark_store.py`` (1,000,000 records, 3,600
batches; ``.bench/year-1.5.5``, made by ``scripts/benchmark_versions.py``): the file is a copy of
it, the lake is made from it by ``sgs store export`` / ``sgs store init`` / ``sgs store import``
into a private PostgreSQL started for the run (``tests/support/postgres.py``), Parquet files in
``.bench/lake-data``.  Then, as whole ``sgs`` processes, the two stores alternating:

* ``sgs store init`` on the million records (nothing to change: what every deployment's re-run
  costs);
* ``sgs ingest`` of one 30-row file (distinct files, ``.bench/small-100``);
* ``sgs ingest`` of 100 files of 30 rows in one process (``.bench/small-lake-100``: other
  decisions than the single files');
* ``sgs rates --period 2025-06 --json``, the month's rates over the million records.

Medians and minima of ``--repeat`` runs (the 100-file ingest and the import once each: they
change the store).  A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from benchmark import BENCH, RECEIVED, SGS, run
from benchmark_ingest import UNIT, small_files

YEAR = BENCH / "year-1.5.5"
WORK = BENCH / "lake-bench"


def sgs(env: dict[str, str], *args: str) -> tuple[float, float, int]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        return run([str(SGS), *args])
    finally:
        os.environ.clear()
        os.environ.update(saved)


def line(label: str, file: list[float], lake: list[float]) -> str:
    f, k = statistics.median(file), statistics.median(lake)
    return (f"| {label} | {f:.2f} s (min {min(file):.2f}) | {k:.2f} s (min {min(lake):.2f}) "
            f"| {k / f:.2f}× |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not (YEAR / "curated" / "sgs.duckdb").exists():
        sys.exit(f"{YEAR} is missing: scripts/benchmark_versions.py builds it")
    from support import postgres

    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(YEAR, WORK / "file")
    (WORK / "lake").mkdir(parents=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    cluster = postgres.start()
    try:
        store = "ducklake:postgres:" + cluster.new_database("bench")
        file_env = base | {"SGS_DATA_DIR": str(WORK / "file")}
        lake_env = base | {"SGS_DATA_DIR": str(WORK / "lake"), "SGS_STORE": store,
                           "SGS_LAKE_DATA": str(WORK / "lake-data")}  # fmt: skip
        # brings the copied store up to this version first (its DDL), as a deployment would
        assert sgs(file_env, "store", "init")[2] == 0
        assert sgs(file_env, "store", "export", str(WORK / "export"))[2] == 0
        new_init = sgs(lake_env, "store", "init")
        imported = sgs(lake_env, "store", "import", str(WORK / "export"))
        assert new_init[2] == 0 and imported[2] == 0, (new_init, imported)
        print(
            f"lake: init of a new catalogue {new_init[0]:.2f} s, import of the year "
            f"{imported[0]:.2f} s"
        )
        singles = sorted(small_files(100).glob("*.csv"))
        hundred = small_files(100, name="small-lake", first=10_000)
        results: dict[str, dict[str, list[float]]] = {}

        def both(label: str, *cmd: str) -> None:
            for side, env in (("file", file_env), ("lake", lake_env)):
                wall, _, code = sgs(env, *cmd)
                assert code in (0, 1), (side, cmd, code)
                results.setdefault(label, {}).setdefault(side, []).append(wall)

        for i in range(args.repeat):
            both("`sgs store init` (1M records, nothing to change)", "store", "init")
            both("`sgs ingest` of one 30-row file", "ingest", str(singles[i]), "--unit", UNIT,
                 "--received", RECEIVED)  # fmt: skip
            both("`sgs rates --period 2025-06 --json` (1M records)", "rates", "--period",
                 "2025-06", "--json")  # fmt: skip
        both("`sgs ingest` of 100 files of 30 rows (one process)", "ingest", str(hundred),
             "--unit", UNIT, "--received", RECEIVED)  # fmt: skip
        print("\n| work | file | lake | lake / file |\n|---|---|---|---|")
        for label, sides in results.items():
            print(line(label, sides["file"], sides["lake"]))
        tidy = sgs(lake_env, "store", "tidy")
        print(f"\n`sgs store tidy` after the runs: {tidy[0]:.2f} s")
    finally:
        cluster.stop()
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
