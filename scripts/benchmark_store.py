"""Benchmark of the store: ingest a year of uploads and ledgers, then compute the year's rates.

Run:  .venv/bin/python scripts/benchmark_store.py [--units 100] [--rows 1000000]

Builds a fresh data root in .bench/store/ with a registry of ``--units`` units, generates
``--rows`` records (half permits, half penalties) decided in 2025, lands them as one upload per
unit, kind and month (received a few days after the month ends) plus one ledger per unit and
month listing 95% of the decisions, ingests everything with ``sgs ingest`` / the ledger API in
one process, and times ``rates()`` for each month of 2025, in process and through the CLI.
This is a script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / ".bench" / "store"
SGS = ROOT / ".venv" / "bin" / "sgs"


def make_units(n: int, path: Path) -> list[str]:
    from sgs.validate.identifiers import org_check_char, uscc_check_char

    rows, codes = ["code,name,type,parent"], []
    for i in range(n):
        body = f"BM{i:06d}"
        org = body + org_check_char(body)
        first17 = "11140400" + org
        code = first17 + uscc_check_char(first17)
        codes.append(code)
        kind = "county" if i % 5 == 0 else "department"
        rows.append(f"{code},测试单位{i:03d},{kind},")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return codes


def land_year(codes: list[str], rows: int, raw: Path) -> int:
    """Write one upload per unit, kind and month, and one ledger per unit and month."""
    import polars as pl

    from sgs.samples.generator import generate
    from sgs.samples.writers import write_upload
    from sgs.validate.normalise import parse_date

    per_unit_kind = rows // (len(codes) * 2)
    files = 0
    for u, code in enumerate(codes):
        ledger_parts = []
        for k, kind in enumerate(("permit", "penalty")):
            sample = generate(
                kind, per_unit_kind, seed=u * 2 + k, unit=code,
                start=date(2025, 1, 1), end=date(2025, 12, 31), received=date(2026, 1, 10),
            )  # fmt: skip
            p = "XK" if kind == "permit" else "CF"
            frame = sample.frame.with_columns(parse_date(pl.col(f"{p}_JDRQ")).alias("_d"))
            for month in range(1, 13):
                part = frame.filter(pl.col("_d").dt.month() == month)
                if part.is_empty():
                    continue
                nxt = date(2025 + month // 12, month % 12 + 1, 1)
                received = nxt + timedelta(days=3)
                folder = raw / code / received.isoformat()
                write_upload(part.drop("_d"), folder / f"{kind}_2025{month:02d}.csv")
                files += 1
                ledger_parts.append(
                    part.filter(pl.int_range(pl.len()) % 20 != 0).select(
                        pl.lit(month).alias("month"),
                        pl.lit("行政许可" if kind == "permit" else "行政处罚").alias("类别"),
                        pl.col(f"{p}_WSH").alias("决定文书号"),
                        pl.col(f"{p}_XDR_MC").alias("行政相对人名称"),
                        pl.col(f"{p}_XDR_SHXYM").alias("行政相对人代码"),
                        pl.col(f"{p}_JDRQ").alias("决定日期"),
                    )
                )
        ledgers = pl.concat(ledger_parts)
        for month in range(1, 13):
            part = ledgers.filter(pl.col("month") == month).drop("month")
            part.with_row_index("序号", offset=1).write_csv(
                BENCH / "ledgers" / f"{code}_2025-{month:02d}.csv"
            )
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    shutil.rmtree(BENCH, ignore_errors=True)
    (BENCH / "ledgers").mkdir(parents=True)
    os.environ["SGS_DATA_DIR"] = str(BENCH / "data")
    os.environ["SGS_UNITS_FILE"] = str(BENCH / "units.csv")
    codes = make_units(args.units, BENCH / "units.csv")

    t = time.perf_counter()
    files = land_year(codes, args.rows, BENCH / "data" / "raw")
    print(
        f"generated {files} upload files and {len(codes) * 12} ledgers in {time.perf_counter() - t:.0f} s"
    )

    from sgs.measure.rates import details, rates
    from sgs.store import database
    from sgs.store.ingest import ingest_ledger

    # Two ingest processes side by side (the machine has two cores); the store serialises
    # their writes, validation runs in parallel.
    folders = sorted((BENCH / "data" / "raw").iterdir())
    halves = [folders[0::2], folders[1::2]]
    t = time.perf_counter()
    procs = [
        subprocess.Popen([str(SGS), "ingest", *map(str, half)], stdout=subprocess.DEVNULL)
        for half in halves
    ]
    codes_out = [p.wait() for p in procs]
    ingest_s = time.perf_counter() - t
    with database.reader() as con:
        stored = con.execute(
            "SELECT (SELECT count(*) FROM permits) + (SELECT count(*) FROM penalties)"
        ).fetchone()[0]  # type: ignore[index]
    print(f"ingested {stored:,} records from {files} files in {ingest_s:.1f} s with 2 processes "
          f"({stored / ingest_s:,.0f} records/s, {ingest_s / files * 2000:.0f} ms per file per process; "
          f"exit codes {codes_out})")  # fmt: skip

    t = time.perf_counter()
    for ledger in sorted((BENCH / "ledgers").glob("*.csv")):
        code, period = ledger.stem.split("_")
        ingest_ledger(ledger, unit=code, period=period, received=date(2026, 1, 5))
    print(f"registered {len(codes) * 12} ledgers in {time.perf_counter() - t:.1f} s")

    with database.reader() as con:
        timings = []
        for month in range(1, 13):
            t = time.perf_counter()
            frame = rates(con, f"2025-{month:02d}")
            timings.append(time.perf_counter() - t)
        print(f"rates for 12 months × {len(codes)} units × 2 kinds: total {sum(timings):.2f} s, "
              f"per month {min(timings) * 1000:.0f}–{max(timings) * 1000:.0f} ms "
              f"({frame.height} rows per month)")  # fmt: skip
        t = time.perf_counter()
        late = 0
        for month in range(1, 13):
            late += details(con, f"2025-{month:02d}", "late").height
        print(f"late drill-downs for 12 months: {time.perf_counter() - t:.2f} s ({late:,} rows)")
    t = time.perf_counter()
    subprocess.run(
        [str(SGS), "rates", "--period", "2025-06", "--json"], check=True, capture_output=True
    )
    print(f"sgs rates --period 2025-06 --json (whole process): {time.perf_counter() - t:.2f} s")
    size = database.db_path().stat().st_size / 2**20
    print(f"database size: {size:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
