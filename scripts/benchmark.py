"""Benchmark of ``sgs validate`` against a bare ``polars.read_csv`` of the same file.

Run:  .venv/bin/python scripts/benchmark.py [--rows 100000 1000000] [--repeat 3]

For each size it generates a permit CSV with 5% defects (cached in .bench/), then times, as
whole processes in the same run and alternating: a bare ``polars.read_csv`` of the file, and
``sgs validate FILE --json`` with the JSON written to a file.  It reports the median wall time,
rows/s, peak RSS (from wait4, per process) and the ratio.  It also measures, in process, the
phases of a validation and pandera's per-check overhead: the same rule expressions evaluated
by pandera (one pass per check) versus all at once in a single polars ``select``.

With ``--anchors`` it measures instead, for each size (default 10k, 100k, 1M) and format (CSV,
and XLSX up to Excel's 1,048,576 rows), four whole processes side by side, medians and minima
of ``--repeat`` (default 5): the bare read (``polars.read_csv``; for an XLSX, sgs's reader alone,
there being no other reader of the same cells here), the same rules run by pandera alone and by
one hand-written polars ``select`` (each after sgs's read, normalising and shared work), and
``sgs validate --json``; each as a ratio to the bare read, with time and peak memory per row.
The ingest rows (per small file, a big file against its validation) are
``scripts/benchmark_ingest.py``'s.  With ``--table`` it measures every row of issue 22's table
side by side in one run (``scripts/benchmark_table.py`` says how each is measured).

This is a script, not a test: timing assertions in tests only measure the CI machine's mood.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / ".bench"
PYTHON = ROOT / ".venv" / "bin" / "python"
SGS = ROOT / ".venv" / "bin" / "sgs"
RECEIVED = "2026-11-01"


def run(cmd: list[str], stdout_path: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MiB and exit code of one process."""
    out = stdout_path.open("wb") if stdout_path else subprocess.DEVNULL
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def ensure_file(rows: int, ext: str = "csv") -> Path:
    """The cached sample permit file of ``rows`` records (the same records in every format)."""
    path = BENCH / f"permit_{rows}.{ext}"
    if not path.exists():
        BENCH.mkdir(exist_ok=True)
        print(f"generating {path.name} …", file=sys.stderr)
        subprocess.run(
            [str(SGS), "sample", "permit", str(rows), "--out", str(path), "--defects", "0.05",
             "--seed", "1", "--received", RECEIVED],
            check=True,
        )  # fmt: skip
    return path


def measure(path: Path, repeat: int) -> dict:
    bare_cmd = [str(PYTHON), "-c", f"import polars as pl; pl.read_csv({str(path)!r})"]
    sgs_cmd = [str(SGS), "validate", str(path), "--json", "--received", RECEIVED]
    bare, sgs = [], []
    for _ in range(repeat):
        bare.append(run(bare_cmd))
        sgs.append(run(sgs_cmd, BENCH / "out.json"))
    rows = sum(1 for _ in path.open("rb")) - 1
    b = statistics.median(w for w, _, _ in bare)
    s = statistics.median(w for w, _, _ in sgs)
    return {
        "rows": rows,
        "file_mib": round(path.stat().st_size / 2**20),
        "bare_s": round(b, 2),
        "bare_rss_mib": round(max(r for _, r, _ in bare)),
        "sgs_s": round(s, 2),
        "sgs_rss_mib": round(max(r for _, r, _ in sgs)),
        "sgs_exit": sgs[0][2],
        "ratio": round(s / b, 2),
        "rows_per_s": round(rows / s),
        "errors_json_mib": round((BENCH / "out.json").stat().st_size / 2**20, 1),
    }


def phases(path: Path) -> dict:
    """In-process phase times, and pandera versus one polars select over the same rules."""
    import polars as pl

    from sgs.intake.readers import read_upload
    from sgs.reference.catalogue import load_catalogue
    from sgs.validate.normalise import normalise
    from sgs.validate.pandera_schema import failure_table, run_schema, schema_for
    from sgs.validate.rules import build_rules, prepare

    out: dict[str, float] = {}
    t = time.perf_counter()
    upload = read_upload(path)
    out["read"] = time.perf_counter() - t
    spec = load_catalogue().kind(upload.kind)
    t = time.perf_counter()
    norm = normalise(upload.frame, spec.fields)
    out["normalise"] = time.perf_counter() - t
    t = time.perf_counter()
    frame = prepare(norm, spec, date.fromisoformat(RECEIVED))
    out["prepare (shared work)"] = time.perf_counter() - t
    schema_for(upload.kind)
    t = time.perf_counter()
    failures = failure_table(upload.kind, frame)
    out["pandera checks (one schema per core, as sgs runs them)"] = time.perf_counter() - t
    t = time.perf_counter()
    single = run_schema(schema_for(upload.kind), frame)
    out["pandera checks (one schema, sequential)"] = time.perf_counter() - t
    assert single is not None and single.height == failures.height
    rules = build_rules(upload.kind)
    t = time.perf_counter()
    flags = (
        frame.lazy()
        .select((~r.ok.fill_null(True)).alias(r.label) for r in rules)
        .with_row_index("index")
    )
    direct = (
        flags.unpivot(index="index", variable_name="label", value_name="failed")
        .filter(pl.col("failed"))
        .collect()
    )
    out["same rules, one polars select"] = time.perf_counter() - t
    assert direct.height == failures.height, (direct.height, failures.height)
    out["checks"] = len(rules)
    sequential = out["pandera checks (one schema, sequential)"]
    out["pandera overhead per check (ms)"] = (
        1000 * (sequential - out["same rules, one polars select"]) / len(rules)
    )
    out["failures"] = failures.height
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}


