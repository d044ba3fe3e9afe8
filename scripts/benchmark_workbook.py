"""Benchmark of ``sgs validate`` on an XLSX against the CSV of the same rows (issue 20).

Run:  .venv/bin/python scripts/benchmark_workbook.py [--rows 100000 1000000] [--repeat 1]

For each size it generates, once (cached in .bench/), a permit CSV and a permit XLSX of the same
records (``sgs sample permit N --defects 0.05 --seed 1``, the same rows in both), then runs
``sgs validate FILE --json`` on each as a whole process, alternating, and reports wall time and
peak RSS (``wait4``, per process) and the XLSX/CSV ratios — the target is at most 3× the time and
2× the peak memory.  The numbers are ratios from one run on a shared machine: a script, not a
test (timing assertions in tests measure the CI machine's mood).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

# The validation benchmark's samples and its wait4 timing, shared rather than copied.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import RECEIVED, SGS, ensure_file, run


def measure(rows: int, repeat: int) -> dict:
    files = {ext: ensure_file(rows, ext) for ext in ("csv", "xlsx")}
    runs: dict[str, list[tuple[float, float, int]]] = {"csv": [], "xlsx": []}
    for _ in range(repeat):
        for ext, path in files.items():
            runs[ext].append(
                run([str(SGS), "validate", str(path), "--json", "--received", RECEIVED])
            )
    out: dict = {"rows": rows}
    for ext, done in runs.items():
        out[f"{ext}_mib"] = round(files[ext].stat().st_size / 2**20, 1)
        out[f"{ext}_s"] = round(statistics.median(w for w, _, _ in done), 2)
        out[f"{ext}_rss_mib"] = round(max(r for _, r, _ in done))
        out[f"{ext}_exit"] = done[0][2]
    out["time_ratio"] = round(out["xlsx_s"] / out["csv_s"], 2)
    out["rss_ratio"] = round(out["xlsx_rss_mib"] / out["csv_rss_mib"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for rows in args.rows:
        print(json.dumps(measure(rows, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
