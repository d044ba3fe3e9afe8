"""Feedback lists (反馈清单): every open problem of a unit, to claim and fix.

A problem is identified by (record, field, rule) across the record's versions: it is reported
on the received date of the first version that has it, must be corrected by a re-submission
within ``correction_workdays`` workdays (settings), and is corrected by the first later version
that no longer has it.  Problems of the unit's current ledgers are listed too (they are
corrected by sending a new ledger).  Warnings are listed for information, with no deadline.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from sgs.reference.catalogue import KINDS, load_catalogue
from sgs.reference.settings import load_settings
from sgs.report.masking import mask_error_values
from sgs.report.xlsx import Column, Sheet, write_workbook
from sgs.store.database import VERSION_VIEWS, curated_dir, frame


def problems_sql(kind: str) -> str:
    """Every (record, field, rule) problem of a kind with when it was reported and corrected."""
    view = VERSION_VIEWS[kind]
    return f"""
    WITH occurrences AS (
        SELECT v.record_key, v.unit_code, v.version, v.versions, v.received_date, v.batch_id,
               v.source_row, e.field, e.rule, e.severity, e.message, e.value
        FROM errors e JOIN {view} v ON v.record_id = e.record_id AND v.batch_id = e.batch_id
    ),
    problems AS (
        SELECT record_key, unit_code, field, rule, severity,
               min(version) AS first_version, max(version) AS last_version,
               max(versions) AS versions,
               min(received_date) AS reported_on,
               arg_max(message, version) AS message, arg_max(value, version) AS value,
               arg_max(batch_id, version) AS batch_id, arg_max(source_row, version) AS source_row
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
    from sgs.errors import CalendarGap
    from sgs.reference.calendar import add_workdays

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
    con: duckdb.DuckDBPyConnection, unit: str | None = None, since: date | None = None
) -> pl.DataFrame:
    """The open problems (records and current ledgers) of one unit or all, newest report first."""
    parts = []
    for kind in KINDS:
        part = frame(
            con,
            f"""SELECT p.*, b.file_name FROM ({problems_sql(kind)}) p
                JOIN batches b USING (batch_id)
                WHERE p.open AND ($unit IS NULL OR p.unit_code = $unit)
                  AND ($since IS NULL OR p.reported_on >= $since)""",
            {"unit": unit, "since": since},
        )
        parts.append(part)
    ledger = frame(
        con,
        """SELECT 'ledger' AS kind, e.field, e.rule, e.severity, e.message, e.value,
                  l.unit_code, l.received_date AS reported_on, e."row" AS source_row,
                  l.file_name, l.batch_id
           FROM errors e JOIN ledgers l ON l.batch_id = e.batch_id AND l.is_current
           WHERE ($unit IS NULL OR l.unit_code = $unit)
             AND ($since IS NULL OR l.received_date >= $since)""",
        {"unit": unit, "since": since},
    )
    parts.append(ledger)
    columns = ["unit_code", "kind", "file_name", "source_row", "field", "rule", "severity",
               "message", "value", "reported_on"]  # fmt: skip
    typed = [
        p.select(columns).with_columns(
            pl.col("reported_on").cast(pl.Date), pl.col("source_row").cast(pl.Int64)
        )
        for p in parts
    ]
    found = pl.concat(typed, how="vertical_relaxed")
    return _deadlines(found).sort(
        ["reported_on", "file_name", "source_row"], descending=[True, False, False]
    )


FIELD_NAMES_LEDGER = {f.code: f.name for f in load_catalogue().ledger_fields}


def _field_names() -> dict[str, str]:
    cat = load_catalogue()
    names = {f.code: f.name for k in KINDS for f in cat.kind(k).fields}
    names["BZ"] = "备注"
    return names


KIND_ZH = {"permit": "行政许可", "penalty": "行政处罚", "ledger": "台账"}
SEVERITY_ZH = {"error": "错误", "warning": "警告"}


def feedback_frame(problems: pl.DataFrame, today: date | None = None) -> pl.DataFrame:
    """The list as people read it: Chinese names, masked ID numbers, overdue flags."""
    today = today or date.today()
    names = _field_names()
    ledger_names = FIELD_NAMES_LEDGER
    masked = mask_error_values(problems)
    return masked.with_columns(
        pl.col("kind").replace_strict(KIND_ZH).alias("kind_zh"),
        pl.when(pl.col("kind") == "ledger")
        .then(pl.col("field").replace_strict(ledger_names, default=pl.col("field")))
        .otherwise(pl.col("field").replace_strict(names, default=pl.col("field")))
        .alias("field_name"),
        pl.col("severity").replace_strict(SEVERITY_ZH).alias("severity_zh"),
        pl.when(pl.col("deadline").is_not_null() & (pl.col("deadline") < today))
        .then(pl.lit("已逾期"))
        .otherwise(None)
        .alias("overdue"),
    )


def write_feedback(
    path: str | Path, unit: dict, problems: pl.DataFrame, today: date | None = None
) -> Path:
    """The unit's feedback list as XLSX."""
    rows = feedback_frame(problems, today)
    errors = rows.filter(pl.col("severity") == "error").height
    notes = [
        f"单位：{unit['name']}（{unit['code']}）",
        f"待整改问题 {errors} 处，提示 {rows.height - errors} 处",
        f"整改期限：报告之日起 {load_settings().correction_workdays} 个工作日内重新报送更正后的记录",
    ]
    sheet = Sheet(
        "反馈清单",
        f"{unit['name']}双公示数据问题反馈清单",
        rows,
        [
            Column("kind_zh", "类别", 8),
            Column("file_name", "文件", 28),
            Column("source_row", "行号", 6, "int"),
            Column("field_name", "字段", 22),
            Column("field", "字段代码", 14),
            Column("severity_zh", "级别", 6),
            Column("message", "问题说明", 44),
            Column("value", "原始值", 24),
            Column("reported_on", "反馈日期", 12, "date"),
            Column("deadline", "整改期限", 12, "date"),
            Column("overdue", "状态", 8),
        ],
        notes,
    )
    return write_workbook(path, [sheet], generated=datetime.now())


def feedback_path(unit_code: str, day: date, root: Path | None = None) -> Path:
    return curated_dir(root) / "feedback" / unit_code / f"反馈清单_{day.isoformat()}.xlsx"
