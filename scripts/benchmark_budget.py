"""The CPU budget of issue 22's big-ingest row: can ``sgs ingest`` of the 1M-row file take at
most 1.5× the wall time of ``sgs validate`` of it, on this machine?

Whatever the design, an ingest does at least the validation's work and the insert of the
records into the store (the tables are fixed: item 5 of the issue).  On ``C`` cores its wall time
is therefore at least ``(validation CPU + insert CPU) / C`` — if every core were busy all the
time, which nothing reaches.  This script measures the three terms, each its own process:

- ``sgs validate`` of the file: wall and CPU seconds (user + system, from ``wait4``);
- a bare ``polars.read_csv`` of it: the least reading any ingest does (its CPU is the floor
  for the reading and checking, should an ingest check more cheaply than ``sgs validate``);
- ``sgs ingest`` of it into a new store: wall and CPU (for the record);
- the insert alone: the records that ingest stored, read back into a fresh process and
  inserted into a new store exactly as the writer does (Arrow with string views,
  ``preserve_insertion_order = false``, the writer's row groups, one transaction), with
  DuckDB's default threads and with one thread (the least CPU the insert can take), and into
  the same table in an in-memory database (the Arrow hand-over alone: what the insert would
  cost if compressing and writing the file were free);

and prints two bounds beside the target: with the validation's CPU, and with the bare read's
(an ingest that read the file and checked nothing could not be faster).  A script, not a test.

Run:  .venv/bin/python scripts/benchmark_budget.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import BENCH, PYTHON, RECEIVED, SGS, ensure_file

UNIT = "111404000448224608"  # 长治市行政审批服务管理局

INSERT_ALONE = r"""
import json, resource, sys, time
from pathlib import Path
import duckdb, polars as pl
from sgs.store import database
from sgs.store.sql import register

source, root, threads = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with duckdb.connect(str(source), read_only=True) as con:
    con.execute("SET enable_progress_bar = false")
    records = pl.from_arrow(con.execute("SELECT * FROM permits ORDER BY record_id").arrow())
with database.writer(root) as con:  # a new store: the schema, units and calendar made here
    if threads == "memory":  # the same table in memory: the hand-over, no compression, no file
        ddl = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'permits'")
        con = duckdb.connect(":memory:")
        con.execute(ddl.fetchone()[0])
    con.execute("SET enable_progress_bar = false")
    if threads not in ("default", "memory"):
        con.execute(f"SET threads = {int(threads)}")
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    register(con, "records_frame", records, string_views=True)
    con.execute("SET preserve_insertion_order = false")
    con.execute("INSERT INTO permits BY NAME SELECT * FROM records_frame")
    con.execute("COMMIT")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"rows": records.height, "wall": wall, "cpu": cpu}))
"""


def process(
    cmd: list[str], env: dict[str, str] | None = None, codes: tuple[int, ...] = (0,)
) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the process and its threads) and stdout; a
    process ending with another exit code than ``codes`` stops the script (a failed ingest is
    quick and would pass for a fast one)."""
    out = BENCH / "budget-out.txt"
    with out.open("wb") as fh:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in codes:
        raise SystemExit(f"{cmd[:3]} failed: {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime, out.read_text()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = ensure_file(args.rows)
    store = BENCH / "budget-store"
    cores = len(os.sched_getaffinity(0))
    validate, bare, ingest, insert, insert_one, in_memory = [], [], [], [], [], []
    for _ in range(args.repeat):
        bare.append(process([str(PYTHON), "-c",
                             f"import polars as pl; pl.read_csv({str(path)!r})"])[:2])  # fmt: skip
        validate.append(process([str(SGS), "validate", str(path), "--json",
                                 "--received", RECEIVED], codes=(0, 1))[:2])  # fmt: skip
        shutil.rmtree(store, ignore_errors=True)
        env = os.environ | {"SGS_DATA_DIR": str(store)}
        ingest.append(process([str(SGS), "ingest", str(path), "--unit", UNIT, "--received",
                               RECEIVED, "--json"], env)[:2])  # fmt: skip
        for threads, into in (("default", insert), ("1", insert_one), ("memory", in_memory)):
            fresh = BENCH / "budget-insert"
            shutil.rmtree(fresh, ignore_errors=True)
            _, _, out = process([str(PYTHON), "-c", INSERT_ALONE,
                                 str(store / "curated" / "sgs.duckdb"), str(fresh), threads])  # fmt: skip
            got = json.loads(out.strip().splitlines()[-1])
            into.append((got["wall"], got["cpu"]))

    def med(pairs: list[tuple[float, float]], i: int) -> float:
        return round(statistics.median(p[i] for p in pairs), 2)

    v_wall, v_cpu = med(validate, 0), med(validate, 1)
    least_insert_cpu = min(med(insert, 1), med(insert_one, 1))
    bound = (v_cpu + least_insert_cpu) / cores
    floor = (med(bare, 1) + least_insert_cpu) / cores
    print(json.dumps({
        "rows": args.rows, "cores": cores, "load_average": os.getloadavg(),
        "validate": {"wall_s": v_wall, "cpu_s": v_cpu},
        "bare_read": {"wall_s": med(bare, 0), "cpu_s": med(bare, 1)},
        "ingest": {"wall_s": med(ingest, 0), "cpu_s": med(ingest, 1),
                   "ratio": round(med(ingest, 0) / v_wall, 2)},
        "insert_alone": {"wall_s": med(insert, 0), "cpu_s": med(insert, 1)},
        "insert_alone_one_thread": {"wall_s": med(insert_one, 0), "cpu_s": med(insert_one, 1)},
        "insert_into_memory": {"wall_s": med(in_memory, 0), "cpu_s": med(in_memory, 1)},
        "target_wall_s": round(1.5 * v_wall, 2),
        "least_possible_wall_s": round(bound, 2),
        "least_possible_ratio": round(bound / v_wall, 2),
        "floor_read_and_insert_wall_s": round(floor, 2),
        "floor_ratio": round(floor / v_wall, 2),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
