"""Writing one checked file: its records, errors and batch row, in one transaction.

The conductor (:mod:`sgs.store.ingest`) hands over a file that intake has read and validation
has checked; nothing here reads or checks a file again, so each file passes the stages once.
"""

from __future__ import annotations

import os
import signal

import duckdb
import polars as pl

from sgs.clock import office_now
from sgs.config import fault_point
from sgs.intake.landing import Arrival
from sgs.reference.catalogue import Kind, load_catalogue
from sgs.store import lake as lakes
from sgs.store.batches import IngestResult, skipped
from sgs.store.identity import assign_record_keys, replay_later
from sgs.store.sql import one, register, rollback, run
from sgs.store.tables import RECORD_TABLES
from sgs.validate.normalise import ROW
from sgs.validate.pipeline import Validation
from sgs.validate.rules import DOC_KEY, date_col, subject_key


def _fault(point: str) -> None:
    """Fault injection for the crash tests: ``SGS_FAULT=<point>`` kills this process there;
    ``SGS_FAULT=lake-conflict`` has another connection commit to the lake just before this
    process's first commit, which DuckLake then refuses (the retry test's real conflict)."""
    if fault_point() == point:
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "before-commit" and fault_point() == "lake-conflict" and not _overtaken:
        _overtaken.append(True)
        lakes.overtake()


_overtaken: list[bool] = []


# ----------------------------------------------------------------------------- records


def _typed_fields(kind: Kind) -> list[pl.Expr]:
    out = []
    for f in load_catalogue().kind(kind).fields:
        if f.type == "date":
            out.append(pl.col(date_col(f.code)).alias(f.code))
        elif f.type == "amount":
            out.append(pl.col(f.code).cast(pl.Decimal(18, 6), strict=False).alias(f.code))
        else:
            out.append(pl.col(f.code))
    return out


def _original(kind: Kind, raw: pl.DataFrame) -> pl.Expr:
    """JSON of the cells whose typed column is empty although the unit wrote something."""
    typed = [f for f in load_catalogue().kind(kind).fields if f.type in ("date", "amount")]
    lost = []
    for f in typed:
        if f.code not in raw.columns:
            continue
        typed_col = date_col(f.code) if f.type == "date" else f"__typed_{f.code}"
        lost.append((f.code, pl.col(typed_col).is_null() & pl.col(f"__raw_{f.code}").is_not_null()))
    if not lost:
        return pl.lit(None, dtype=pl.String)
    fields = [pl.when(cond).then(pl.col(f"__raw_{code}")).alias(code) for code, cond in lost]
    return (
        pl.when(pl.any_horizontal(cond for _, cond in lost))
        .then(pl.struct(fields).struct.json_encode())
        .otherwise(None)
    )


def build_records(v: Validation, unit_code: str, batch_id: int, first_id: int) -> pl.DataFrame:
    """One row per source row: verdict, typed fields, and what typing could not hold.

    ``record_key`` is left empty: which record a row continues depends on what is stored
    (:func:`sgs.store.identity.assign_record_keys`, inside the write transaction).
    """
    spec = load_catalogue().kind(v.kind)
    raw = v.upload.frame
    verdicts = v.verdicts
    frame = v.frame.with_columns(
        verdicts["valid"], verdicts["errors"], verdicts["warnings"],
        *(raw[f.code].alias(f"__raw_{f.code}") for f in spec.fields if f.code in raw.columns),
        *(
            pl.col(f.code).cast(pl.Decimal(18, 6), strict=False).alias(f"__typed_{f.code}")
            for f in spec.fields
            if f.type == "amount"
        ),
    )  # fmt: skip
    if v.upload.extras.width:
        extras = v.upload.extras.select(pl.struct(pl.all()).struct.json_encode().alias("extras"))
        frame = frame.with_columns(extras.to_series())
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("extras"))
    frame = frame.with_columns(v.upload.sheet_column().alias("__sheet"))
    subject = subject_key(spec.prefix)
    return frame.select(
        (pl.int_range(0, pl.len(), dtype=pl.Int64) + first_id).alias("record_id"),
        pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        pl.col(ROW).cast(pl.Int32).alias("source_row"),
        pl.col("__sheet").alias("source_sheet"),
        pl.lit(unit_code).alias("unit_code"),
        pl.lit(v.received, dtype=pl.Date).alias("received_date"),
        pl.lit(None, dtype=pl.String).alias("record_key"),  # see store/identity.py
        pl.col(DOC_KEY).alias("doc_key"),
        subject.alias("subject_key"),
        "valid",
        "errors",
        "warnings",
        *_typed_fields(v.kind),
        _original(v.kind, raw).alias("original"),
        "extras",
    )


# ----------------------------------------------------------------------------- writing


def _already(con: duckdb.DuckDBPyConnection, sha: str, unit: str, kind: str) -> int | None:
    row = one(
        con,
        "SELECT batch_id FROM batches WHERE sha256 = ? AND unit_code = ? AND kind = ?",
        [sha, unit, kind],
    )
    return row[0] if row else None


def _next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    return one(con, f"SELECT coalesce(max({column}), 0) + 1 FROM {table}")[0]  # type: ignore[index]


