"""The weekly reminder (周提醒): who must act — overdue corrections, missing ledgers, low rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from sgs.clock import office_today
from sgs.errors import CalendarGap
from sgs.labels import RATE_NAMES, kind_names
from sgs.measure.problems import open_problems
from sgs.periods import ledger_due, previous_month
from sgs.reference.settings import load_settings
from sgs.report.xlsx import Column, Sheet, write_workbook
from sgs.store import database
from sgs.store.database import curated_dir
from sgs.store.sql import frame


def _ledger_due_or_none(period: str) -> date | None:
    """The ledger's due day, or None where the calendar does not cover it yet (no reminder)."""
    try:
        return ledger_due(period)
    except CalendarGap:
        return None


@dataclass
class Reminder:
    today: date
    period: str
    overdue: pl.DataFrame  # unit, open errors past deadline, oldest deadline
    missing_ledgers: pl.DataFrame  # units without a ledger or zero report for the period
    low_rates: pl.DataFrame  # unit, kind, rate name, value

    @property
    def units(self) -> int:
        codes = set(self.overdue["unit_code"]) | set(self.missing_ledgers["unit_code"])
        return len(codes | set(self.low_rates["unit_code"]))


def build_reminder(today: date | None = None, root: Path | None = None) -> Reminder:
    from sgs.measure.rates import rates

    today = today or office_today()
    period = previous_month(today)
    threshold = load_settings().reminder_rate_threshold
    with database.reader(root) as con:
        problems = open_problems(con)
        units = frame(con, "SELECT code AS unit_code, name AS unit_name, type FROM units")
        ledgers = frame(
            con,
            "SELECT DISTINCT unit_code FROM ledgers WHERE period = $p AND is_current",
            {"p": period},
        )
        table = rates(con, period)
    overdue = (
        problems.filter((pl.col("severity") == "error") & (pl.col("deadline") < today))
        .group_by("unit_code")
        .agg(pl.len().alias("overdue_errors"), pl.col("deadline").min().alias("oldest_deadline"))
        .join(units, on="unit_code", how="left")
        .sort("overdue_errors", descending=True)
    )
    due = _ledger_due_or_none(period)
    missing = units.filter(~pl.col("unit_code").is_in(ledgers["unit_code"].implode()))
    missing = missing.with_columns(pl.lit(period).alias("period"), pl.lit(due).alias("due"))
    if due is None or today <= due:
        missing = missing.clear()  # not late yet (or the calendar cannot tell): no reminder
    low = (
        table.unpivot(
            index=["unit_code", "unit_name", "kind"],
            on=["timeliness_rate", "compliance_rate", "completeness_rate"],
            variable_name="rate",
            value_name="value",
        )
        .filter(pl.col("value").is_not_null() & (pl.col("value") < threshold))
        .sort(["unit_code", "kind", "rate"])
    )
    return Reminder(today, period, overdue, missing, low)


def write_reminder(reminder: Reminder, root: Path | None = None) -> Path:
    path = curated_dir(root) / "reminders" / f"周提醒_{reminder.today.isoformat()}.xlsx"
    low = reminder.low_rates.with_columns(
        pl.col("rate").replace_strict(RATE_NAMES).alias("rate_zh"),
        pl.col("kind").replace_strict(kind_names()).alias("kind_zh"),
    )
    threshold = load_settings().reminder_rate_threshold
    sheets = [
        Sheet("逾期未整改", "逾期未整改的问题", reminder.overdue,
              [Column("unit_name", "单位", 28), Column("overdue_errors", "逾期问题数", 10, "int"),
               Column("oldest_deadline", "最早整改期限", 14, "date")]),
        Sheet("台账未报", f"{reminder.period} 台账（或零增量报告）未报送", reminder.missing_ledgers,
              [Column("unit_name", "单位", 28), Column("period", "所属月份", 10),
               Column("due", "报送期限", 14, "date")]),
        Sheet("三率偏低", f"{reminder.period} 三率低于 {threshold:.0%}", low,
              [Column("unit_name", "单位", 28), Column("kind_zh", "类别", 10),
               Column("rate_zh", "指标", 8), Column("value", "数值", 10, "percent")]),
    ]  # fmt: skip
    return write_workbook(path, sheets)


def reminder_markdown(reminder: Reminder) -> str:
    lines = [
        f"# 周提醒（{reminder.today}）",
        "",
        f"- 逾期未整改问题的单位：{reminder.overdue.height} 个",
        f"- {reminder.period} 台账未报送的单位：{reminder.missing_ledgers.height} 个",
        f"- {reminder.period} 三率偏低：{reminder.low_rates.height} 项",
        "",
    ]
    for r in reminder.overdue.head(20).iter_rows(named=True):
        lines.append(
            f"- {r['unit_name']}：{r['overdue_errors']} 处问题逾期（最早期限 {r['oldest_deadline']}）"
        )
    for r in reminder.missing_ledgers.head(50).iter_rows(named=True):
        lines.append(f"- {r['unit_name']}：{reminder.period} 台账未报送（期限 {r['due']}）")
    return "\n".join(lines)
