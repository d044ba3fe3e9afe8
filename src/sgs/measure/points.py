"""The monthly points (月度积分) of docs/policy.md, items 1–10, and the year total with items 11–13.

Items by month P (numbers as in the city notice):

1–3  directory / implementation plan / "双员": counted in the month of their due date (settings,
     January by default): 10 if done by the due date, −1 per workday late, 0 after
     ``late_workdays_limit`` workdays.  Dates come from the events file.
4    each assigned task due in P: 10 each, same lateness rule (events file, with due dates).
5    the ledger (or zero-increment report) of P, due on the ``ledger_due_workday``-th workday of
     the next month: same lateness rule, on its first receipt.
6–8  10 × timeliness / compliance / completeness of P, both kinds together.  Not applicable
     (null) when the denominator is empty.  A zero-increment report for P is checked against
     the data: *contradicted* when a record of the unit decided in P is stored (any version,
     valid or not, received by ``as_of``) — item 8 = 0 and items 6–7 from the month's uploads;
     otherwise item 8 = 10 and items 6–7 = 10 when nothing was uploaded in P (setting
     ``zero_report_full_marks``), else computed from the month's uploads.
9    10, −1 per workday each error first reported in P stays uncorrected past its deadline
     (``correction_workdays`` after being reported), counted until corrected or ``as_of``.
10   credit repairs in P, counties and districts only: ``repair_points_each`` each, at most
     ``repair_points_cap``.

An item not yet due is null (pending); one overdue and not done scores what it would if done on
``as_of``.  Everything is as the office knew it at the end of ``as_of`` (default today): only
files received by then and events dated by then count, so the month's points can be recomputed
as they stood on any day.  The total is the sum of the applicable items; units are ranked by it
within their group — counties, districts and zones (县区) apart from city departments (市直部门),
as the notice treats them.  A date the workday calendar cannot place makes the item null and sets
``calendar_gap``.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from sgs.measure.rates import rates, unit_rates
from sgs.periods import knowledge_day, ledger_due, period_bounds
from sgs.reference.events import load_events
from sgs.reference.settings import Settings, load_settings
from sgs.store.sql import frame

GROUPS = {"county": "县区", "zone": "县区", "department": "市直部门"}
#: The group of a county's department (a unit with a ``parent``): shown, never ranked — its
#: figures count in its county's row (docs/policy.md section 1).
DEPARTMENT_OF_COUNTY = "县区部门"
ITEMS = tuple(f"item_{i}" for i in range(1, 11))
ITEM_NAMES = {
    "item_1": "目录编制", "item_2": "实施方案", "item_3": "双员落实", "item_4": "阶段性工作",
    "item_5": "台账报送", "item_6": "及时率", "item_7": "合规率", "item_8": "完整率",
    "item_9": "错误认领", "item_10": "信用修复",
}  # fmt: skip
YEAR_END = {"cooperation": "item_11", "media": "item_12", "summary": "item_13"}


def late_score(done: date | None, due: date, as_of: date, s: Settings) -> float | None:
    """10 on time, −1 per workday late, 0 beyond the limit; None while not done and not due.

    Raises :class:`sgs.errors.CalendarGap` when the calendar cannot count the workdays.
    """
    from sgs.reference.calendar import workdays_between

    end = done if done is not None else as_of
    if done is None and as_of <= due:
        return None
    late = max(0, workdays_between(due, end)) if end > due else 0
    if late > s.late_workdays_limit:
        return 0.0
    return float(max(0, s.points_per_item - late))


def _due_in(period: str, month_day: str) -> date | None:
    """The due date ``MM-DD`` of the period's year, if it falls in the period's month."""
    start, _ = period_bounds(period)
    month, day = map(int, month_day.split("-"))
    due = date(start.year, month, day)
    return due if due.month == start.month else None


def _for_year(year: int) -> pl.Expr:
    """Events of a yearly task meant for ``year``: by their due date when given, else by their
    date — a directory published in December ahead of the year counts for that year."""
    dated = pl.col("date").dt.year().is_in([year]) | (
        (pl.col("date").dt.year() == year - 1) & (pl.col("date").dt.month() == 12)
    )
    return (
        pl.when(pl.col("due").is_not_null()).then(pl.col("due").dt.year() == year).otherwise(dated)
    )


def _unit_rates(con: duckdb.DuckDBPyConnection, period: str, as_of: date) -> pl.DataFrame:
    """Rates of each unit with both kinds together (the points are per unit)."""
    return unit_rates(rates(con, period, as_of=as_of))


def _error_lateness(
    con: duckdb.DuckDBPyConnection, period: str, as_of: date, s: Settings
) -> pl.DataFrame:
    """Per unit: errors first reported in the period and their workdays past the deadline."""
    from sgs.errors import CalendarGap
    from sgs.measure.problems import problems_sql
    from sgs.reference.calendar import add_workdays, workdays_between

    start, end = period_bounds(period)
    parts = [
        frame(
            con,
            f"SELECT unit_code, reported_on, corrected_on FROM ({problems_sql(kind)}) "
            "WHERE severity = 'error' AND reported_on >= $start AND reported_on < $end",
            {"start": start, "end": end, "as_of": as_of},
        )
        for kind in ("permit", "penalty")
    ]
    problems = pl.concat(parts)
    late, gap = [], []
    for reported, corrected in problems.select("reported_on", "corrected_on").iter_rows():
        try:  # one small look-up per error of one month, on the calendar's running numbers
            deadline = add_workdays(reported, s.correction_workdays)
            until = min(corrected, as_of) if corrected else as_of
            late.append(max(0, workdays_between(deadline, until)) if until > deadline else 0)
            gap.append(False)
        except CalendarGap:
            late.append(0)
            gap.append(True)
    return (
        problems.with_columns(
            pl.Series("late", late, dtype=pl.Int64), pl.Series("gap", gap, dtype=pl.Boolean)
        )
        .group_by("unit_code")
        .agg(
            pl.len().alias("errors_reported"),
            pl.col("late").sum().alias("error_late_workdays"),
            pl.col("gap").any().alias("error_gap"),
        )
    )


def _with_families(per_unit: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Item 9 of a county or zone counts its departments' errors too: the family's sums on the
    head's row, each department keeping its own."""
    from sgs.measure.rates import FAMILIES

    fam = frame(con, FAMILIES)
    if fam.filter(pl.col("family") != pl.col("unit_code")).height == 0:
        return per_unit
    sums = (
        per_unit.join(fam, on="unit_code", how="left")
        .group_by(pl.coalesce("family", "unit_code").alias("unit_code"))
        .agg(
            pl.col("errors_reported").sum(),
            pl.col("error_late_workdays").sum(),
            pl.col("error_gap").any(),
        )
    )
    heads = pl.col("unit_code").is_in(
        fam.filter(pl.col("family") != pl.col("unit_code"))["family"].unique().implode()
    )
    typed = [pl.col("errors_reported", "error_late_workdays").cast(pl.Int64)]
    return pl.concat(
        [per_unit.filter(~heads).with_columns(typed), sums.filter(heads).with_columns(typed)]
    )


