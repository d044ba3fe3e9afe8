"""The lifecycle of a reported problem: reported, due, corrected — computed from the store.

A problem is identified by (record, field, rule) across the record's versions: it is reported
on the received date of the first version that has it, must be corrected by a re-submission
within ``correction_workdays`` workdays (settings), and is corrected by the first later version
that no longer has it.  Problems of the unit's current ledgers count too (they are corrected by
sending a new ledger).  Warnings are listed for information, with no deadline.  The feedback
lists, the weekly reminder and points item 9 all read problems from here.

Everything is as of the end of a day (``$as_of``, :mod:`sgs.store.known`): a problem is open
unless a version received by then corrected it.  What a problem shows — its value, message,
suggestion, file and sheet — is the latest occurrence's, even where that is empty: a correction
that leaves a field blank shows the blank, not the previous version's value.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from sgs.errors import CalendarGap
from sgs.periods import knowledge_day
from sgs.reference.calendar import add_workdays
from sgs.reference.catalogue import KINDS, load_catalogue
from sgs.reference.settings import load_settings
from sgs.store import known
from sgs.store.sql import frame


def problems_sql(kind: str) -> str:
    """Every (record, field, rule) problem of a kind with when it was reported and corrected,
    as of ``$as_of``."""
    view = known.versions(kind)
    return f"""
    WITH occurrences AS (
        SELECT v.record_key, v.unit_code, v.version, v.versions, v.received_date, v.batch_id,
               v.source_row, v.source_sheet, e.field, e.rule, e.severity, e.message, e.value,
               e.suggestion
        FROM errors e JOIN {view} v ON v.record_id = e.record_id AND v.batch_id = e.batch_id
    ),
    problems AS (
        SELECT record_key, unit_code, field, rule, severity,
               min(version) AS first_version, max(version) AS last_version,
               max(versions) AS versions,
               min(received_date) AS reported_on,
               -- the latest occurrence's, even where it is null (arg_max would skip nulls)
               arg_max_null(message, version) AS message, arg_max_null(value, version) AS value,
               arg_max_null(suggestion, version) AS suggestion,
               arg_max_null(batch_id, version) AS batch_id,
               arg_max_null(source_row, version) AS source_row,
               arg_max_null(source_sheet, version) AS source_sheet
        FROM occurrences GROUP BY ALL
    )
    SELECT '{kind}' AS kind, p.*,
           p.last_version = p.versions AS open,
           (SELECT min(v.received_date) FROM {view} v
             WHERE v.record_key = p.record_key AND v.version > p.last_version) AS corrected_on
    FROM problems p
    """


def _deadlines(problems: pl.DataFrame) -> pl.DataFrame:
    """Correction deadline = the Nth workday after the report (errors only; warnings have none)."""
    days = load_settings().correction_workdays
    reported = problems["reported_on"].unique().drop_nulls().to_list()
    due: dict[date, date | None] = {}
    for d in reported:  # one look-up per distinct date, not per row
        try:
            due[d] = add_workdays(d, days)
        except CalendarGap:
            due[d] = None
    mapping = pl.DataFrame(
        {"reported_on": list(due), "deadline": list(due.values())},
        schema={"reported_on": pl.Date, "deadline": pl.Date},
    )
    out = problems.join(mapping, on="reported_on", how="left", maintain_order="left")
    return out.with_columns(
        pl.when(pl.col("severity") == "error").then(pl.col("deadline")).alias("deadline")
    )


def open_problems(
    con: duckdb.DuckDBPyConnection,
    unit: str | None = None,
    since: date | None = None,
    *,
    as_of: date | None = None,
) -> pl.DataFrame:
    """The open problems (records and current ledgers) of one unit or all, newest report first,
    as they stood at the end of ``as_of`` (default today)."""
    day = knowledge_day(as_of)
    parts = []
    for kind in KINDS:
        part = frame(
            con,
            f"""SELECT p.*, b.file_name FROM ({problems_sql(kind)}) p
                JOIN batches b USING (batch_id)
                WHERE p.open AND ($unit IS NULL OR p.unit_code = $unit)
                  AND ($since IS NULL OR p.reported_on >= $since)""",
            {"unit": unit, "since": since, "as_of": day},
        )
        parts.append(part)
    ledger = frame(
        con,
        f"""SELECT 'ledger' AS kind, e.field, e.rule, e.severity, e.message, e.value,
                  e.suggestion,
                  l.unit_code, l.received_date AS reported_on, e."row" AS source_row,
                  e.sheet AS source_sheet,
                  l.file_name, l.batch_id
           FROM errors e JOIN {known.ledgers()} l ON l.batch_id = e.batch_id AND l.is_current
           WHERE ($unit IS NULL OR l.unit_code = $unit)
             AND ($since IS NULL OR l.received_date >= $since)""",
        {"unit": unit, "since": since, "as_of": day},
    )
    parts.append(ledger)
    columns = ["unit_code", "kind", "file_name", "source_sheet", "source_row", "field", "rule", "severity",
               "message", "value", "suggestion", "reported_on"]  # fmt: skip
    typed = [
        p.select(columns).with_columns(
            pl.col("reported_on").cast(pl.Date), pl.col("source_row").cast(pl.Int64)
        )
        for p in parts
    ]
    found = pl.concat(typed, how="vertical_relaxed")
    # A row's problems in the standard's column order, then by rule and text: a total order,
    # so the list never depends on how the store happened to scan (a file, the lake).
    columns_order = {
        f.code: i for kind in KINDS for i, f in enumerate(load_catalogue().kind(kind).fields)
    }
    found = found.with_columns(
        pl.col("field").replace_strict(columns_order, default=len(columns_order),
                                       return_dtype=pl.Int32).alias("_column")
    )  # fmt: skip
    order = ["reported_on", "file_name", "source_sheet", "source_row", "_column", "field",
             "rule", "severity", "message", "value", "suggestion"]  # fmt: skip
    return (
        _deadlines(found)
        .sort(order, descending=[True] + [False] * (len(order) - 1), nulls_last=True)
        .drop("_column")
    )
