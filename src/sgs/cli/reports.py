"""`sgs report`: the monthly bulletin (月通报) as a workbook, a PDF or the summary as CSV."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from sgs.cli.common import ISO_DATE, exit_now
from sgs.cli.publish import REVISION_HELP, refuse_with_published, write_published_bulletin
from sgs.cli.usage import command


@command()
@click.option("--period", required=True, help="通报月份 YYYY-MM。")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="输出文件：.xlsx 为完整通报（工作簿），.pdf 为完整通报的 A4 打印版，"
    ".csv 为汇总表（UTF-8 带 BOM）；默认 <数据目录>/curated/bulletins/月通报_<月份>.xlsx。",
)
@click.option(
    "--as-of", "as_of", type=ISO_DATE,
    help="截至日期：三率、积分和明细只计接收日期不晚于该日的文件，逾期按此日计算；默认今天。",
)  # fmt: skip
@click.option(
    "--published", is_flag=True,
    help="写出已发布的月通报（sgs publish 存下的工作簿，逐字节相同），默认最新一版；"
    "默认文件 <数据目录>/curated/bulletins/月通报_<月份>_第<N>版.xlsx。",
)  # fmt: skip
@click.option("--revision", type=click.IntRange(min=1), help=REVISION_HELP)
def report(
    period: str, out: Path | None, as_of: date | None, published: bool, revision: int | None
) -> None:
    """生成月通报：各单位三率、月度积分与排名，以及明细和图表。

    \b
    依次为：封面（标题、月份、生成时间、积分计算截至日期、阅读说明）、汇总（县区与市直部门
    分别排名，附各单位三率柱形图）、行政许可、行政处罚、趋势（全市各月三率折线图）、
    迟报明细、不合规明细、应报未报、台账未列；该月已发布（sgs publish）且其后数字有变化时，
    最后附「修订」表（与最新一版相比有变化的数字及相关文件与记录）。工作簿打开时显示封面。
    PDF 版内容与工作簿相同：A4 纸，宽表横向，表头逐页重复，页脚为页码，图表为图片，
    嵌入中文字体；明细表每个单位最多列 20 条（注明未列条数），完整清单见工作簿。
    不适用的比率和积分项显示“—”，不按 0 计；自然人身份证号脱敏（保留前 6 位和后 4 位）；
    以 = + - @ 开头的文本不会被表格软件当作公式执行。
    退出码：0 已生成；2 参数错误（月份格式、文件类型）、事件文件有误，或本机缺少生成 PDF
    所需的系统组件（原因输出到标准错误）；--published 时该月尚未发布。
    """
    if published or revision is not None:
        refuse_with_published(published, revision, as_of=as_of)
        write_published_bulletin(period, out, revision)
    from sgs.errors import BulletinError, EventsError, PeriodError
    from sgs.measure.rates import period_bounds
    from sgs.report.bulletin import output_format, write_bulletin

    try:
        period_bounds(period)
        if out is not None:
            output_format(out)
        path = write_bulletin(period, out, as_of=as_of)
    except (PeriodError, BulletinError, EventsError) as exc:
        click.echo(str(exc), err=True)
        exit_now(2)
    what = {".csv": "月通报汇总表（CSV）", ".pdf": "月通报（PDF）"}.get(
        path.suffix.lower(), "月通报"
    )
    click.echo(f"{period} {what}已生成：{path}")
    exit_now(0)
