"""The ``sgs`` command line.  Its help text is the user documentation of each command.

Heavy libraries (polars, pandera, duckdb, prefect) are imported inside the commands, so that
``sgs --help`` and small jobs start quickly.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

KIND_CHOICE = click.Choice(["permit", "penalty"])

EXIT_OK, EXIT_ERRORS, EXIT_REFUSED = 0, 1, 2


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期应为 YYYY-MM-DD 格式：{value!r}", param, ctx)


ISO_DATE = IsoDate()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sgs")
def main() -> None:
    """双公示质检：行政许可、行政处罚数据的校验、入库、考核与通报。"""


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--kind", type=KIND_CHOICE, help="记录类型；不指定时从表头识别。")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
@click.option(
    "--out", type=click.Path(path_type=Path), help="另存问题清单为 XLSX（身份证号已脱敏）。"
)
@click.option(
    "--received",
    type=ISO_DATE,
    help="上报（接收）日期，用于“决定日期不晚于上报日期”规则；默认今天。",
)
@click.option("--limit", default=20, show_default=True, help="摘要中列出的问题条数。")
def validate(
    file: Path,
    kind: str | None,
    as_json: bool,
    out: Path | None,
    received: date | None,
    limit: int,
) -> None:
    """逐条、逐字段按数据标准校验一个上报文件（CSV/XLSX/XLS）。

    \b
    退出码：0 全部通过（可有警告）；1 有记录存在错误；2 文件无法校验
    （无法读取、格式版本被拒收、缺少必需列），原因输出到标准错误。
    """
    from sgs.readers import FileRefused
    from sgs.validation import validate_file
    from sgs.validation_report import print_json, print_refusal_json, print_summary, write_feedback

    try:
        result = validate_file(file, kind, received)  # type: ignore[arg-type]
    except FileRefused as exc:
        click.echo(f"无法校验：{exc.message}", err=True)
        if as_json:
            print_refusal_json(file, kind, exc)
        sys.exit(EXIT_REFUSED)
    if out is not None:
        write_feedback(result, out)
    if as_json:
        print_json(file, result)
    else:
        print_summary(file, result, limit)
        if out is not None:
            click.echo(f"问题清单已保存：{out}")
    sys.exit(EXIT_OK if result.ok else EXIT_ERRORS)


if __name__ == "__main__":  # pragma: no cover
    main()
