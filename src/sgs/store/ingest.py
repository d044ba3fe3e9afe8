"""Ingest upload files into the store: validate, then write each file in one transaction.

Every row of a file is stored (valid or not, with its errors) or the whole file is quarantined
with a reason: nothing is dropped.  A file already ingested (same content, unit and kind) is
skipped, so a re-run gives the same database.  Validation runs before the writer lock is
taken, so parallel ingests validate side by side and only queue for the short write.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import polars as pl

from sgs.clock import office_now
from sgs.config import fault_point
from sgs.errors import FileRefused, SgsError
from sgs.intake.classify import Classified, classify
from sgs.intake.landing import Arrival, ArrivalProblem, arrival, in_landing_zone, sha256_of
from sgs.intake.readers import refusing_the_unexpected
from sgs.reference.catalogue import Kind, load_catalogue
from sgs.store import database
from sgs.store.batches import IngestResult, quarantine, quarantine_file, skipped
from sgs.store.identity import assign_record_keys, replay_later
from sgs.store.ledger import store_ledger
from sgs.store.sql import one, run
from sgs.store.tables import RECORD_TABLES
from sgs.validate.kept import check_key, kept
from sgs.validate.ledger import LedgerRead, check_ledger_sheets
from sgs.validate.normalise import ROW
from sgs.validate.pipeline import Validation, preload, validate_file, validate_uploads
from sgs.validate.rules import DOC_KEY, date_col, subject_key


def _fault(point: str) -> None:
    """Fault injection for the crash tests: ``SGS_FAULT=<point>`` kills this process there."""
    if fault_point() == point:
        os.kill(os.getpid(), signal.SIGKILL)


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
    verdicts = v.row_verdicts()
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


def _write(
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
        con.register("records_frame", records)
        run(con, f"INSERT INTO {table} BY NAME SELECT * FROM records_frame")
        con.unregister("records_frame")
        _fault("after-records")
        keys = records.select(
            pl.col("source_sheet").alias("sheet"), pl.col("source_row").cast(pl.Int64).alias("row"),
            "record_id",
        )  # fmt: skip
        errors = v.errors.join(
            keys, on=["sheet", "row"], how="left", maintain_order="left", nulls_equal=True
        ).with_columns(pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"))
        con.register("errors_frame", errors)
        run(con, "INSERT INTO errors BY NAME SELECT * FROM errors_frame")
        con.unregister("errors_frame")
        stored = one(con, f"SELECT count(*) FROM {table} WHERE batch_id = ?", [batch_id])[0]  # type: ignore[index]
        if stored != v.rows:
            raise RuntimeError(f"accounting mismatch: read {v.rows}, stored {stored}")
        result = _stored_result(v, arr, unit_code, batch_id)
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
        run(con, "ROLLBACK")
        raise
    return result


def _stored_result(v: Validation, arr: Arrival, unit_code: str, batch_id: int) -> IngestResult:
    errors = v.errors.filter(pl.col("severity") == "error").height
    warnings = v.errors.height - errors
    failing = v.failing_rows
    name = load_catalogue().kind(v.kind).name
    message = (
        f"已入库{name} {v.rows} 条：合规 {v.rows - failing} 条，不合规 {failing} 条"
        f"（错误 {errors} 处，警告 {warnings} 处）"
    )
    if note := v.upload.sheets_note():
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


def _seen_before(
    sha: str, unit_code: str, kind: str | None, root: Path | None
) -> tuple[int, str, date, str] | None:
    """A cheap look before validating: was this very file stored for this unit already?
    (Its batch, kind, received date and file name.)"""
    if not database.db_path(root).exists():
        return None
    with database.reader(root) as con:
        row = one(
            con,
            "SELECT batch_id, kind, received_date, file_name FROM batches"
            " WHERE sha256 = ? AND unit_code = ?"
            " AND (? IS NULL OR kind = ?) AND kind <> 'ledger' ORDER BY batch_id LIMIT 1",
            [sha, unit_code, kind, kind],
        )
    return (row[0], row[1], row[2], row[3]) if row else None


def _received_earlier(
    arr: Arrival, sha: str, unit_code: str, batch_id: int, kind: str, root: Path | None,
    checked: bool = False, v: Validation | None = None,
) -> IngestResult | None:  # fmt: skip
    """A stored file arriving again with an earlier received date (or, the same day, under a
    name that sorts first) was received then: its batch is stored again as this copy — validated
    against the earlier date, since rules such as "decided no later than received" depend on it
    — and keeps its batch id; the later batches sharing its 文书号 are keyed again by replay
    (docs/policy.md sections 4 and 5).  So the order in which copies of a file are ingested never
    changes the store.  None when the file cannot be validated as that kind any more."""
    if checked and v is None:
        return None  # refused as that kind: the stored copy stays
    if v is None:  # stored by another run since the round began: checked here
        try:
            v = validate_file(arr.path, kind, arr.received)  # type: ignore[arg-type]
        except FileRefused:
            return None  # the stored copy stays: the same bytes read the same way before
    with database.writer(root) as con:
        return _write(con, v, arr, unit_code, sha, replace=batch_id)


def _ingest_landed_ledger(
    arr: Arrival, sha: str, unit_code: str, root: Path | None, checked: LedgerRead | None = None,
    refused: FileRefused | None = None,
) -> IngestResult:  # fmt: skip
    """A landed ledger: its month first (without one nothing else is said), then its sheets'
    refusal or its rows as checked in the round (read and checked here when not)."""
    if arr.period is None:
        message = "无法确定台账所属月份：请在文件名中写明（如 台账_2026-10.xlsx）或在 manifest.json 中给出 period"
        return quarantine(arr, sha, "ledger_period", message, unit_code, arr.kind, root)
    try:
        if refused is not None:
            raise refused
        return store_ledger(arr, sha, unit_code, arr.period, root, checked)
    except FileRefused as exc:
        return quarantine(arr, sha, exc.code, exc.message, unit_code, arr.kind, root)


def ingest_file(
    path: Path,
    *,
    unit: str | None = None,
    received: date | None = None,
    kind: Kind | None = None,
    root: Path | None = None,
) -> IngestResult:
    """Ingest one upload; see the module docstring for what can happen to it.

    A file whose manifest entry is wrong is quarantined (its date is not guessed), and so is a
    file of the landing zone without a unit or date; a file outside the landing zone without
    them raises :class:`LandingError` — the command line was incomplete, not the upload.
    """
    ((_, outcome),) = ingest_files([Path(path)], unit=unit, received=received, kind=kind, root=root)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


# How many files, and how many bytes of them, one round of :func:`ingest_files` takes at most:
# what is held in memory at once between reading and writing (a round's files are read before
# any of them is written).  A file bigger than that is a round of its own.
ROUND_FILES = 200
ROUND_BYTES = 32 << 20


def ingest_files(
    paths: Iterable[Path],
    *,
    unit: str | None = None,
    received: date | None = None,
    kind: Kind | None = None,
    root: Path | None = None,
) -> Iterator[tuple[Path, IngestResult | Exception]]:
    """Ingest files in their order: each file's result, or the exception that stopped it alone.

    The store ends exactly as if :func:`ingest_file` had been called for each file in turn (the
    same batches, ids and verdicts), but what each file would pay again is paid once per
    round of files (:data:`ROUND_FILES`, :data:`ROUND_BYTES`): the already-stored files are
    found with one query, the uploads are validated together
    (:func:`sgs.validate.pipeline.validate_uploads`), and the writer's lock and connection are
    taken once for the round's writes, each file still in its own transaction.  Reading and
    validating happen before the lock, so parallel runs check side by side and queue only for
    the writes.
    """
    preload()  # pandera imports while the first files are read
    plans: list[_Plan] = []
    size = 0
    for path in paths:
        plan = _plan(Path(path), unit, received, kind, root)
        plans.append(plan)
        size += _size(plan.path)
        if len(plans) >= ROUND_FILES or size >= ROUND_BYTES:
            yield from _round(plans, root)
            plans, size = [], 0
    if plans:
        yield from _round(plans, root)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass
class _Plan:
    """One file of a round, as far as it could go before the writer's lock."""

    path: Path
    arr: Arrival | None = None
    sha: str = ""
    unit_code: str | None = None
    outcome: IngestResult | Exception | None = None  # decided without writing
    finish: Callable[[], IngestResult] | None = None  # decided, to be written in order
    what: Classified | None = None  # what the file is (none when the same bytes are stored)
    validation: Validation | None = None  # an upload's
    ledger: LedgerRead | None = None  # a ledger's rows, checked
    checked_as: str | None = None  # the kind the round read and checked it as (none: refused)


