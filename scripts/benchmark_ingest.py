"""Benchmark of ``sgs ingest``: the cost of each extra small file, and a big file's ingest
against its validation.

Run:  .venv/bin/python scripts/benchmark_ingest.py [--files 100] [--rows 100000 1000000]
                                                    [--repeat 5]

Per-file cost: 100 permit CSVs of 30 rows (one unit, new decisions each, cached in
.bench/small/) are ingested by one ``sgs ingest`` into a fresh store, and one of them alone into
another; (all − one) / (files − 1) is the cost of each extra file.  Big files: ``sgs ingest`` of
the validation benchmark's permit CSV into a fresh store, and into a store that exists already
(as the office's does), against ``sgs validate`` of it.  Every
measurement is a whole process (wall time, peak RSS from wait4), the two sides alternating in
one run; medians and minima over ``--repeat`` runs.  This is a script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import BENCH, RECEIVED, SGS, ensure_file, run

UNIT = "111404000448224608"  # 长治市行政审批服务管理局
STORE = BENCH / "ingest-store"


def small_files(n: int, name: str = "small", first: int = 0) -> Path:
    """``n`` permit CSVs of 30 rows, each with decisions of its own (document numbers go on from
    file ``first``; another ``first`` gives other decisions), in ``.bench/<name>-<n>/``."""
    folder = BENCH / f"{name}-{n}"
    if len(list(folder.glob("*.csv"))) == n:
        return folder
    from sgs.samples.generator import generate
    from sgs.samples.writers import write_upload

    shutil.rmtree(folder, ignore_errors=True)
    for i in range(first, first + n):
        sample = generate(
            "permit", 30, seed=i, unit=UNIT, start=date(2026, 10, 1), end=date(2026, 10, 31),
            received=date.fromisoformat(RECEIVED), serial_start=1 + 30 * i,
        )  # fmt: skip
        write_upload(sample.frame, folder / f"许可_{i:03d}.csv")
    return folder


def ingest(path: Path, existing: Path | None = None) -> tuple[float, float, int]:
    """One ``sgs ingest`` of ``path`` into an empty store, or into a copy of ``existing``."""
    shutil.rmtree(STORE, ignore_errors=True)
    if existing is not None:
        shutil.copytree(existing, STORE)
    os.environ["SGS_DATA_DIR"] = str(STORE)
    cmd = [str(SGS), "ingest", str(path), "--unit", UNIT, "--received", RECEIVED, "--json"]
    measured = run(cmd)
    if measured[2] != 0:  # a refused or failed ingest is quick and would pass for a fast one
        raise SystemExit(f"sgs ingest of {path.name} did not store it (exit {measured[2]})")
    return measured


def summary(label: str, values: list[float], unit: str = "s") -> str:
    return f"{label}: median {statistics.median(values):.3f} {unit}, min {min(values):.3f} {unit}"


def per_file_runs(files: int, repeat: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds for one file, seconds for ``files`` files, and milliseconds per extra file."""
    folder = small_files(files)
    first = sorted(folder.glob("*.csv"))[0]
    one, many, extra = [], [], []
    for _ in range(repeat):
        a, b = ingest(first)[0], ingest(folder)[0]
        one.append(a)
        many.append(b)
        extra.append((b - a) / (files - 1) * 1000)
    return one, many, extra


def per_file(files: int, repeat: int) -> None:
    one, many, extra = per_file_runs(files, repeat)
    print(f"\n## {files} files of 30 rows in one sgs ingest")
    print(summary("one file", one))
    print(summary(f"{files} files", many))
    print(summary("each extra file", extra, "ms"))


def existing_store() -> Path:
    """A store that exists already (one small file in it), as the office's does: an ingest into
    it pays no creation of tables and calendar."""
    template = BENCH / "ingest-store-template"
    if not (template / "curated").is_dir():
        ingest(sorted(small_files(2).glob("*.csv"))[0])
        shutil.rmtree(template, ignore_errors=True)
        shutil.copytree(STORE, template)
    return template


Runs = list[tuple[float, float, int]]


def big_runs(rows: int, repeat: int, fresh: bool = True) -> tuple[Runs, Runs, Runs]:
    """``sgs validate`` of the big file, its ingest into a new store (unless not ``fresh``) and
    into an existing one, alternating: (wall, peak RSS, exit code) of each process."""
    path = ensure_file(rows)
    validate_cmd = [str(SGS), "validate", str(path), "--json", "--received", RECEIVED]
    template = existing_store()
    checked: Runs = []
    new: Runs = []
    into: Runs = []
    for _ in range(repeat):
        checked.append(run(validate_cmd, BENCH / "out.json"))
        if fresh:
            new.append(ingest(path))
        into.append(ingest(path, template))
    return checked, new, into


def big(rows: int, repeat: int) -> None:
    checked, fresh, into = big_runs(rows, repeat)
    print(f"\n## {rows:,} rows: sgs ingest against sgs validate")
    print(summary("validate", [w for w, _, _ in checked]))
    for label, stored in (("into a new store", fresh), ("into an existing store", into)):
        ratios = [s[0] / v[0] for s, v in zip(stored, checked, strict=True)]
        print(summary(f"ingest {label}", [w for w, _, _ in stored]))
        print(summary(f"ingest {label} / validate", ratios, "×"))
    print(f"peak RSS: validate {max(r for _, r, _ in checked):.0f} MiB, "
          f"ingest {max(r for _, r, _ in fresh):.0f} MiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--rows", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    per_file(args.files, args.repeat)
    for rows in args.rows:
        big(rows, args.repeat)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(STORE, ignore_errors=True)


if __name__ == "__main__":
    main()
