"""Upload files whose `sgs validate --json` output is pinned byte for byte
(tests/test_validate_unchanged.py): generated samples with many defects in every format and
shape the readers take, and the landing zone's sample uploads as shipped; and the store that
`sgs ingest` makes of the landing zone with the samples added (every table's rows, without the
moments of ingest, pinned by their digest).

To pin the output of another version (only when a change of the output is intended):
``.venv/bin/python tests/support/validate_cases.py`` writes tests/fixtures/validate_json.json
from the ``sgs`` on the path of that Python.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "fixtures" / "validate_json.json"
RECEIVED = "2026-11-01"
TODAY = "2026-12-07"  # the office's date of the pinned ingest

# name, kind, rows, extra options of `sgs sample`
SAMPLES = [
    ("许可_缺陷.csv", "permit", 400, []),
    ("处罚_缺陷.xlsx", "penalty", 300, []),
    ("许可_缺陷.xls", "permit", 120, []),
    ("许可_gbk_标题.csv", "permit", 250, ["--encoding", "gbk", "--title", "长治市行政许可信息"]),
    ("处罚_代码表头.csv", "penalty", 250, ["--headers", "code"]),
    ("许可_标题.xlsx", "permit", 200, ["--title", "二〇二六年十月"]),
]


def landed_uploads() -> list[Path]:
    """The shipped landing zone's uploads (not its ledgers), relative to the project root."""
    raw = ROOT / "data" / "raw"
    return sorted(p.relative_to(ROOT) for p in raw.rglob("*.*")
                  if p.suffix in (".csv", ".xlsx", ".xls") and "台账" not in p.name)  # fmt: skip


def build(folder: Path, sgs: list[str]) -> list[Path]:
    """The generated samples in ``folder`` (made with ``sgs``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, kind, rows, extra) in enumerate(SAMPLES):
        subprocess.run([*sgs, "sample", kind, str(rows), "--out", str(folder / name),
                        "--seed", str(40 + i), "--defects", "0.3", "--received", RECEIVED,
                        *extra], check=True, capture_output=True)  # fmt: skip
    return [folder / name for name, *_ in SAMPLES]


def digest(output: bytes) -> str:
    return hashlib.sha256(output).hexdigest()


def landing_zone(root: Path, samples: list[Path]) -> Path:
    """``root/raw``: the shipped landing zone, plus the samples as one unit's uploads of a day."""
    import shutil

    shutil.copytree(ROOT / "data" / "raw", root / "raw")
    day = root / "raw" / "111404000448224608" / RECEIVED
    day.mkdir(parents=True, exist_ok=True)
    for path in samples:
        shutil.copy2(path, day / path.name)
    return root / "raw"


def store_digest(root: Path) -> str:
    """Every table's rows in order, paths relative to ``root``, without ingested_at and
    quarantined_at (the moments differ from run to run) and without ``meta`` (stamps of the
    checkout's files: the registry's and the holiday files' paths)."""
    import duckdb

    rows = {}
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE table_name <> 'meta'"
                             " ORDER BY 1").fetchall()  # fmt: skip
        for (table,) in tables:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
                [table]).fetchall() if c not in ("ingested_at", "quarantined_at")]  # fmt: skip
            listed = ", ".join(f'"{c}"' for c in cols)
            found = con.execute(f"SELECT {listed} FROM {table} ORDER BY ALL").fetchall()
            rows[table] = [[str(v).replace(str(root), "<root>") for v in row] for row in found]
    return digest(json.dumps(rows, ensure_ascii=False, sort_keys=True).encode())


if __name__ == "__main__":
    import tempfile

    sgs = [str(Path(sys.executable).with_name("sgs"))]
    pinned = {}
    with tempfile.TemporaryDirectory() as tmp:
        samples = build(Path(tmp), sgs)
        for path in samples:
            out = subprocess.run([*sgs, "validate", path.name, "--json", "--received", RECEIVED],
                                 cwd=tmp, capture_output=True, check=False).stdout  # fmt: skip
            pinned[path.name] = digest(out)
        for rel in landed_uploads():
            out = subprocess.run([*sgs, "validate", str(rel), "--json", "--received", RECEIVED],
                                 cwd=ROOT, capture_output=True, check=False).stdout  # fmt: skip
            pinned[rel.as_posix()] = digest(out)
        store = Path(tmp) / "store"
        raw = landing_zone(store, samples)
        env = {**os.environ, "SGS_DATA_DIR": str(store), "SGS_TODAY": TODAY}
        subprocess.run([*sgs, "ingest", str(raw)], env=env, capture_output=True, check=False)
        pinned["store"] = store_digest(store)
    GOLDEN.write_text(json.dumps(pinned, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(pinned)} outputs pinned in {GOLDEN}")
