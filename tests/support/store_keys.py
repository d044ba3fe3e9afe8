"""What the store's keys would enforce, checked by query: the store has no PRIMARY KEY or
UNIQUE constraint (DuckLake has none; src/sgs/store/tables.py), so its ids are unique because
writers allot them under one lock — which the tests that race writers check here."""

from __future__ import annotations

from pathlib import Path

import duckdb

#: (table, the columns that identify a row)
KEYS = [("batches", "batch_id"), ("permits", "record_id"), ("penalties", "record_id"),
        ("ledger_entries", "entry_id"), ("meta", "key"), ("units", "code"),
        ("calendar", "day")]  # fmt: skip


def repeated_keys(db: Path) -> dict[str, int]:
    """Per table, how many rows share an id with another row (empty: every id once)."""
    with duckdb.connect(str(db), read_only=True) as con:
        found = {}
        for table, key in KEYS:
            (extra,) = con.execute(
                f"SELECT count(*) - count(DISTINCT {key}) FROM {table}"
            ).fetchone()
            if extra:
                found[table] = extra
    # record ids are one sequence over both record tables
    with duckdb.connect(str(db), read_only=True) as con:
        (shared,) = con.execute(
            "SELECT count(*) FROM permits p JOIN penalties q USING (record_id)"
        ).fetchone()
    if shared:
        found["permits+penalties"] = shared
    return found
