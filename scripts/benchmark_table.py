"""Every row of issue 22's table, measured side by side in one run (``benchmark.py --table``).

Run:  .venv/bin/python scripts/benchmark.py --table [--repeat 5]

Each row is a ratio or a time of whole processes, medians and minima over ``--repeat`` runs,
the two sides of a ratio alternating:

1. ``sgs validate`` of the 1M-row permit CSV against a bare ``polars.read_csv`` of it;
2. the same at 100k rows;
3. each extra 30-row file in one ``sgs ingest`` of 100 files (``benchmark_ingest.per_file``);
4. ``sgs ingest`` of the 1M-row file into a store that exists against ``sgs validate`` of it;
5. the daily flow, extra per 100k rows, against ``sgs validate`` of 100k rows: the flow file
   run (``python flows/daily_monitor.py``, against one Prefect server started here for the
   whole run, so no run pays a server's start) over a landing zone holding the 100k-row file,
   less the same over a 30-row file — what the flow adds for the rows, checks, rates and
   feedback included — divided by the whole ``sgs validate`` process of the 100k-row file;
6. Great Expectations' start in a daily run: in a fresh process, the first batch check
   (``sgs.jobs.daily.check_batch``, which imports GE and builds its context) less a second
   check of the same batch;
7. ``sgs rates --period 2025-06 --json`` on a year of 1M records (the store of
   ``benchmark_store.py``, built on first use and kept in ``.bench/store``).

The load average is printed at the start and the end.  This is a script, not a test.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from benchmark import BENCH, PYTHON, RECEIVED, ROOT, SGS, ensure_file, run
from benchmark_ingest import UNIT, big_runs, existing_store, per_file_runs, small_files

PREFECT = ROOT / ".venv" / "bin" / "prefect"
YEAR = BENCH / "store"


def _stats(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} (min {min(values):.3g})"


def _row(name: str, values: list[float], unit: str, goal: str) -> None:
    print(f"| {name} | {_stats(values)} {unit} | {goal} |", flush=True)


def validate_vs_bare(rows: int, repeat: int) -> list[float]:
    path = ensure_file(rows)
    bare = [str(PYTHON), "-c", f"import polars as pl; pl.read_csv({str(path)!r})"]
    check = [str(SGS), "validate", str(path), "--json", "--received", RECEIVED]
    ratios = []
    for _ in range(repeat):
        b = run(bare)[0]
        ratios.append(run(check, BENCH / "out.json")[0] / b)
    return ratios


def per_small_file(repeat: int, files: int = 100) -> list[float]:
    return per_file_runs(files, repeat)[2]


def ingest_vs_validate(rows: int, repeat: int) -> list[float]:
    checked, _, into = big_runs(rows, repeat, fresh=False)
    return [i[0] / v[0] for i, v in zip(into, checked, strict=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prefect_server() -> tuple[subprocess.Popen, str]:
    """One Prefect server for every flow run of the benchmark."""
    port = _free_port()
    home = BENCH / "prefect-home"
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                        "DO_NOT_TRACK": "1"}  # fmt: skip
    server = subprocess.Popen(
        [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2):
                return server, api
        except OSError:
            time.sleep(1)
    server.kill()
    raise SystemExit("the Prefect server did not start")


def _daily_run(upload: Path, api: str) -> float:
    root = BENCH / "daily"
    shutil.rmtree(root, ignore_errors=True)
    landed = root / "raw" / UNIT / RECEIVED / "许可.csv"
    landed.parent.mkdir(parents=True)
    shutil.copy(upload, landed)
    env = os.environ | {"SGS_DATA_DIR": str(root), "PREFECT_API_URL": api,
                        "PREFECT_HOME": str(BENCH / "prefect-home")}  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run([str(PYTHON), str(ROOT / "flows" / "daily_monitor.py")], env=env,
                          capture_output=True, check=False)  # fmt: skip
    if done.returncode:
        raise SystemExit(done.stderr.decode(errors="replace")[-2000:])
    return time.perf_counter() - start


def daily_per_100k(repeat: int) -> list[float]:
    big = ensure_file(100_000)
    small = sorted(small_files(100).glob("*.csv"))[0]
    check = [str(SGS), "validate", str(big), "--json", "--received", RECEIVED]
    server, api = _prefect_server()
    ratios = []
    try:
        for _ in range(repeat):
            flow = _daily_run(big, api) - _daily_run(small, api)
            ratios.append(flow / run(check, BENCH / "out.json")[0])
    finally:
        server.terminate()
        server.wait()
    return ratios


GE_START = """
import os, sys, time
from datetime import date
from sgs.jobs.daily import check_batch
t0 = time.perf_counter(); check_batch(1, date(2026, 11, 10))
t1 = time.perf_counter(); check_batch(1, date(2026, 11, 10))
t2 = time.perf_counter()
print((t1 - t0) - (t2 - t1))
"""


def ge_start(repeat: int) -> list[float]:
    template = existing_store()
    out = []
    for _ in range(repeat):
        store = BENCH / "ge-store"
        shutil.rmtree(store, ignore_errors=True)
        shutil.copytree(template, store)
        done = subprocess.run([str(PYTHON), "-c", GE_START], env=os.environ | {
            "SGS_DATA_DIR": str(store), "GX_ANALYTICS_ENABLED": "False"},
            capture_output=True, text=True, check=True)  # fmt: skip
        out.append(float(done.stdout.strip().splitlines()[-1]))
    return out


def rates_of_a_year(repeat: int) -> list[float]:
    if not (YEAR / "data" / "curated" / "sgs.duckdb").exists():
        print("building the year's store (benchmark_store.py) …", file=sys.stderr)
        subprocess.run([str(PYTHON), str(ROOT / "scripts" / "benchmark_store.py")], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    env = os.environ | {"SGS_DATA_DIR": str(YEAR / "data"),
                        "SGS_UNITS_FILE": str(YEAR / "units.csv")}  # fmt: skip
    cmd = [str(SGS), "rates", "--period", "2025-06", "--json"]
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


def main_table(repeat: int) -> None:
    print(f"load average at the start: {os.getloadavg()[0]:.2f}; {repeat} runs each\n")
    print("| work | median (min) | goal |")
    print("|---|---|---|")
    _row("`sgs validate` 1M permit rows vs a bare `polars.read_csv`",
         validate_vs_bare(1_000_000, repeat), "×", "≤ 2.0×")  # fmt: skip
    _row("`sgs validate` 100k rows vs bare read", validate_vs_bare(100_000, repeat), "×", "≤ 2.0×")
    _row("each extra 30-row file in one `sgs ingest` of 100 files", per_small_file(repeat), "ms",
         "≤ 60 ms")  # fmt: skip
    _row("`sgs ingest` of a 1M-row file vs `sgs validate` of it",
         ingest_vs_validate(1_000_000, repeat), "×", "≤ 1.5×")  # fmt: skip
    _row("daily flow, extra per 100k rows vs validate", daily_per_100k(repeat), "×", "≤ 1.5×")
    _row("Great Expectations' start in a daily run", ge_start(repeat), "s", "≤ 2 s added")
    _row("`sgs rates --json`, a year of 1M records, whole process", rates_of_a_year(repeat), "s",
         "≤ 0.5 s")  # fmt: skip
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
