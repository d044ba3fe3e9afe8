"""Dated events the data cannot show: the credit office records them in ``config/events.csv``.

Columns ``unit,type,date,due,count,note``: the unit (code or exact name); the type (English key
or Chinese name, below); the date it happened (empty while not done); the due date (required
for tasks of item 4; for items 1–3 and the year-end items 11–13 it names the year the event is
for, e.g. a January summary of last year is due last year); a count (credit repairs, media reports; default 1); a free note.  ``$SGS_EVENTS_FILE``
points at another file.

As of a day D (docs/policy.md section 6) an event dated after D has not happened yet: its date
is empty, as for an event not done — a task still counts as due, not as done.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from sgs.config import events_path
from sgs.errors import EventsError

EVENT_TYPES = {
    "directory": "目录编制",  # item 1
    "plan": "实施方案",  # item 2
    "staff": "双员",  # item 3
    "task": "阶段性工作",  # item 4
    "repair": "信用修复",  # item 10
    "cooperation": "配合评估",  # item 11
    "media": "宣传报道",  # item 12
    "summary": "年度总结",  # item 13
}
COLUMNS = ("unit", "type", "date", "due", "count", "note")


def load_events(path: Path | None = None, as_of: date | None = None) -> pl.DataFrame:
    """Events with ``unit_code``, ``type`` (English key), ``date``, ``due``, ``count``, ``note``;
    with ``as_of``, as known at the end of that day (a later date is empty: not done yet)."""
    events = _read_events(path)
    if as_of is None:
        return events
    return events.with_columns(pl.when(pl.col("date") <= as_of).then(pl.col("date")).alias("date"))


def _read_events(path: Path | None) -> pl.DataFrame:
    from sgs.reference.units import load_units, resolve_unit

    path = path or events_path()
    if not path.exists():
        return pl.DataFrame(
            schema={
                "unit_code": pl.String,
                "type": pl.String,
                "date": pl.Date,
                "due": pl.Date,
                "count": pl.Int64,
                "note": pl.String,
            }
        )
    raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise EventsError(f"事件文件 {path} 缺少列：{'、'.join(missing)}")
    names = {v: k for k, v in EVENT_TYPES.items()}
    units = load_units()
    rows = []
    for i, row in enumerate(raw.iter_rows(named=True), start=2):  # a small hand-kept file
        kind = (row["type"] or "").strip()
        kind = names.get(kind, kind)
        if kind not in EVENT_TYPES:
            raise EventsError(f"事件文件第 {i} 行：未知的事件类型「{row['type']}」")
        try:
            unit = str(resolve_unit(row["unit"] or "", units)["code"])
        except KeyError as exc:
            raise EventsError(f"事件文件第 {i} 行：{exc.args[0]}") from exc
        if kind == "task" and not (row["due"] or "").strip():
            raise EventsError(f"事件文件第 {i} 行：阶段性工作须填写截止日期（due 列）")
        rows.append({"unit_code": unit, "type": kind, "date": row["date"], "due": row["due"],
                     "count": row["count"] or "1", "note": row["note"]})  # fmt: skip
    frame = pl.DataFrame(
        rows, schema=dict.fromkeys(["unit_code", "type", "date", "due", "count", "note"], pl.String)
    )
    try:
        return frame.with_columns(
            pl.col("date").str.strip_chars().replace("", None).str.to_date("%Y-%m-%d"),
            pl.col("due").str.strip_chars().replace("", None).str.to_date("%Y-%m-%d"),
            pl.col("count").str.strip_chars().cast(pl.Int64),
        )
    except pl.exceptions.PolarsError as exc:
        raise EventsError(f"事件文件 {path} 的日期应为 YYYY-MM-DD、数量应为整数：{exc}") from exc
