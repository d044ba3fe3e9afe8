"""`sgs points` and `sgs feedback`: the scoring and the units' problem lists."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from sgs.cli.common import ISO_DATE, exit_now
from sgs.cli.output import Col, echo_table
from sgs.cli.publish import (
    PUBLISHED_HELP,
    REVISION_HELP,
    refuse_with_published,
    show_published_points,
)
from sgs.cli.usage import command
from sgs.labels import NOT_APPLICABLE, num, zero_report_note


@command()
@click.option("--period", help="月份 YYYY-MM：该月的月度积分（第 1–10 项）与排名。")
@click.option(
    "--year", type=int, help="年度：各月积分之和（排名依据）、年终项目（第 11–13 项）与年度总成绩。"
)
@click.option(
    "--as-of", "as_of", type=ISO_DATE,
    help="计算截至日期：只计接收日期不晚于该日的文件，逾期按此日计算；默认今天。",
)  # fmt: skip
@click.option("--json", "fmt", flag_value="json", help="输出 JSON 数组。")
@click.option(
    "--csv", "fmt", flag_value="csv", help="输出规范 CSV（格式见 docs/policy.md 第 8 节）。"
)
@click.option("--published", is_flag=True, help=PUBLISHED_HELP)
@click.option("--revision", type=click.IntRange(min=1), help=REVISION_HELP)
@click.option(
    "--ranking", is_flag=True,
    help="与 --published 一起使用：显示发布时记录的排名表（月通报的排名表），而不是积分表。",
)  # fmt: skip
def points(
    period: str | None,
    year: int | None,
    as_of: date | None,
    fmt: str | None,
    published: bool,
    revision: int | None,
    ranking: bool,
) -> None:
    """按《通知》的积分细则计算各单位积分并排名（县区与市直部门分别排名）。

    \b
    月度：1 目录编制、2 实施方案、3 双员落实（截止月计分）、4 阶段性工作、5 台账报送、
    6–8 三率×10、9 错误认领、10 信用修复（仅县区）。年度：各月合计排名，年度总成绩 =
    90% × 月度平均 + 10% × 年终项目（11 配合评估、12 宣传报道、13 年度总结）。
    不适用或未到期的项目显示“—”。选择项见 config/settings.toml。
    县区部门的行另列所属县区（其数字已计入所属县区的行）。
    --published：显示已发布的月度积分（sgs publish），JSON 各行另有 revision、published_at、as_of；
    --published --csv 输出发布时计算 sha256 的规范 CSV；加 --ranking 则为排名表的。
    """
    if ranking and not published:
        raise click.UsageError("--ranking 只能与 --published 一起使用")
    if published or revision is not None:
        refuse_with_published(published, revision, as_of=as_of, year=year)
        if period is None:
            raise click.UsageError("--published 需要 --period YYYY-MM")
        table = "ranking" if ranking else "points"
        show_published_points(period, fmt, revision, table, _print_monthly)
    from sgs.errors import EventsError, PeriodError
    from sgs.measure.points import monthly_points, yearly_points
    from sgs.periods import knowledge_day
    from sgs.store import database

    if (period is None) == (year is None):
        raise click.UsageError("请指定 --period YYYY-MM 或 --year YYYY（二者选一）。")
    try:
        as_of = knowledge_day(as_of)
        with database.reader() as con:
            table = (
                monthly_points(con, period, as_of) if period else yearly_points(con, year, as_of)
            )  # type: ignore[arg-type]
    except (PeriodError, EventsError) as exc:
        click.echo(str(exc), err=True)
        exit_now(2)
    if fmt == "json":
        sys.stdout.write(table.write_json() + "\n")
        exit_now(0)
    if fmt == "csv":
        from sgs.cli.publish import write_canonical_csv

        write_canonical_csv(json.loads(table.write_json()))
        exit_now(0)
    if period:
        _print_monthly(table, f"{period} 月度积分（截至 {as_of}）")
    else:
        _print_yearly(table, f"{year} 年度积分（截至 {as_of}）")
    exit_now(0)


def _print_monthly(table, title: str) -> None:
    from sgs.measure.points import ITEM_NAMES, ITEMS

    parents = _parent_names(table)
    columns = [Col("分组", wrap=False), Col("排名", True), Col("单位")]
    columns += [Col("所属县区")] if parents else []
    columns += [Col(f"{i}.{ITEM_NAMES[item]}", True) for i, item in enumerate(ITEMS, start=1)]
    rows = [
        [r["group"], NOT_APPLICABLE if r["rank"] is None else r["rank"], r["unit_name"],
         *([parents.get(r["parent_code"], r["parent_code"] or "")] if parents else []),
         *(num(r[item]) for item in ITEMS), num(r["total"]),
         zero_report_note(r)]
        for r in table.iter_rows(named=True)
    ]  # fmt: skip
    echo_table(
        [*columns, Col("合计", True), Col("备注")], rows,
        f"{title}；“{NOT_APPLICABLE}”表示不适用或未到期",
    )  # fmt: skip


def _parent_names(table) -> dict[str, str]:
    """The counties of the county departments among the rows, by code (none: no 所属县区
    column); rows published before departments had ``parent_code`` have none."""
    if "parent_code" not in table.columns or table["parent_code"].null_count() == table.height:
        return {}
    from sgs.reference.units import load_units

    codes = set(table["parent_code"].drop_nulls().to_list())
    names = dict(load_units().select("code", "name").iter_rows())
    return {code: names.get(code, code) for code in codes}


def _print_yearly(table, title: str) -> None:
    columns = [Col("分组", wrap=False), Col("排名", True), Col("单位"), Col("月度合计", True),
               Col("月度平均", True), Col("年终项目", True), Col("年度总成绩", True)]  # fmt: skip

    def row(r: dict) -> list[object]:
        mean = NOT_APPLICABLE if r["monthly_mean"] is None else f"{r['monthly_mean']:.2f}"
        return [r["group"], r["rank"], r["unit_name"], num(r["monthly_sum"]), mean,
                num(r["year_end"]), num(r["year_total"])]  # fmt: skip

    echo_table(columns, [row(r) for r in table.iter_rows(named=True)], title)


@command()
@click.option("--unit", required=True, help="单位（统一社会信用代码或全称）。")
@click.option("--since", type=ISO_DATE, help="只列出此日期及以后反馈的问题。")
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="输出的 XLSX 反馈清单。"
)
@click.option(
    "--as-of", "as_of", type=ISO_DATE,
    help="截至日期：按该日结束时已收到的文件列出问题，逾期按此日判断；默认今天。",
)  # fmt: skip
def feedback(unit: str, since: date | None, out: Path, as_of: date | None) -> None:
    """生成单位的反馈清单：全部待整改问题（文件、行号、字段、原因、原值、反馈日期、整改期限）。

    身份证号已脱敏；警告列出供参考，不设整改期限。
    """
    from sgs.errors import PeriodError
    from sgs.measure.problems import open_problems
    from sgs.periods import knowledge_day
    from sgs.reference.units import resolve_unit
    from sgs.report.feedback import write_feedback
    from sgs.store import database

    try:
        target = resolve_unit(unit)
        as_of = knowledge_day(as_of)
    except (KeyError, PeriodError) as exc:
        click.echo(str(exc.args[0]), err=True)
        exit_now(2)
    with database.reader() as con:
        problems = open_problems(con, str(target["code"]), since, as_of=as_of)
    write_feedback(out, target, problems, as_of)
    errors = int((problems["severity"] == "error").sum())
    click.echo(
        f"已生成 {target['name']} 的反馈清单：待整改问题 {errors} 处，提示 {problems.height - errors} 处：{out}"
    )
    exit_now(0)
