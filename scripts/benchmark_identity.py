"""Benchmark of record identity at ingest: a file of new records against a file of corrections.

Run:  .venv/bin/python scripts/benchmark_identity.py [--rows 100000] [--small 40]

In a fresh data root (.bench/identity/), ingests ``--small`` 30-row permit files (the mean per
file after the first, which pays the imports), then one ``--rows`` permit file whose 文书号 are
all new, then the same rows again with a few names changed — every row a correction that must
be matched to its stored record (src/sgs/store/identity.py).  Prints the times and the ratio
corrections / new, both measured in this one run.  This is a script, not a test.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / ".bench" / "identity"
UNIT = "111404000448224608"  # 长治市行政审批服务管理局


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=40)
    args = parser.parse_args()

    from sgs.samples.generator import generate
    from sgs.samples.writers import write_upload
    from sgs.store.ingest import ingest_file

    shutil.rmtree(BENCH, ignore_errors=True)
    files, root = BENCH / "files", BENCH / "data"
    small = [
        write_upload(generate("permit", 30, seed=i, unit=UNIT).frame,
                     files / UNIT / "2026-11-05" / f"小{i:03d}.csv")
        for i in range(args.small)
    ]  # fmt: skip
    big = write_upload(generate("permit", args.rows, seed=99, unit=UNIT).frame,
                       files / UNIT / "2026-11-06" / "大.csv")  # fmt: skip
    again = files / UNIT / "2026-11-07" / "大_更正.csv"
    again.parent.mkdir(parents=True)
    again.write_bytes(big.read_bytes().replace("有限公司".encode(), "有限责任公司".encode(), 5))

    ingest_file(small[0], root=root)
    start = time.perf_counter()
    for path in small[1:]:
        ingest_file(path, root=root)
    per_small = (time.perf_counter() - start) / max(1, len(small) - 1)
    start = time.perf_counter()
    ingest_file(big, root=root)
    new = time.perf_counter() - start
    start = time.perf_counter()
    result = ingest_file(again, root=root)
    corrections = time.perf_counter() - start
    assert result.status == "stored"
    print(f"small file ({args.small - 1} after the first): {per_small * 1000:.0f} ms each")
    print(f"{args.rows:,} new records: {new:.2f} s")
    print(f"{args.rows:,} corrections: {corrections:.2f} s — {corrections / new:.2f}× the new file")


if __name__ == "__main__":
    main()