def _plan(
    path: Path, unit: str | None, received: date | None, kind: Kind | None, root: Path | None
) -> _Plan:
    """Where the file comes from, its hash and its unit; what cannot go further is decided
    here (its quarantine written later, in the round's order)."""
    from sgs.reference.units import load_units, resolve_unit

    plan = _Plan(path)
    try:
        try:
            arr = arrival(path, unit, received, kind, root)
        except ArrivalProblem as exc:
            if exc.code in ("no_unit", "no_received_date") and not in_landing_zone(path, root):
                raise
            try:  # the unit, when the folder names a known one, so the office sees whose file
                unit_code = str(resolve_unit(exc.unit, load_units())["code"]) if exc.unit else None
            except KeyError:
                unit_code = None
            sha = sha256_of(path.resolve())
            plan.finish = partial(quarantine_file, path.resolve(), exc.received, sha, exc.code,
                                  exc.message, unit_code, exc.kind, root)  # fmt: skip
            return plan
        plan.arr, plan.sha = arr, sha256_of(arr.path)
        try:
            plan.unit_code = str(resolve_unit(arr.unit or "", load_units())["code"])
        except KeyError as exc:
            plan.finish = partial(quarantine, arr, plan.sha, "unknown_unit", str(exc.args[0]),
                                  None, arr.kind, root)  # fmt: skip
    except Exception as exc:  # one file's failure must not stop the others
        plan.outcome = exc
    return plan


