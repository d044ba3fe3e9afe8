"""Feedback lists (反馈清单): every open problem of a unit, to claim and fix, as a workbook.

Which problems are open, when they were reported and when they are due comes from
:mod:`sgs.measure.problems`; this module turns them into what a clerk reads.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from sgs.clock import office_now, office_today
from sgs.labels import SEVERITY_NAMES, field_names, kind_names, rule_names
from sgs.reference.settings import load_settings
from sgs.report.masking import mask_error_values
from sgs.report.xlsx import Column, Sheet, write_workbook
from sgs.store.database import curated_dir


def feedback_frame(problems: pl.DataFrame, today: date | None = None) -> pl.DataFrame:
    """The list as people read it: Chinese names of kinds, fields and rules (codes beside them),
    masked ID numbers, overdue flags."""
    today = today or office_today()
    masked = mask_error_values(problems)
    return masked.with_columns(
        pl.col("kind").replace_strict(kind_names()).alias("kind_zh"),
        pl.col("field").replace_strict(field_names(), default=pl.col("field")).alias("field_name"),
        pl.col("rule").replace_strict(rule_names(), default=pl.col("rule")).alias("rule_name"),
        pl.col("severity").replace_strict(SEVERITY_NAMES).alias("severity_zh"),
        # A workbook's row is (sheet, row): several sheets may each have a row 5.
        pl.when(pl.col("source_sheet").is_not_null())
        .then(pl.format("{}（工作表「{}」）", "file_name", "source_sheet"))
        .otherwise(pl.col("file_name"))
        .alias("file_label"),
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
            Column("file_label", "文件", 28),
            Column("source_row", "行号", 6, "int"),
            Column("field_name", "字段", 22),
            Column("field", "字段代码", 14),
            Column("rule_name", "规则", 14),
            Column("rule", "规则代码", 14),
            Column("severity_zh", "级别", 6),
            Column("message", "问题说明", 44),
            Column("value", "原始值", 24),
            Column("suggestion", "修改建议", 24),
            Column("reported_on", "反馈日期", 12, "date"),
            Column("deadline", "整改期限", 12, "date"),
            Column("overdue", "状态", 8),
        ],
        notes,
    )
    return write_workbook(path, [sheet], generated=office_now())


def feedback_path(unit_code: str, day: date, root: Path | None = None) -> Path:
    return curated_dir(root) / "feedback" / unit_code / f"反馈清单_{day.isoformat()}.xlsx"
