"""The ``sgs`` command line.  Its help text is the user documentation of each command.

Heavy libraries (polars, pandera, duckdb, prefect) are imported inside the commands, so that
``sgs --help`` and small jobs start quickly.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from sgs.cli.common import ISO_DATE, KIND_CHOICE, KIND_OR_LEDGER
from sgs.cli.common import exit_now as _exit_now
from sgs.cli.usage import SgsGroup as ChineseGroup

EXIT_OK, EXIT_ERRORS, EXIT_REFUSED = 0, 1, 2


class SgsGroup(ChineseGroup):
    """Help and usage errors in Chinese (:mod:`sgs.cli.usage`); a setting sgs cannot use (a
    misspelt time zone, an unknown source), a units registry it cannot use (a parent of a
    parent) or a store it cannot open (busy past the timeout, a lake not initialised) stops any
    command with its Chinese message and exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from sgs.errors import SettingsError, StoreBusy, StoreUnavailable, UnitsError

        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            click.echo(f"设置有误：{exc}", err=True)
            _exit_now(EXIT_REFUSED)
        except UnitsError as exc:
            click.echo(str(exc), err=True)
            _exit_now(EXIT_REFUSED)
        except (StoreBusy, StoreUnavailable) as exc:
            click.echo(f"无法使用数据库：{exc}", err=True)
            _exit_now(EXIT_REFUSED)


@click.group(cls=SgsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sgs", message="%(prog)s %(version)s", help="显示版本号并退出。")
def main() -> None:
    """双公示质检：行政许可、行政处罚数据的校验、入库、考核与通报。"""


@main.command()
@click.argument("kind", type=KIND_CHOICE)
@click.argument("n", type=click.IntRange(min=0))
@click.option(
    "--out", type=click.Path(path_type=Path), required=True, help="输出文件（.csv/.xlsx/.xls）。"
)
@click.option("--seed", default=0, show_default=True, help="随机种子；相同种子生成相同数据。")
@click.option(
    "--defects", "defect_rate", default=0.0, show_default=True, help="含缺陷记录的比例（0–1）。"
)
@click.option("--unit", help="上报单位（统一社会信用代码或全称）；默认分散到各单位。")
@click.option(
    "--headers",
    type=click.Choice(["chinese", "code"]),
    default="chinese",
    show_default=True,
    help="表头写法：chinese 为标准中文列名，code 为平台字段代码（如 XK_XDR_MC）。",
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
    default="utf-8",
    show_default=True,
    help="CSV 编码。",
)
@click.option("--title", help="表头上方的标题行。")
@click.option(
    "--start", type=ISO_DATE, default="2026-01-01", show_default=True, help="最早决定日期。"
)
@click.option(
    "--end", type=ISO_DATE, default="2026-10-31", show_default=True, help="最晚决定日期。"
)
@click.option("--received", type=ISO_DATE, help="上报日期（默认等于 --end）。")
@click.option("--defects-out", type=click.Path(path_type=Path), help="另存注入缺陷的清单（CSV）。")
def sample(
    kind: str,
    n: int,
    out: Path,
    seed: int,
    defect_rate: float,
    unit: str | None,
    headers: str,
    encoding: str,
    title: str | None,
    start: date,
    end: date,
    received: date | None,
    defects_out: Path | None,
) -> None:
    """生成 N 条逼真的样例记录（校验码正确、长治市单位），可按比例注入缺陷。"""
    from sgs.samples.command import main_sample

    result = main_sample(
        kind,  # type: ignore[arg-type]
        n,
        out,
        seed=seed,
        defect_rate=defect_rate,
        unit=unit,
        headers=headers,
        encoding=encoding,
        title=title,
        start=start,
        end=end,
        received=received,
        defects_out=defects_out,
    )
    click.echo(
        f"已生成 {result.frame.height} 条记录（其中注入缺陷 {result.defects.height} 处）：{out}"
    )


@main.command()
@click.option(
    "--markdown",
    is_flag=True,
    help="输出 Markdown 字段表与规则表（docs/standard.md 的生成段落来自同一目录）。",
)
@click.option("--kind", type=KIND_CHOICE, help="只列出一类记录。")
@click.option(
    "--update-docs",
    is_flag=True,
    help="按 schemas/standard.toml 重写 docs/standard.md 中的生成段落（其余文字不变）。",
)
def standard(markdown: bool, kind: str | None, update_docs: bool) -> None:
    """列出数据标准的全部字段、必填要求与校验规则。"""
    from sgs.reference.catalogue import KINDS
    from sgs.report.standard_docs import (
        STANDARD_DOC,
        markdown_table,
        standard_markdown,
        write_standard_doc,
    )

    if update_docs:
        changed = write_standard_doc()
        click.echo(f"{'已更新' if changed else '无需更新'}：{STANDARD_DOC}")
        return
    if markdown and kind is None:
        click.echo(standard_markdown(), nl=False)
        return
    if markdown:
        click.echo(markdown_table(kind))  # type: ignore[arg-type]
        click.echo()
        return
    _print_standard([kind] if kind else list(KINDS), rules=kind is None)


def _print_standard(kinds: list[str], rules: bool) -> None:
    """The field tables (and the rule table) as aligned text, for a person at a terminal."""
    from sgs.cli.output import Col, echo_table
    from sgs.reference.catalogue import load_catalogue
    from sgs.report.standard_docs import TYPE_ZH, requirement, rules_text

    cat = load_catalogue()
    columns = [Col("#", True), Col("字段"), Col("代码", wrap=False), Col("类型"), Col("是否必填"),
               Col("规则")]  # fmt: skip
    for k in kinds:
        spec = cat.kind(k)
        rows = [
            (
                f.position,
                f.name,
                f.code,
                TYPE_ZH[f.type],
                requirement(f),
                rules_text(f) + (f"（待核实：{f.unverified}）" if f.unverified else ""),
            )
            for f in spec.fields
        ]
        echo_table(columns, rows, f"{spec.name}（{spec.prefix}，{len(spec.fields)} 个字段）")
        click.echo()
    if rules:
        levels = {"error": "错误", "warning": "警告"}
        rows = [(code, r.name, levels[r.severity], r.message)
                for code, r in {**cat.rules, **cat.ledger_rules}.items()]  # fmt: skip
        echo_table([Col("规则代码", wrap=False), Col("规则"), Col("级别", wrap=False),
                    Col("提示")], rows, "规则（错误计入合规率，警告只提示）")  # fmt: skip


@main.command()
@click.argument("kind", type=KIND_OR_LEDGER)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="输出的 XLSX 模板。")
def template(kind: str, out: Path) -> None:
    """生成空白模板：permit/penalty 上报模板（表头按标准顺序），ledger 月度台账模板；均附填写说明。"""
    from sgs.report.standard_docs import write_template

    write_template(kind, out)  # type: ignore[arg-type]
    click.echo(f"模板已生成：{out}")


