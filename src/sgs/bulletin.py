"""The monthly bulletin (月通报) workbook.  For now: the month's rates per unit; points, ranking and
charts come with the scoring (see the issue on points and the bulletin)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sgs import store
from sgs.store import curated_dir
from sgs.xlsx import Column, Sheet, write_workbook

KIND_ZH = {"permit": "行政许可", "penalty": "行政处罚"}


def bulletin_path(period: str, root: Path | None = None) -> Path:
    return curated_dir(root) / "bulletins" / f"月通报_{period}.xlsx"


def write_rates_bulletin(period: str, root: Path | None = None) -> tuple[Path, pl.DataFrame]:
    from sgs.rates import rates

    with store.reader(root) as con:
        table = rates(con, period)
    rows = table.with_columns(pl.col("kind").replace_strict(KIND_ZH).alias("kind_zh"))
    sheet = Sheet(
        "三率",
        f"{period} 双公示信息三率",
        rows,
        [
            Column("unit_name", "单位", 30),
            Column("kind_zh", "类别", 10),
            Column("uploaded", "上报条数", 10, "int"),
            Column("timeliness_rate", "及时率", 10, "percent"),
            Column("compliance_rate", "合规率", 10, "percent"),
            Column("ledger_entries", "台账条数", 10, "int"),
            Column("ledger_matched", "已上报", 10, "int"),
            Column("completeness_rate", "完整率", 10, "percent"),
        ],
        ["比率分母为 0 时显示“—”"],
    )
    return write_workbook(bulletin_path(period, root), [sheet]), table
