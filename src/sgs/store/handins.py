"""A unit's hand-ins as the office and the unit see them: every file of its landing folder
with what the store made of it (stored, with errors, quarantined with the reason, or waiting
for the daily run).  Hand-in itself is the intake stage's (:mod:`sgs.intake.handin`)."""

from __future__ import annotations

import os
from datetime import date
from functools import lru_cache
from pathlib import Path

from sgs.intake.handin import unit_folder_code
from sgs.intake.landing import raw_dir, sha256_of, survey
from sgs.store import database

PENDING = "pending"
OUTCOME_NAMES = {
    "stored": "已入库",
    "stored_with_errors": "已入库（有错误）",
    "quarantined": "已隔离",
    PENDING: "待入库",
}


@lru_cache(maxsize=4096)
def _sha_of(path: str, size: int, mtime_ns: int) -> str:
    """A landed file's sha256, computed once per version of the file in this process."""
    return sha256_of(Path(path))


def history(root: Path, unit_code: str, timeout: float | None = None) -> list[dict]:
    """Every file below ``raw/<unit code>/``, newest received date first, with what the store
    made of it.

    Each entry: ``file``, ``path`` (relative to the data root), ``received`` (the date folder,
    null for a file outside one), ``size``, ``sha256``, ``outcome`` (``stored``,
    ``stored_with_errors``, ``quarantined`` or ``pending``) and ``outcome_zh``, ``batch_id``,
    ``rows``, ``errors``, ``warnings``, ``reason`` and ``message`` (a quarantine's), and
    ``same_as`` — the file name the batch was stored from when these bytes were stored from
    another file of the unit (the same file handed in twice: stored once).  A file is matched
    to the store by its bytes and unit, as the daily run decides what is new.  Files the
    landing zone leaves by their name are not listed.  Without a store everything is pending
    (none is created); ``timeout`` bounds the wait for a running write (:class:`StoreBusy`).
    """
    code = unit_folder_code(unit_code)
    folder = raw_dir(root) / code
    files = survey([folder]).files if folder.is_dir() else []
    entries = []
    for f in files:
        st = f.stat()
        rel = f.relative_to(folder).parts
        day = rel[0] if len(rel) >= 2 and _is_date(rel[0]) else None
        entries.append({
            "file": f.name, "path": f.relative_to(root).as_posix(), "received": day,
            "size": st.st_size, "sha256": _sha_of(str(f), st.st_size, st.st_mtime_ns),
            "outcome": PENDING, "outcome_zh": OUTCOME_NAMES[PENDING], "batch_id": None,
            "rows": None, "errors": None, "warnings": None, "reason": None, "message": None,
            "same_as": None, "_source": str(f.resolve()),
        })  # fmt: skip
    if entries and database.store_exists(root):
        with database.reader(root, timeout) as con:
            batches = con.execute(
                "SELECT sha256, batch_id, file_name, source_path, rows_stored, errors, warnings"
                " FROM batches WHERE unit_code = ? ORDER BY batch_id",
                [code],
            ).fetchall()
            quarantined = con.execute(
                "SELECT sha256, source_path, reason_code, message FROM quarantine"
                " WHERE unit_code = ? OR starts_with(source_path, ?) ORDER BY quarantined_at",
                [code, str(folder.resolve()) + os.sep],
            ).fetchall()
        for e in entries:
            _outcome(e, batches, quarantined)
    for e in entries:
        del e["_source"]
    entries.sort(key=lambda e: (e["received"] or "", e["path"]), reverse=True)
    return entries


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _outcome(entry: dict, batches: list[tuple], quarantined: list[tuple]) -> None:
    """The stored batch of these bytes (the one from this very file first), else the latest
    quarantine of this file (else of these bytes for the unit: the daily run does not read the
    same bytes again), else pending."""
    mine = [b for b in batches if b[0] == entry["sha256"]]
    if mine:
        own = [b for b in mine if b[3] == entry["_source"]]
        _sha, batch_id, file_name, _src, rows, errors, warnings = (own or mine)[0]
        outcome = "stored_with_errors" if errors else "stored"
        entry.update(
            outcome=outcome, outcome_zh=OUTCOME_NAMES[outcome], batch_id=batch_id, rows=rows,
            errors=errors, warnings=warnings, same_as=None if own else file_name,
        )  # fmt: skip
        return
    hits = [q for q in quarantined if q[1] == entry["_source"]] or [
        q for q in quarantined if q[0] == entry["sha256"]
    ]
    if hits:
        _sha, _src, reason, message = hits[-1]
        entry.update(
            outcome="quarantined", outcome_zh=OUTCOME_NAMES["quarantined"], reason=reason,
            message=message,
        )  # fmt: skip