@main.group()
def workdays() -> None:
    """中国大陆工作日：周一至周五，去掉法定节假日，加上调休上班日。

    \b
    chinesecalendar 已收录的年份用该库；其他年份用节假日目录（$SGS_HOLIDAYS_DIR，
    默认 config/holidays）中按国务院通知填写的 <年份>.toml，格式见该目录的 README.md。
    某年两者都没有时报错（退出码 2），不做猜测。
    自每年 calendar_warning_from 设置的日期（默认 11-01）起，若日历尚未覆盖下一年，
    在标准错误输出提醒应填写的文件（退出码不变）。
    """


def _horizon_warning() -> dict | None:
    """Tell the office on stderr that next year's holidays file is missing, before deadlines
    become undecided (:mod:`sgs.reference.horizon`); the JSON form for ``--json``.  Nothing when
    a holidays file is malformed: the command reports that itself."""
    from sgs.clock import office_today
    from sgs.errors import HolidayFileError
    from sgs.reference.horizon import horizon_warning

    try:
        found = horizon_warning(office_today())
    except HolidayFileError:
        return None
    if found is None:
        return None
    click.echo(f"提醒：{found.message}", err=True)
    return found.as_json()


@workdays.command("add")
@click.argument("start", metavar="DATE", type=ISO_DATE)
@click.argument("n", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def workdays_add(start: date, n: int, as_json: bool) -> None:
    """输出 DATE 之后第 N 个工作日（DATE 本身不计），如 2022-01-28 之后第 7 个是 2022-02-11。

    \b
    退出码：0 成功；2 日期或结果所在的年份没有节假日数据，或节假日文件有误
    （原因输出到标准错误）。
    """
    import json

    from sgs.errors import CalendarGap, HolidayFileError
    from sgs.reference.calendar import add_workdays

    try:
        result = add_workdays(start, n)
    except (CalendarGap, HolidayFileError) as exc:
        click.echo(f"无法计算工作日：{exc}", err=True)
        _horizon_warning()
        sys.exit(EXIT_REFUSED)
    horizon = _horizon_warning()
    if as_json:
        payload = {
            "date": start.isoformat(),
            "n": n,
            "result": result.isoformat(),
            "horizon_warning": horizon,
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        click.echo(result.isoformat())


@workdays.command("is")
@click.argument("day", metavar="DATE", type=ISO_DATE)
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def workdays_is(day: date, as_json: bool) -> None:
    """DATE 是否工作日，以及属于哪一类（工作日、周末、法定节假日、调休上班）。

    \b
    退出码：0 是工作日；1 不是工作日；2 该年份没有节假日数据，或节假日文件有误
    （原因输出到标准错误）。
    """
    import json

    from sgs.errors import CalendarGap, HolidayFileError
    from sgs.reference.calendar import describe

    try:
        info = describe(day)
    except (CalendarGap, HolidayFileError) as exc:
        click.echo(f"无法判断是否工作日：{exc}", err=True)
        _horizon_warning()
        sys.exit(EXIT_REFUSED)
    horizon = _horizon_warning()
    if as_json:
        payload = {"date": day.isoformat(), **info, "horizon_warning": horizon}
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        kind, holiday = info["kind"], info["holiday"]
        detail = f"{kind}：{holiday}" if kind == "法定节假日" and holiday else kind
        if info["workday"]:
            suffix = "" if kind == "工作日" else f"（{detail}）"
            click.echo(f"{day.isoformat()} 是工作日{suffix}")
        else:
            click.echo(f"{day.isoformat()} 不是工作日（{detail}）")
    sys.exit(0 if info["workday"] else 1)


COMMAND_MODULES = (
    "sgs.cli.validate",
    "sgs.cli.store",
    "sgs.cli.rates",
    "sgs.cli.points",
    "sgs.cli.reports",
    "sgs.cli.docs",
    "sgs.cli.publish",
    "sgs.cli.web",
    "sgs.cli.users",
    "sgs.cli.store_admin",
)


def _register() -> None:
    """Add the commands defined in the command modules (each keeps its heavy imports lazy)."""
    import importlib

    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        found = [v for v in vars(module).values()
                 if isinstance(v, click.Command) and v.callback.__module__ == name]  # fmt: skip
        # A group's own commands (`sgs users add`) are not top-level commands.
        nested = {id(c) for g in found if isinstance(g, click.Group) for c in g.commands.values()}
        for value in found:
            if id(value) not in nested:
                main.add_command(value)


_register()

if __name__ == "__main__":  # pragma: no cover
    main()