def monthly_points(
    con: duckdb.DuckDBPyConnection, period: str, as_of: date | None = None
) -> pl.DataFrame:
    """One row per registered unit: items 1–10 (null = not applicable or pending), total, rank."""
    from sgs.errors import CalendarGap

    s = load_settings()
    as_of = knowledge_day(as_of)
    start, end = period_bounds(period)
    base = _unit_rates(con, period, as_of)
    events = load_events(as_of=as_of)
    errors = _with_families(_error_lateness(con, period, as_of, s), con)
    base = base.join(errors, on="unit_code", how="left").with_columns(
        pl.col("errors_reported", "error_late_workdays").fill_null(0),
        pl.col("error_gap").fill_null(False),
    )
    try:
        ledger_due_on = ledger_due(period)
    except CalendarGap:
        ledger_due_on = None
    rows = []
    for u in base.iter_rows(named=True):  # one row per unit (a few dozen): plain Python is clearest
        row: dict[str, object] = {k: None for k in ITEMS}
        gap = bool(u["calendar_gap"]) or bool(u["error_gap"])
        mine = events.filter(pl.col("unit_code") == u["unit_code"])
        for item, (kind, due_setting) in {
            "item_1": ("directory", s.directory_due), "item_2": ("plan", s.plan_due),
            "item_3": ("staff", s.staff_due),
        }.items():  # fmt: skip
            due = _due_in(period, due_setting)
            if due is None:
                continue
            done = mine.filter((pl.col("type") == kind) & _for_year(due.year))
            try:
                row[item] = late_score(done["date"].min() if done.height else None, due, as_of, s)
            except CalendarGap:
                gap = True
        tasks = mine.filter(
            (pl.col("type") == "task") & (pl.col("due") >= start) & (pl.col("due") < end)
        )
        if tasks.height:
            scores = []
            for done, due in tasks.select("date", "due").iter_rows():
                try:
                    scores.append(late_score(done, due, as_of, s))
                except CalendarGap:
                    gap = True
            known = [x for x in scores if x is not None]
            row["item_4"] = sum(known) if known else None
        contradicted = bool(u["zero_report"]) and u["zero_report_contradicted"] > 0
        zero_kept = bool(u["zero_report"]) and not contradicted and s.zero_report_full_marks
        if ledger_due_on is not None:
            try:
                row["item_5"] = late_score(u["ledger_received"], ledger_due_on, as_of, s)
            except CalendarGap:
                gap = True
        else:
            gap = True
        full = float(s.points_per_item)
        for item, rate in (
            ("item_6", "timeliness_rate"),
            ("item_7", "compliance_rate"),
            ("item_8", "completeness_rate"),
        ):
            value = None if u[rate] is None else round(full * u[rate], 2)
            if item == "item_8" and u["zero_report"]:
                # A zero report lists no decisions: 0 when the data show some, else full marks.
                value = 0.0 if contradicted else (full if zero_kept else value)
            elif zero_kept and u["uploaded"] == 0:
                value = full  # a true zero report and nothing uploaded in the month
            row[item] = value
        row["item_9"] = float(max(0, s.points_per_item - u["error_late_workdays"]))
        if u["unit_type"] == "county":
            repairs = mine.filter(
                (pl.col("type") == "repair") & (pl.col("date") >= start) & (pl.col("date") < end)
            )["count"].sum()
            row["item_10"] = float(min(s.repair_points_cap, s.repair_points_each * repairs))
        applicable = [v for k, v in row.items() if v is not None]
        group = GROUPS.get(u["unit_type"], u["unit_type"])
        rows.append({
            "unit_code": u["unit_code"], "unit_name": u["unit_name"], "unit_type": u["unit_type"],
            "group": DEPARTMENT_OF_COUNTY if u.get("parent_code") else group, "period": period, **row,
            "total": round(sum(applicable), 2), "ledger_due": ledger_due_on,
            "ledger_received": u["ledger_received"], "zero_report": bool(u["zero_report"]),
            "zero_report_contradicted": int(u["zero_report_contradicted"]),
            "errors_reported": u["errors_reported"], "error_late_workdays": u["error_late_workdays"],
            "calendar_gap": gap, "parent_code": u.get("parent_code"),
        })  # fmt: skip
    schema = {k: pl.Float64 for k in ITEMS} | {"total": pl.Float64, "ledger_due": pl.Date,
                                               "ledger_received": pl.Date}  # fmt: skip
    out = pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
    return _ranked(out, "total")


