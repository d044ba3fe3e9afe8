"""Units' monthly ledgers (台账) and zero-increment reports (零增量报告).

A ledger lists every permit and penalty decision a unit made in a month; completeness compares
it with what reached the platform.  Its columns are defined in ``schemas/standard.toml``
(``[ledger]``) and may come in any order, below title rows, as CSV or XLSX.  Every ledger row
is stored, with its problems reported like those of uploads; a ledger re-sent for the same
month becomes the current one, and the first receipt still counts for punctuality.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused
from sgs.labels import kind_of_name
from sgs.periods import period_bounds
from sgs.reference.catalogue import LedgerField, ledger_header_map, load_catalogue, normalise_header
from sgs.store import database
from sgs.store.database import one, run
from sgs.store.ingest import IngestResult, sha256_of
from sgs.store.landing import arrival
from sgs.validate.normalise import ROW, WHITESPACE, blank_variants, document_key, parse_date
from sgs.validate.readers import read_table, sniff_format


def _score(cells: list[object]) -> int:
    keys = {normalise_header(c) for c in cells if c not in (None, "")}
    return len(keys & ledger_header_map().keys())


@dataclass
class LedgerRead:
    frame: pl.DataFrame  # __row + ledger field codes, normalised text
    raw: pl.DataFrame  # __row + ledger field codes, as written
    errors: pl.DataFrame  # row, field, rule, severity, message, value
    blank_rows: int


def _field(code: str) -> LedgerField:
    return next(f for f in load_catalogue().ledger_fields if f.code == code)


def read_ledger(path: Path, period: str) -> LedgerRead:
    """Read and check a ledger file; :class:`FileRefused` when it cannot be a ledger."""
    table = read_table(path, sniff_format(path), _score)
    mapping = ledger_header_map()
    rename = {}
    for i, text in enumerate(table.header):
        code = mapping.get(normalise_header(text))
        if code and code not in rename.values():
            rename[f"c{i}"] = code
    fields = load_catalogue().ledger_fields
    missing = [f for f in fields if f.required == "always" and f.code not in rename.values()]
    if missing:
        names = "、".join(f.name for f in missing)
        raise FileRefused("missing_columns", f"台账「{path.name}」缺少必需的列：{names}。")
    body = table.body.with_columns(
        pl.int_range(table.first_data_row, table.first_data_row + pl.len(), dtype=pl.Int64).alias(
            ROW
        )
    )
    cols = list(rename)
    filled = pl.any_horizontal(
        pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "") for c in cols
    )
    kept = body.filter(filled)
    raw = kept.select(pl.col(ROW), *(pl.col(src).alias(dst) for src, dst in rename.items()))
    for f in fields:
        if f.code not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(f.code))
    blanks = blank_variants()
    norm = raw.with_columns(
        pl.when(
            pl.col(f.code).str.strip_chars(WHITESPACE).is_in(blanks)
            | (pl.col(f.code).str.strip_chars(WHITESPACE) == "")
        )
        .then(None)
        .otherwise(pl.col(f.code).str.normalize("NFKC").str.strip_chars(WHITESPACE))
        .alias(f.code)
        for f in fields
    )
    norm = norm.with_columns(
        raw["WSH"].str.strip_chars(WHITESPACE).alias("__doc_number"),  # shown as the unit wrote it
        parse_date(pl.col("JDRQ")).alias("__date"),
        document_key(norm["WSH"]).alias("__doc_key"),
        pl.col("LB").replace_strict(kind_of_name(), default=None).alias("__kind"),
    )
    return LedgerRead(norm, raw, _check(norm, raw, period), body.height - kept.height)


def _check(norm: pl.DataFrame, raw: pl.DataFrame, period: str) -> pl.DataFrame:
    """Every problem of every ledger row, as vectorised rules, in the upload error shape."""
    cat = load_catalogue()
    start, end = period_bounds(period)
    checks: list[tuple[str, str, pl.Expr, dict]] = []
    for f in cat.ledger_fields:
        col = pl.col(f.code)
        if f.required == "always":
            checks.append((f.code, "required", col.is_not_null(), {}))
        if f.values:
            checks.append((f.code, "allowed_values", col.is_null() | col.is_in(f.values),
                           {"allowed": "、".join(f.values)}))  # fmt: skip
        if f.max_length:
            checks.append((f.code, "max_length", col.is_null() | (col.str.len_chars() <= f.max_length),
                           {"max": f.max_length}))  # fmt: skip
    d = pl.col("__date")
    checks.append(("JDRQ", "date_format", pl.col("JDRQ").is_null() | d.is_not_null(), {}))
    checks.append(("JDRQ", "ledger_period", d.is_null() | ((d >= start) & (d < end)), {}))
    # One 文书号 may cover several subjects (joint decisions): an entry repeats an earlier one
    # only when the subject is the same too, by name or by code.
    by_name = pl.struct("__kind", "__doc_key", "XDR_MC").is_first_distinct()
    by_code = pl.struct("__kind", "__doc_key", "XDR_DM").is_first_distinct()
    first = pl.col("__doc_key").is_null() | (by_name & (by_code | pl.col("XDR_DM").is_null()))
    checks.append(("WSH", "ledger_duplicate", first, {}))
    flags = norm.select(pl.col(ROW), *(ok.alias(f"{code}|{rule}") for code, rule, ok, _ in checks))
    failures = (
        flags.unpivot(index=ROW, variable_name="label", value_name="ok")
        .filter(~pl.col("ok"))
        .with_columns(
            pl.col("label").str.split_exact("|", 1).struct.rename_fields(["field", "rule"])
        )
        .unnest("label")
    )
    messages = {
        (code, rule): (cat.rule(rule).severity, cat.rule(rule).message.format(name=_field(code).name, **fmt))
        for code, rule, _, fmt in checks
    }  # fmt: skip
    label = pl.concat_str(["field", "rule"], separator="|")
    severity = {f"{c}|{r}": v[0] for (c, r), v in messages.items()}
    message = {f"{c}|{r}": v[1] for (c, r), v in messages.items()}
    values = raw.unpivot(index=ROW, variable_name="field", value_name="value")
    return (
        failures.with_columns(
            label.replace_strict(severity).alias("severity"),
            label.replace_strict(message).alias("message"),
        )
        .join(values, on=[ROW, "field"], how="left")
        .select(pl.col(ROW).alias("row"), "field", "rule", "severity", "message", "value")
        .sort("row", "field", "rule")
    )


def _entries(
    read: LedgerRead, batch_id: int, first_id: int, unit_code: str, period: str
) -> pl.DataFrame:
    bad = read.errors.filter(pl.col("severity") == "error")["row"].unique()
    return read.frame.select(
        (pl.int_range(0, pl.len(), dtype=pl.Int64) + first_id).alias("entry_id"),
        pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        pl.col(ROW).cast(pl.Int32).alias("source_row"),
        pl.lit(unit_code).alias("unit_code"),
        pl.lit(period).alias("period"),
        pl.col("__kind").alias("kind"),
        pl.col("__doc_number").alias("doc_number"),
        pl.col("__doc_key").alias("doc_key"),
        pl.col("XDR_MC").alias("subject_name"),
        pl.col("XDR_DM").str.to_uppercase().alias("subject_code"),
        pl.col("__date").alias("decision_date"),
        ~pl.col(ROW).is_in(bad.implode()).alias("valid"),
    )


def ingest_ledger(
    path: Path | None,
    *,
    unit: str,
    period: str,
    received: date | None = None,
    zero: bool = False,
    root: Path | None = None,
) -> IngestResult:
    """Store a ledger file, or with ``zero`` a zero-increment report, for a unit and month."""
    from sgs.reference.units import resolve_unit

    period_bounds(period)  # validates the period
    unit_code = str(resolve_unit(unit)["code"])
    if zero:
        sha = hashlib.sha256(f"zero-report:{unit_code}:{period}".encode()).hexdigest()
        when = received or date.today()
        name, source_path, read, source = (
            "零增量报告",
            None,
            None,
            "option" if received else "today",
        )
    else:
        assert path is not None
        arr = arrival(Path(path), unit, received, "ledger")
        sha, when, name, source_path = (
            sha256_of(arr.path),
            arr.received,
            arr.path.name,
            str(arr.path),
        )
        source = arr.received_from
        read = read_ledger(arr.path, period)
    with database.writer(root) as con:
        run(con, "BEGIN TRANSACTION")
        try:
            # The same file again changes nothing while it is the current ledger; sent again
            # after another version, it becomes the current one again.
            seen = one(
                con,
                "SELECT batch_id FROM ledgers WHERE is_current AND sha256 = ? AND unit_code = ?"
                " AND period = ?",
                [sha, unit_code, period],
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
                con.register("entries_frame", entries)
                run(con, "INSERT INTO ledger_entries BY NAME SELECT * FROM entries_frame")
                con.unregister("entries_frame")
                errs = read.errors.with_columns(pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"))
                con.register("errors_frame", errs)
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
                [batch_id, sha, name, source_path, unit_code, period, zero, when, source,
                 datetime.now(), rows, rows, rows - failing, failing, blank, errors, warnings],
            )  # fmt: skip
            run(con, "COMMIT")
        except BaseException:
            run(con, "ROLLBACK")
            raise
    what = (
        "零增量报告"
        if zero
        else f"台账 {rows} 条（有问题 {failing} 条，错误 {errors} 处，警告 {warnings} 处）"
    )
    return IngestResult(
        path=source_path or name, status="stored", unit_code=unit_code, kind="ledger",
        received=when.isoformat(), batch_id=batch_id, rows_read=rows, rows_stored=rows,
        rows_valid=rows - failing, rows_failing=failing, blank_rows=blank, errors=errors,
        warnings=warnings, message=f"已登记 {period} {what}",
    )  # fmt: skip
