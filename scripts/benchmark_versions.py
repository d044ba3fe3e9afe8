"""The default path on two DuckDB versions side by side: this checkout's venv and another one.

Run:  .venv/bin/python scripts/benchmark_versions.py OTHER_VENV [--repeat 5]

``OTHER_VENV`` is a venv with the same packages but another ``duckdb`` and this checkout installed
editable (``uv pip install --no-deps -e .``), so both run the same code; its packages compiled to
bytecode as ``scripts/setup`` compiles ours (``uv pip install --compile-bytecode``, or
``python -m compileall``), or every process of it pays the compilation (this machine sets
``PYTHONDONTWRITEBYTECODE=1``).  For each venv, as whole
processes alternating: ``sgs validate`` and ``sgs ingest`` (into a new store) of the 100k- and
1M-row permit CSVs, and ``sgs rates --period 2025-06 --json`` on the year of 1M records of
``benchmark_store.py`` — that store exported once to Parquet and imported by each version into
a store of its own (a database file of one version does not open in the other).  Medians and
minima; a script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import BENCH, RECEIVED, ROOT, ensure_file, run
from benchmark_ingest import UNIT

YEAR = BENCH / "store"


def _version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import duckdb; print(duckdb.__version__)"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return out.stdout.strip()


def _year_store(python: Path, name: str) -> Path:
    """The year's store, imported by this version from the shared Parquet export."""
    export = BENCH / "year-export"
    if not export.exists():
        src = YEAR / "data" / "curated" / "sgs.duckdb"
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                        f"import duckdb; c = duckdb.connect({str(src)!r}, read_only=True); "
                        f"c.execute(\"EXPORT DATABASE '{export}' (FORMAT parquet)\")"],
                       check=True)  # fmt: skip
    root = BENCH / f"year-{name}"
    if not (root / "curated" / "sgs.duckdb").exists():
        (root / "curated").mkdir(parents=True, exist_ok=True)
        db = root / "curated" / "sgs.duckdb"
        subprocess.run([str(python), "-c",
                        f"import duckdb; c = duckdb.connect({str(db)!r}); "
                        f"c.execute(\"IMPORT DATABASE '{export}'\")"], check=True)  # fmt: skip
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("other", type=Path, help="the other venv")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    venvs = {"this": ROOT / ".venv", "other": args.other}
    names = {k: _version(v / "bin" / "python") for k, v in venvs.items()}
    print(f"load average at the start: {os.getloadavg()[0]:.2f}; duckdb {names}")
    times: dict[tuple[str, str], list[float]] = {}
    years = {k: _year_store(v / "bin" / "python", names[k]) for k, v in venvs.items()}
    for _ in range(args.repeat):
        for key, venv in venvs.items():
            sgs = str(venv / "bin" / "sgs")
            for rows in (100_000, 1_000_000):
                path = ensure_file(rows)
                check = [sgs, "validate", str(path), "--json", "--received", RECEIVED]
                times.setdefault((f"validate {rows:,}", key), []).append(
                    run(check, BENCH / "out.json")[0]
                )
                store = BENCH / "versions-store"
                shutil.rmtree(store, ignore_errors=True)
                os.environ["SGS_DATA_DIR"] = str(store)
                cmd = [sgs, "ingest", str(path), "--unit", UNIT, "--received", RECEIVED]
                times.setdefault((f"ingest {rows:,} (new store)", key), []).append(run(cmd)[0])
            os.environ["SGS_DATA_DIR"] = str(years[key])
            os.environ["SGS_UNITS_FILE"] = str(YEAR / "units.csv")
            rates = [sgs, "rates", "--period", "2025-06", "--json"]
            times.setdefault(("rates of a year (1M records)", key), []).append(run(rates)[0])
            del os.environ["SGS_UNITS_FILE"]
    print(f"\n| work | duckdb {names['this']} | duckdb {names['other']} | ratio |")
    print("|---|---|---|---|")
    for work in dict.fromkeys(w for w, _ in times):
        a, b = times[(work, "this")], times[(work, "other")]
        print(f"| {work} | {statistics.median(a):.2f} s (min {min(a):.2f}) | "
              f"{statistics.median(b):.2f} s (min {min(b):.2f}) | "
              f"{statistics.median(b) / statistics.median(a):.2f}× |")  # fmt: skip
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
