"""``sgs rates``: a month's three rates per unit and kind, and the records behind them.

``--json`` and ``--csv`` are interfaces (column codes, raw values) and stay as they are; without
them the command prints aligned tables with Chinese headers and unit names, "—" where a rate
does not apply, and the drill-downs (``--details``) with the field and rule of each problem in
Chinese beside the rule codes.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import TYPE_CHECKING

import click

from sgs.cli.common import ISO_DATE, KIND_CHOICE, exit_now, rows_with_figures
from sgs.cli.output import Col, echo_table
from sgs.cli.publish import (
    PUBLISHED_HELP,
    REVISION_HELP,
    refuse_with_published,
    show_published_rates,
)
from sgs.cli.usage import command
from sgs.labels import (
    NOT_APPLICABLE,
    kind_name,
    kind_names,
    pct,
    problem_names,
    problem_rules,
    zero_report_note,
)  # fmt: skip

if TYPE_CHECKING:
    import polars as pl

RATE_COLUMNS = [
    ("unit_name", Col("单位")),
    ("kind", Col("类别", wrap=False)),
    ("uploaded", Col("上报", True)),
    ("timely", Col("及时", True)),
    ("timeliness_rate", Col("及时率", True)),
    ("compliant", Col("合规", True)),
    ("compliance_rate", Col("合规率", True)),
    ("ledger_entries", Col("台账", True)),
    ("ledger_matched", Col("已报", True)),
    ("completeness_rate", Col("完整率", True)),
]
DETAIL_TITLES = {
    "late": "迟报记录（晚于上报期限）",
    "failing": "不合规记录",
    "missing": "台账中应报未报的决定",
    "unlisted": "已上报但台账未列的决定",
}
_RECORD = [
    ("unit_name", Col("单位")),
    ("kind_zh", Col("类别", wrap=False)),
    ("file_label", Col("上报文件")),
    ("row", Col("行号", True)),
    ("doc_number", Col("决定文书号")),
    ("subject_name", Col("行政相对人名称")),
    ("decision_date", Col("决定日期", wrap=False)),
    ("received_date", Col("上报日期", wrap=False)),
]
DETAIL_COLUMNS = {
    "late": [*_RECORD, ("deadline", Col("上报期限", wrap=False)), ("note", Col("说明"))],
    "failing": [
        *_RECORD,
        ("errors", Col("错误数", True)),
        ("problems_zh", Col("问题（字段：规则）")),
        ("rule_codes", Col("规则代码", wrap=False)),
    ],
    "missing": [
        ("unit_name", Col("单位")),
        ("kind_zh", Col("类别", wrap=False)),
        ("doc_number", Col("决定文书号")),
        ("subject_name", Col("行政相对人名称")),
        ("subject_code", Col("行政相对人代码")),
        ("decision_date", Col("决定日期", wrap=False)),
        ("file_label", Col("台账文件")),
        ("row", Col("台账行号", True)),
        ("ledger_received", Col("台账接收日期", wrap=False)),
        ("reason", Col("原因", wrap=False)),
    ],
    "unlisted": [*_RECORD],
}


@command()
@click.option("--period", required=True, help="月份 YYYY-MM。")
@click.option("--unit", help="只看一个单位（统一社会信用代码或全称）。")
@click.option("--kind", type=KIND_CHOICE, help="只看一类记录。")
@click.option("--json", "fmt", flag_value="json", help="输出 JSON 数组。")
@click.option("--csv", "fmt", flag_value="csv", help="输出 CSV。")
@click.option(
    "--details",
    type=click.Choice(["late", "failing", "missing", "unlisted"]),
    help="明细：late 迟报记录，failing 不合规记录，missing 台账中应报未报的条目，"
    "unlisted 已上报但台账未列的决定（台账未列）。",
)
@click.option(
    "--as-of", "as_of", type=ISO_DATE,
    help="按截至该日结束时已收到的数据计算（接收日期不晚于该日）；默认今天。",
)  # fmt: skip
@click.option(
    "--nonzero", is_flag=True,
    help="只列出该月有数据的行（上报条数或台账条数不为 0）；不用于 --details。",
)  # fmt: skip
@click.option("--published", is_flag=True, help=PUBLISHED_HELP)
@click.option("--revision", type=click.IntRange(min=1), help=REVISION_HELP)
def rates(
    period: str,
    unit: str | None,
    kind: str | None,
    fmt: str | None,
    details: str | None,
    as_of: date | None,
    nonzero: bool,
    published: bool,
    revision: int | None,
) -> None:
    """按单位、类别计算某月的及时率、合规率、完整率。

    \b
    及时率、合规率按上报月份统计（同一记录的更正不重复计算，以首次上报的结论为准）；
    完整率按台账所属月份统计。分母为 0 时比率为空（显示“—”），不是 0%。
    日历未覆盖的日期使该记录的及时性无法判定：不计入及时率，并标记 calendar_gap。
    --as-of 日期：按该日结束时已收到的文件计算（接收日期不晚于该日），可复算过去任一日的数字。
    零增量报告与数据核对：该月有决定日期在该月的记录即为“零报告不实”（zero_report_contradicted）。
    --published：显示已发布的三率（sgs publish），JSON 各行另有 revision、published_at、as_of；
    --csv 为发布时计算 sha256 的规范 CSV。
    --nonzero：不列出上报条数和台账条数均为 0 的行（--json、--csv 同样），标题注明略去几行。
    """
    if nonzero and details:
        raise click.UsageError("--nonzero 只用于三率表，不能与 --details 同时使用")
    if published or revision is not None:
        refuse_with_published(published, revision, as_of=as_of, details=details)
        show_published_rates(period, unit, kind, fmt, revision, print_rates, nonzero)

    from sgs.errors import PeriodError
    from sgs.measure.rates import details as detail_rows
    from sgs.measure.rates import rates as rate_rows
    from sgs.reference.units import resolve_unit
    from sgs.report.masking import mask_subject_codes
    from sgs.store import database

    try:
        unit_code = str(resolve_unit(unit)["code"]) if unit else None
        with database.reader() as con:
            if details:
                frame = detail_rows(con, period, details, unit_code, kind, as_of=as_of)
            else:
                frame = rate_rows(con, period, unit_code, kind, as_of=as_of)
    except (KeyError, PeriodError) as exc:
        click.echo(str(exc.args[0]), err=True)
        exit_now(2)
    if "subject_code" in frame.columns:
        # A ledger does not say whose a code is: the bulletin's rule (credit codes shown,
        # anything that may be a person's masked), so both lists show the same entry alike.
        frame = mask_subject_codes(frame)
    listed = rows_with_figures(frame) if nonzero else frame
    omitted, frame = frame.height - listed.height, listed
    if fmt == "json":
        sys.stdout.write(frame.write_json() + "\n")
    elif fmt == "csv":
        from sgs.report.xlsx import neutralised

        sys.stdout.write(neutralised(frame).write_csv())
    elif details:
        print_details(period, details, frame)
    else:
        print_rates(period, frame, omitted)
    exit_now(0)


def _note(row: dict) -> str:
    """What a reader needs to trust a row: no ledger yet, a zero report, dates not covered."""
    notes = []
    if contradicted := zero_report_note(row):
        notes.append(contradicted)
    elif row["zero_report"]:
        notes.append("零增量报告")
    elif row["ledger_received"] is None:
        notes.append("台账未报")
    if row["calendar_gap"]:
        notes.append(f"日历未覆盖部分日期，{row['timeliness_undecided']} 条及时性未判定")
    return "；".join(notes)


def print_rates(period: str, frame: pl.DataFrame, omitted: int = 0) -> None:
    """The month's table; ``omitted`` rows left out by ``--nonzero`` are counted in its title,
    so that a short table is not taken for a short registry."""
    rows = []
    for r in frame.iter_rows(named=True):
        cells = [
            pct(r[c]) if c.endswith("_rate") else kind_name(r[c]) if c == "kind" else r[c]
            for c, _ in RATE_COLUMNS
        ]
        rows.append([*cells, _note(r)])
    columns = [col for _, col in RATE_COLUMNS] + [Col("备注")]
    left = f"，另有 {omitted} 行上报和台账均为 0，未列出" if omitted else ""
    echo_table(
        columns, rows,
        f"{period} 三率（{frame.height} 行{left}；“{NOT_APPLICABLE}”表示分母为 0、不适用）",
    )  # fmt: skip


def print_details(period: str, which: str, frame: pl.DataFrame) -> None:
    """A drill-down as a table: unit names, kinds in Chinese, files with their sheet, each
    record's problems named in Chinese beside the rule codes, ID numbers masked."""
    import polars as pl

    from sgs.reference.units import load_units
    from sgs.report.masking import mask_ids_in_text

    registry = load_units()
    units = registry.select(pl.col("code").alias("unit_code"), pl.col("name").alias("unit_name"))
    parent_of = registry.select(
        pl.col("code").alias("unit_code"), pl.col("parent").alias("parent_code")
    )
    frame = frame.join(parent_of, on="unit_code", how="left", maintain_order="left")
    shown = frame.join(units, on="unit_code", how="left", maintain_order="left").with_columns(
        pl.col("unit_name").fill_null(pl.col("unit_code")),
        pl.col("kind").replace_strict(kind_names(), default="未识别").alias("kind_zh"),
        pl.when(pl.col("sheet").is_not_null())
        .then(pl.format("{}（工作表「{}」）", "file_name", "sheet"))
        .otherwise(pl.col("file_name"))
        .alias("file_label"),
    )
    if which == "failing":
        problems = pl.col("problems")
        shown = shown.with_columns(
            problems.map_elements(problem_names, return_dtype=pl.String).alias("problems_zh"),
            problems.map_elements(problem_rules, return_dtype=pl.String).alias("rule_codes"),
        )
    columns = DETAIL_COLUMNS[which]
    if "parent_code" in shown.columns and shown["parent_code"].is_not_null().any():
        # a county's department: its county beside it (the drill-down per department)
        parents = units.rename({"unit_code": "parent_code", "unit_name": "parent_name"})
        shown = shown.join(parents, on="parent_code", how="left", maintain_order="left")
        columns = [columns[0], ("parent_name", Col("所属县区")), *columns[1:]]
    shown = mask_ids_in_text(shown.select([c for c, _ in columns]))
    echo_table([col for _, col in columns], shown.iter_rows(),
               f"{period} {DETAIL_TITLES[which]}：{frame.height} 条")  # fmt: skip