# The same rules without the rest of sgs validate: after sgs's read, normalising and shared work,
# run by pandera alone or by one polars select.
ANCHOR = r"""
import sys
from datetime import date
from sgs.intake.readers import read_upload
from sgs.reference.catalogue import load_catalogue
from sgs.validate.normalise import normalise
from sgs.validate.rules import build_rules, prepare
path, how, received = sys.argv[1:4]
upload = read_upload(path)
if how != "read":
    spec = load_catalogue().kind(upload.kind)
    frame = prepare(normalise(upload.frame, spec.fields), spec, date.fromisoformat(received))
    if how == "pandera":
        from sgs.validate.pandera_schema import run_schema, schema_for
        run_schema(schema_for(upload.kind), frame)
    else:
        rules = build_rules(upload.kind)
        frame.lazy().select((~r.ok.fill_null(True)).alias(r.label) for r in rules).collect()
"""


def anchors(rows: int, ext: str, repeat: int) -> dict:
    """Bare read, pandera alone, hand-written polars and sgs validate on one file, alternating."""
    path = ensure_file(rows, ext)
    bare = ([str(PYTHON), "-c", f"import polars as pl; pl.read_csv({str(path)!r})"]
            if ext == "csv" else [str(PYTHON), "-c", ANCHOR, str(path), "read", RECEIVED])  # fmt: skip
    commands = {
        "bare read": bare,
        "pandera alone": [str(PYTHON), "-c", ANCHOR, str(path), "pandera", RECEIVED],
        "hand-written polars": [str(PYTHON), "-c", ANCHOR, str(path), "polars", RECEIVED],
        "sgs validate": [str(SGS), "validate", str(path), "--json", "--received", RECEIVED],
    }
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, cmd in commands.items():
            done = run(cmd, BENCH / "out.json")
            if done[2] not in (0, 1):  # sgs validate exits 1: the files have defects
                raise SystemExit(f"{name} failed on {path.name} (exit {done[2]})")
            runs[name].append(done)
    base = statistics.median(w for w, _, _ in runs["bare read"])
    out = {}
    for name, done in runs.items():
        walls = [w for w, _, _ in done]
        rss = max(r for _, r, _ in done)
        out[name] = {
            "median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3),
            "ratio": round(statistics.median(walls) / base, 2),
            "us_per_row": round(statistics.median(walls) / rows * 1e6, 2),
            "rss_mib": round(rss), "bytes_per_row": round(rss * 2**20 / rows),
        }  # fmt: skip
    return out


def main_anchors(sizes: list[int], repeat: int) -> None:
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    print(
        "| rows | format | process | median (min) | × bare read | µs/row | peak RSS | bytes/row |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for rows in sizes:
        for ext in ("csv", "xlsx"):
            if ext == "xlsx" and rows > 1_048_575:
                continue
            for name, r in anchors(rows, ext, repeat).items():
                print(f"| {rows:,} | {ext} | {name} | {r['median_s']} s ({r['min_s']}) | "
                      f"{r['ratio']}× | {r['us_per_row']} | {r['rss_mib']} MiB | "
                      f"{r['bytes_per_row']} |", flush=True)  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--anchors", action="store_true",
                        help="the four processes at each size and format (see above)")  # fmt: skip
    parser.add_argument("--table", action="store_true",
                        help="every row of issue 22's table (scripts/benchmark_table.py)")  # fmt: skip
    args = parser.parse_args()
    if args.table:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from benchmark_table import main_table

        main_table(args.repeat if "--repeat" in sys.argv else 5)
        return
    if args.anchors:
        sizes = args.rows if "--rows" in sys.argv else [10_000, 100_000, 1_000_000]
        main_anchors(sizes, args.repeat if "--repeat" in sys.argv else 5)
        return
    results = []
    for rows in args.rows:
        path = ensure_file(rows)
        result = measure(path, args.repeat)
        result["phases"] = phases(path)
        results.append(result)
        print(json.dumps(result, ensure_ascii=False), file=sys.stderr)
    print("| rows | file | bare read | sgs validate | ratio | rows/s | peak RSS (bare / sgs) |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['file_mib']} MiB | {r['bare_s']} s | {r['sgs_s']} s | "
            f"{r['ratio']}× | {r['rows_per_s']:,} | {r['bare_rss_mib']} / {r['sgs_rss_mib']} MiB |"
        )
    for r in results:
        print(f"\nPhases at {r['rows']:,} rows (in process, seconds):")
        for name, value in r["phases"].items():
            print(f"- {name}: {value}")
    (BENCH / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
