"""Rows and labels of the Prefect artifacts: the tables engineers read in the Prefect UI.

Shared by the daily and the monthly flows, so a unit's rates look the same in both.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sgs.labels import STATUS_NAMES, kind_name, pct
from sgs.store.batches import IngestResult


def landing_label(path: Path) -> str:
    """``<unit>/<date>/<file>`` for task names and tables."""
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else path.name


def files_table(results: list[IngestResult], ignored: list[Path] | None = None) -> list[dict]:
    """The day's files as rows for a Prefect table artifact (Chinese column names); files left
    by their name come last, so the office sees that they were there."""
    from sgs.reference.units import load_units

    names = dict(load_units().select("code", "name").iter_rows())
    rows = [
        {
            "文件": landing_label(Path(r.path)),
            "单位": names.get(r.unit_code or "", r.unit_code or ""),
            "类别": kind_name(r.kind),
            "结果": STATUS_NAMES[r.status],
            "入库行数": r.rows_stored,
            "合规行数": r.rows_valid,
            "不合规行数": r.rows_failing,
            "隔离原因": r.message if r.status == "quarantined" else "",
        }
        for r in results
    ]
    for path in ignored or []:
        rows.append(
            {"文件": landing_label(path), "单位": "", "类别": "", "结果": STATUS_NAMES["ignored"],
             "入库行数": 0, "合规行数": 0, "不合规行数": 0, "隔离原因": "按文件名忽略（临时、隐藏或说明文件）"}
        )  # fmt: skip
    return rows


def rates_rows(table: pl.DataFrame) -> list[dict]:
    """Rates of units with something to show, as artifact rows (rates as percentages)."""
    busy = table.filter((pl.col("uploaded") > 0) | (pl.col("ledger_entries") > 0))

    return [
        {
            "月份": r["period"],
            "单位": r["unit_name"],
            "类别": kind_name(r["kind"]),
            "上报": r["uploaded"],
            "及时率": pct(r["timeliness_rate"]),
            "合规率": pct(r["compliance_rate"]),
            "完整率": pct(r["completeness_rate"]),
            "日历缺口": "是" if r["calendar_gap"] else "",
        }
        for r in busy.iter_rows(named=True)
    ]