def _read(plans: list[_Plan], root: Path | None) -> None:
    """Classify the round's files (uploads are read); one query first finds the uploads whose
    bytes are stored already, which are not read again."""
    waiting = [p for p in plans if p.arr is not None and p.finish is None and p.outcome is None]
    stored = _stored_copies({(p.sha, p.unit_code) for p in waiting}, root)  # type: ignore[misc]
    for p in waiting:
        arr = p.arr
        assert arr is not None
        copy = None if arr.is_ledger else _earlier_copy(arr, stored.get((p.sha, p.unit_code), []))  # type: ignore[arg-type]
        if copy is not None:
            _, kind, received, name = copy
            if (arr.received, arr.path.name) < (received, name):  # checked now as that kind
                p.what, p.checked_as = classify(replace(arr, kind=kind)), kind
            continue  # decided under the lock, as the same file again
        if not arr.is_ledger and not arr.named_ledger:
            key = check_key(p.sha, p.unit_code, arr.kind, arr.received)  # type: ignore[arg-type]
            if (done := kept(key, arr.path, root)) is not None:  # checked at its hand-in
                p.what, p.validation, p.checked_as = Classified(upload=done.upload), done, done.kind
                continue
        try:
            p.what = classify(arr)
        except Exception as exc:
            p.outcome = exc
        else:
            p.checked_as = p.what.upload.kind if p.what.upload is not None else None


def _stored_copies(
    pairs: set[tuple[str, str]], root: Path | None
) -> dict[tuple[str, str], list[tuple[int, str, date, str]]]:
    """For each (bytes, unit) of the round, the upload batches stored of them, in batch order:
    what :func:`_seen_before` would say of each file, asked once for the round."""
    if not pairs or not database.db_path(root).exists():
        return {}
    with database.reader(root) as con:
        con.register("arriving", pl.DataFrame(list(pairs), schema=["sha256", "unit_code"],
                                              orient="row"))  # fmt: skip
        found = con.execute(
            "SELECT b.sha256, b.unit_code, b.batch_id, b.kind, b.received_date, b.file_name"
            " FROM batches b JOIN arriving a USING (sha256, unit_code)"
            " WHERE b.kind <> 'ledger' ORDER BY b.batch_id"
        ).fetchall()
        con.unregister("arriving")
    out: dict[tuple[str, str], list[tuple[int, str, date, str]]] = {}
    for sha, unit, *batch in found:
        out.setdefault((sha, unit), []).append(tuple(batch))  # type: ignore[arg-type]
    return out


def _earlier_copy(
    arr: Arrival, stored: list[tuple[int, str, date, str]]
) -> tuple[int, str, date, str] | None:
    """The stored batch of these bytes that this arrival is a copy of (as :func:`_seen_before`
    picks it), or None."""
    return next((b for b in stored if arr.kind is None or b[1] == arr.kind), None)


