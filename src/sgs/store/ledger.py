"""Storing units' monthly ledgers (台账) and zero-increment reports (零增量报告).

Reading and checking a ledger is validation (:mod:`sgs.validate.ledger`); here it becomes a
batch: every ledger row is stored with its problems, a ledger re-sent for the same month
becomes the current one, and the first receipt still counts for punctuality.  Every ledger
comes through the conductor, :mod:`sgs.store.ingest` (the landing zone's and ``sgs ledger``'s
alike), which has found its unit, received date and hash and had it read and checked.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl

from sgs.clock import office_now
from sgs.intake.landing import Arrival
from sgs.intake.ledgers import SHEET
from sgs.store import database
from sgs.store.batches import IngestResult
from sgs.store.sql import one, register, rollback, run
from sgs.validate.ledger import (
    DATE,
    DOC_KEY,
    DOC_NUMBER,
    KIND,
    LedgerRead,
    first_entry,
)
from sgs.validate.normalise import ROW


def _entries(
    read: LedgerRead, batch_id: int, first_id: int, unit_code: str, period: str
) -> pl.DataFrame:
    bad = (
        read.errors.filter(pl.col("severity") == "error")
        .select(pl.col("sheet").alias(SHEET), pl.col("row").alias(ROW), pl.lit(True).alias("bad"))
        .unique()
    )
    flagged = read.frame.join(
        bad, on=[SHEET, ROW], how="left", maintain_order="left", nulls_equal=True
    )
    return flagged.select(
        (pl.int_range(0, pl.len(), dtype=pl.Int64) + first_id).alias("entry_id"),
        pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        pl.col(ROW).cast(pl.Int32).alias("source_row"),
        pl.col(SHEET).alias("source_sheet"),
        pl.lit(unit_code).alias("unit_code"),
        pl.lit(period).alias("period"),
        pl.col(KIND).alias("kind"),
        pl.col(DOC_NUMBER).alias("doc_number"),
        pl.col(DOC_KEY).alias("doc_key"),
        pl.col("XDR_MC").alias("subject_name"),
        pl.col("XDR_DM").str.to_uppercase().alias("subject_code"),
        pl.col(DATE).alias("decision_date"),
        pl.col("bad").is_null().alias("valid"),
        (~first_entry()).alias("duplicate"),
    )


def store_ledger(
    arr: Arrival, sha: str, unit_code: str, period: str, read: LedgerRead,
    root: Path | None = None,
) -> IngestResult:  # fmt: skip
    """Store a ledger whose arrival, hash and unit are known and whose rows intake read and
    validation checked (the conductor, :mod:`sgs.store.ingest`, saw to both)."""
    return _store(
        read, sha, unit_code, period, arr.received, arr.received_from, arr.path.name,
        str(arr.path), root,
    )  # fmt: skip


def store_zero_report(
    unit_code: str, period: str, when: date, source: str, root: Path | None = None
) -> IngestResult:
    """A zero-increment report: a ledger batch without rows, identified by unit and month."""
    sha = hashlib.sha256(f"zero-report:{unit_code}:{period}".encode()).hexdigest()
    return _store(None, sha, unit_code, period, when, source, "零增量报告", None, root)


def _store(
    read: LedgerRead | None, sha: str, unit_code: str, period: str, when: date, source: str,
    name: str, source_path: str | None, root: Path | None,
) -> IngestResult:  # fmt: skip
    with database.writer(root) as con:
        run(con, "BEGIN TRANSACTION")
        try:
            # The same file again changes nothing while it is the current ledger, nor when it is
            # the same arrival again (same received date: a re-run over the landing zone); sent
            # again later, after another version, it becomes the current one again.
            seen = one(
                con,
                "SELECT batch_id FROM ledgers WHERE sha256 = ? AND unit_code = ? AND period = ?"
                " AND (is_current OR received_date = ?) ORDER BY is_current DESC, batch_id LIMIT 1",
                [sha, unit_code, period, when],
            )
            if seen:
                run(con, "ROLLBACK")
                return IngestResult(
                    path=source_path or name, status="skipped", unit_code=unit_code, kind="ledger",
                    received=when.isoformat(), batch_id=seen[0],
                    message=f"该台账此前已登记（批次 {seen[0]}），未重复登记",
                )  # fmt: skip
            batch_id = one(con, "SELECT coalesce(max(batch_id), 0) + 1 FROM batches")[0]  # type: ignore[index]
            rows = errors = warnings = failing = blank = 0
            if read is not None:
                first = one(con, "SELECT coalesce(max(entry_id), 0) + 1 FROM ledger_entries")[0]  # type: ignore[index]
                entries = _entries(read, batch_id, first, unit_code, period)
                register(con, "entries_frame", entries)
                run(con, "INSERT INTO ledger_entries BY NAME SELECT * FROM entries_frame")
                con.unregister("entries_frame")
                errs = read.errors.with_columns(pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"))
                register(con, "errors_frame", errs)
                run(con, "INSERT INTO errors BY NAME SELECT * FROM errors_frame")
                con.unregister("errors_frame")
                rows, blank = entries.height, read.blank_rows
                errors = read.errors.filter(pl.col("severity") == "error").height
                warnings = read.errors.height - errors
                failing = entries.height - int(entries["valid"].sum())
            run(
                con,
                """INSERT INTO batches (batch_id, sha256, file_name, source_path, unit_code, kind, period,
                    zero_report, received_date, received_from, ingested_at, rows_read, rows_stored,
                    rows_valid, rows_failing, blank_rows, errors, warnings, status)
                   VALUES (?, ?, ?, ?, ?, 'ledger', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'stored')""",
                [batch_id, sha, name, source_path, unit_code, period, read is None, when, source,
                 office_now(), rows, rows, rows - failing, failing, blank, errors, warnings],
            )  # fmt: skip
            run(con, "COMMIT")
        except BaseException:
            rollback(con)
            raise
    what = (
        "零增量报告"
        if read is None
        else f"台账 {rows} 条（有问题 {failing} 条，错误 {errors} 处，警告 {warnings} 处）"
    )
    note = read.note if read is not None else None
    return IngestResult(
        path=source_path or name, status="stored", unit_code=unit_code, kind="ledger",
        received=when.isoformat(), batch_id=batch_id, rows_read=rows, rows_stored=rows,
        rows_valid=rows - failing, rows_failing=failing, blank_rows=blank, errors=errors,
        warnings=warnings, message=f"已登记 {period} {what}" + (f"；{note}" if note else ""),
    )  # fmt: skip