def _ranked(points: pl.DataFrame, by: str) -> pl.DataFrame:
    """Competition rank (1, 2, 2, 4) within each group; groups listed 县区 first, then 市直部门;
    a county's departments (县区部门) last and unranked."""
    ranked = points.with_columns(
        pl.when(pl.col("group") != DEPARTMENT_OF_COUNTY)
        .then(pl.col(by).rank(method="min", descending=True).over("group"))
        .cast(pl.Int32)
        .alias("rank")
    )
    order = pl.col("group").replace_strict({"县区": 0, "市直部门": 1}, default=2)
    parent = ["parent_code"] if "parent_code" in points.columns else []
    return ranked.sort([order, *parent, "rank", "unit_code"], nulls_last=True)


def yearly_points(
    con: duckdb.DuckDBPyConnection, year: int, as_of: date | None = None
) -> pl.DataFrame:
    """Per unit: the months' totals, their sum (the ranking), year-end items 11–13, year total."""
    s = load_settings()
    as_of = knowledge_day(as_of)
    months = [f"{year}-{m:02d}" for m in range(1, 13) if date(year, m, 1) <= as_of]
    monthly = pl.concat([monthly_points(con, p, as_of).select("unit_code", "unit_name", "unit_type",
                                                               "group", "period", "total")
                         for p in months])  # fmt: skip
    per_unit = monthly.group_by("unit_code", "unit_name", "unit_type", "group").agg(
        pl.col("total").sum().alias("monthly_sum"),
        pl.col("total").mean().alias("monthly_mean"),
        pl.len().alias("months"),
    )
    normalised = "monthly_mean" if s.monthly_normalisation == "mean" else "monthly_sum"
    # A year-end item belongs to the year it is for: its due date's year when given (a January
    # summary of last year is due last year), else the year of its date.
    events = load_events(as_of=as_of).filter(
        pl.col("date").is_not_null() & (pl.coalesce("due", "date").dt.year() == year)
    )
    ends = (
        events.filter(pl.col("type").is_in(list(YEAR_END)))
        .with_columns(
            pl.when(pl.col("type") == "media")
            .then(pl.col("count").cast(pl.Float64))
            .otherwise(pl.lit(float(s.points_per_item)))
            .alias("score")
        )
        .group_by("unit_code", "type")
        .agg(
            pl.when(pl.col("type").first() == "media")
            .then(pl.col("score").sum())
            .otherwise(pl.col("score").max())
        )
        .with_columns(pl.col("type").replace_strict(YEAR_END).alias("item"))
        .pivot(on="item", index="unit_code", values="score")
    )
    for item in YEAR_END.values():
        if item not in ends.columns:
            ends = ends.with_columns(pl.lit(None, dtype=pl.Float64).alias(item))
    out = per_unit.join(ends, on="unit_code", how="left").with_columns(
        pl.col(list(YEAR_END.values())).fill_null(0.0)
    )
    year_end = pl.sum_horizontal(list(YEAR_END.values()))
    out = out.with_columns(
        year_end.alias("year_end"),
        (s.monthly_weight * pl.col(normalised) + (1 - s.monthly_weight) * year_end)
        .round(2)
        .alias("year_total"),
        pl.lit(year).alias("year"),
    )
    return _ranked(out, "monthly_sum")