def _next_record_id(con: duckdb.DuckDBPyConnection) -> int:
    """Record ids are unique across permits and penalties, so an error's record_id is unambiguous."""
    tables = " UNION ALL ".join(
        f"SELECT max(record_id) AS m FROM {t}" for t in RECORD_TABLES.values()
    )
    return one(con, f"SELECT coalesce(max(m), 0) + 1 FROM ({tables})")[0]  # type: ignore[index]


def write_batch(
    con: duckdb.DuckDBPyConnection,
    v: Validation,
    arr: Arrival,
    unit_code: str,
    sha: str,
    replace: int | None = None,
) -> IngestResult:
    """Store one validated file in one transaction; with ``replace``, the stored batch of the
    same bytes is stored again in its place (same batch id) as this copy — received earlier,
    so validated against that date (see :func:`_received_earlier`)."""
    kind = v.kind
    table = RECORD_TABLES[kind]
    run(con, "BEGIN TRANSACTION")
    try:
        if replace is None:
            existing = _already(con, sha, unit_code, kind)
            if existing is not None:
                run(con, "ROLLBACK")
                return skipped(arr, unit_code, kind, existing)
            batch_id = _next_id(con, "batches", "batch_id")
        else:
            batch_id = replace
            for drop in (table, "errors", "batches"):
                run(con, f"DELETE FROM {drop} WHERE batch_id = ?", [batch_id])
        records = build_records(v, unit_code, batch_id, _next_record_id(con))
        records = records.with_columns(
            assign_record_keys(con, records, kind, unit_code, sha).alias("record_key")
        )
        register(con, "records_frame", records, string_views=True)
        # Rows carry their order (record_id, source_row) and no reading relies on where they
        # lie: DuckDB may append a big frame from both threads at once (1M rows: 2.2 s, not 3.6).
        run(con, "SET preserve_insertion_order = false")
        try:
            run(con, f"INSERT INTO {table} BY NAME SELECT * FROM records_frame")
        finally:
            run(con, "RESET preserve_insertion_order")
        con.unregister("records_frame")
        _fault("after-records")
        keys = records.select(
            pl.col("source_sheet").alias("sheet"), pl.col("source_row").cast(pl.Int64).alias("row"),
            "record_id",
        )  # fmt: skip
        errors = v.errors.join(
            keys, on=["sheet", "row"], how="left", maintain_order="left", nulls_equal=True
        ).with_columns(pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"))
        register(con, "errors_frame", errors, string_views=True)
        run(con, "INSERT INTO errors BY NAME SELECT * FROM errors_frame")
        con.unregister("errors_frame")
        stored = one(con, f"SELECT count(*) FROM {table} WHERE batch_id = ?", [batch_id])[0]  # type: ignore[index]
        if stored != v.rows:
            raise RuntimeError(f"accounting mismatch: read {v.rows}, stored {stored}")
        result = stored_result(v, arr, unit_code, batch_id)
        up = v.upload
        run(con,
            """INSERT INTO batches (batch_id, sha256, file_name, source_path, unit_code, kind,
                layout, format, encoding, sheet, header_row, received_date, received_from,
                ingested_at, rows_read, rows_stored, rows_valid, rows_failing, blank_rows,
                errors, warnings, unknown_columns, status)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'stored')""",
            [
                batch_id, sha, arr.path.name, str(arr.path), unit_code, kind, up.layout,
                up.format, up.encoding, up.sheet, up.header_row, arr.received,
                arr.received_from, office_now(), v.rows, stored, result.rows_valid,
                result.rows_failing, up.blank_rows, result.errors, result.warnings,
                up.unknown_columns,
            ],
        )  # fmt: skip
        replay_later(con, kind, batch_id)  # a file received before stored ones sharing its 文书号
        _fault("before-commit")
        run(con, "COMMIT")
    except BaseException:
        rollback(con)
        raise
    return result


def stored_result(v: Validation, arr: Arrival, unit_code: str, batch_id: int) -> IngestResult:
    errors = v.errors.filter(pl.col("severity") == "error").height
    warnings = v.errors.height - errors
    failing = v.failing_rows
    name = load_catalogue().kind(v.kind).name
    message = (
        f"已入库{name} {v.rows} 条：合规 {v.rows - failing} 条，不合规 {failing} 条"
        f"（错误 {errors} 处，警告 {warnings} 处）"
    )
    if note := v.upload.note:
        message += f"；{note}"
    if v.upload.blank_rows:
        message += f"；跳过空行 {v.upload.blank_rows} 行"
    if v.upload.unknown_columns:
        message += f"；未识别的列已保留：{'、'.join(v.upload.unknown_columns)}"
    return IngestResult(
        path=str(arr.path), status="stored", message=message, unit_code=unit_code,
        kind=v.kind, received=arr.received.isoformat(), batch_id=batch_id, rows_read=v.rows,
        rows_stored=v.rows, rows_valid=v.rows - failing, rows_failing=failing,
        blank_rows=v.upload.blank_rows, errors=errors, warnings=warnings,
        unknown_columns=v.upload.unknown_columns,
    )  # fmt: skip