def _validate(plans: list[_Plan]) -> None:
    """Validate the round's uploads together; a failure there checks each file alone, so a
    file that breaks the validator is refused by itself."""
    for p in plans:
        if p.what is not None and p.what.ledger_sheets is not None and p.arr.period is not None:  # type: ignore[union-attr]
            try:
                with refusing_the_unexpected(p.path):
                    p.ledger = check_ledger_sheets(p.what.ledger_sheets, p.arr.period)  # type: ignore[union-attr]
            except FileRefused as exc:
                p.what.ledger_refused = exc
            except SgsError as exc:
                p.outcome = exc
    ready = [p for p in plans if p.validation is None and p.what is not None and p.what.upload]
    try:
        together = validate_uploads([(p.what.upload, p.arr.received) for p in ready])  # type: ignore[misc,union-attr]
        for p, v in zip(ready, together, strict=True):
            p.validation = v
        return
    except Exception:
        pass
    for p in ready:
        try:
            with refusing_the_unexpected(p.path):
                p.validation = validate_uploads([(p.what.upload, p.arr.received)])[0]  # type: ignore[list-item,union-attr]
        except FileRefused as exc:
            p.what = Classified(refused=exc)
        except SgsError as exc:
            p.outcome = exc


def _round(
    plans: list[_Plan], root: Path | None
) -> Iterator[tuple[Path, IngestResult | Exception]]:
    _read(plans, root)
    _validate(plans)
    if all(p.outcome is not None for p in plans):
        for p in plans:
            yield p.path, p.outcome  # type: ignore[misc]
        return
    outcomes: list[IngestResult | Exception] = []
    try:
        with database.session(root):
            for p in plans:
                outcomes.append(p.outcome if p.outcome is not None else _settle(p, root))
    except Exception as exc:  # the store could not be opened (busy past the timeout, …)
        outcomes += [p.outcome if p.outcome is not None else exc for p in plans[len(outcomes) :]]
    for p, outcome in zip(plans, outcomes, strict=True):
        if isinstance(outcome, IngestResult):
            outcome.sha256 = outcome.sha256 or p.sha or None
            if p.arr is not None and p.arr.note:  # e.g. a future file time taken as today
                outcome.message += f"；{p.arr.note}"
        yield p.path, outcome


def _settle(p: _Plan, root: Path | None) -> IngestResult | Exception:
    """The file's write, in the round's order, under the writer's lock."""
    try:
        if p.finish is not None:
            return p.finish()
        arr, unit_code, what = p.arr, p.unit_code, p.what
        assert arr is not None and unit_code is not None
        if what is not None and what.ledger:
            return _ingest_landed_ledger(arr, p.sha, unit_code, root, p.ledger, what.ledger_refused)
        earlier = _seen_before(p.sha, unit_code, arr.kind, root)
        if earlier is not None:
            return _again(arr, p.sha, unit_code, earlier, root, p)
        if what is None:  # its bytes were stored, but not as this declared kind: read it now
            what = classify(arr)
            if what.upload is not None:
                p.validation = validate_uploads([(what.upload, arr.received)])[0]
        if what.refused is not None:
            exc = what.refused
            return quarantine(arr, p.sha, exc.code, exc.message, unit_code, arr.kind, root)
        if what.ledger:
            return _ingest_landed_ledger(arr, p.sha, unit_code, root, None, what.ledger_refused)
        with database.writer(root) as con:
            return _write(con, p.validation, arr, unit_code, p.sha)  # type: ignore[arg-type]
    except Exception as exc:
        return exc


def _again(
    arr: Arrival, sha: str, unit_code: str, earlier: tuple[int, str, date, str],
    root: Path | None, p: _Plan,
) -> IngestResult:  # fmt: skip
    """The same bytes stored before for this unit: skipped, or dated by this copy when it was
    received earlier (:func:`_received_earlier`, with the round's check of this copy when it
    was made as that kind)."""
    batch_id, kind, received, name = earlier
    if (arr.received, arr.path.name) < (received, name):
        checked = p.checked_as == kind  # then its validation, or none: refused as that kind
        moved = _received_earlier(arr, sha, unit_code, batch_id, kind, root, checked, p.validation)
        if moved is not None:  # still the same file: skipped, but now dated by this copy
            result = skipped(arr, unit_code, kind, batch_id)
            result.message += f"；接收日期改为本次的 {arr.received}，并按此日重新校验"
            return result
    return skipped(arr, unit_code, kind, batch_id)
