"""``sgs ingest`` and ``sgs ledger``: the commands that put files into the store."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from sgs.cli.common import KIND_CHOICE, IsoDate, exit_now, shown_path
from sgs.cli.output import Col, echo_table, progress
from sgs.cli.usage import command

STATUS_ZH = {
    "stored": "入库",
    "skipped": "跳过",
    "quarantined": "隔离",
    "ignored": "忽略",
    "error": "错误",
}
IGNORED_MESSAGE = (
    "按文件名忽略（隐藏文件、Office 临时文件、未下载完的文件或说明文件），未读取、未记录"
)


class ReceivedDate(IsoDate):
    """``--received``: a date not after the office's today (docs/policy.md section 4, "No
    future").  Refused as a usage error before anything is read or written: no file can have
    been received on a day still to come, and a year typed wrong would put every record of the
    run into a month nobody measures yet."""

    def convert(self, value, param, ctx):
        from sgs.clock import office_today
        from sgs.intake.landing import future

        day = super().convert(value, param, ctx)
        today = office_today()
        if day > today:
            self.fail(f"接收日期「{day.isoformat()}」{future(today)}", param, ctx)
        return day


RECEIVED_DATE = ReceivedDate()


@command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--unit", help="上报单位（统一社会信用代码或全称）；默认取落地目录 raw/<单位>/<日期>/。"
)
@click.option(
    "--received",
    type=RECEIVED_DATE,
    help="接收日期，不能晚于今天；默认取清单 manifest.json、落地目录日期或文件时间。",
)
@click.option("--kind", type=KIND_CHOICE, help="记录类型；不指定时从表头识别。")
@click.option("--json", "as_json", is_flag=True, help="每个文件输出一个 JSON 对象（一行一个）。")
def ingest(
    paths: tuple[Path, ...],
    unit: str | None,
    received: date | None,
    kind: str | None,
    as_json: bool,
) -> None:
    """校验并入库上报文件（文件或文件夹）。

    \b
    每个文件一个事务：合规与不合规的记录都入库（不合规记录附问题清单），无法读取、被拒收或
    清单 manifest.json 有误的文件整体隔离并记录原因；一个文件出问题不影响其他文件；同一文件
    重复入库不会产生任何变化。隐藏文件、~$ 临时文件、.tmp/.part 等按文件名忽略，并在汇总中列出。
    退出码：0 全部处理（含不合规记录）；1 有文件被隔离；2 有文件无法处理（如找不到文件、
    无法确定单位、数据库被占用），其余文件照常处理。
    """
    from sgs.intake.landing import survey
    from sgs.store.batches import IngestResult
    from sgs.store.ingest import ingest_files

    found = survey(list(paths))
    results: list[IngestResult] = []
    # Several files take a while: a progress bar on a terminal's stderr, never in --json mode.
    with progress(enabled=not as_json and len(found.files) > 1) as shown:

        def report(result: IngestResult) -> None:
            results.append(result)
            if as_json:
                click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
            elif result.status == "error":
                shown.echo(f"[错误] {shown_path(result.path)}：{result.message}", err=True)
            else:
                line = f"[{STATUS_ZH[result.status]}] {shown_path(result.path)}：{result.message}"
                shown.echo(line)

        for path in found.missing:
            message = f"找不到文件或文件夹：{shown_path(path)}"
            report(IngestResult(str(path), "error", message, reason="not_found"))
        shown.start("入库", len(found.files))
        outcomes = ingest_files(found.files, unit=unit, received=received, kind=kind)  # type: ignore[arg-type]
        for done, (path, outcome) in enumerate(outcomes):
            shown.update(path.name, done=done)
            report(_result_of(path, outcome))
        shown.stop()
        for path in found.ignored:
            report(IngestResult(str(path), "ignored", IGNORED_MESSAGE, reason="ignored_name"))
    if not as_json:
        _summary(results)
    statuses = {r.status for r in results}
    exit_now(2 if "error" in statuses else 1 if "quarantined" in statuses else 0)


def _result_of(path: Path, outcome):
    """One file's outcome as a result; whatever stopped it is its result, never the run's end."""
    from sgs.errors import LandingError, SgsError
    from sgs.store.batches import IngestResult

    if isinstance(outcome, IngestResult):
        return outcome
    if isinstance(outcome, LandingError):
        return IngestResult(
            str(path), "error", str(outcome), reason=getattr(outcome, "code", "usage")
        )
    if isinstance(outcome, SgsError):  # the store busy past the timeout, a settings file wrong, …
        return IngestResult(str(path), "error", str(outcome), reason=type(outcome).__name__)
    from sgs.store.lake import mask  # a lake's conninfo may be in a database error's text

    message = (
        f"处理时发生意外错误（{type(outcome).__name__}: {mask(str(outcome))}），文件未入库，"
        "请联系维护人员"
    )
    return IngestResult(str(path), "error", message, reason="internal")


def _summary(results: list) -> None:
    """The run in a few lines: counts, then what was quarantined and what was left by name."""
    count = {s: sum(r.status == s for r in results) for s in STATUS_ZH}
    line = (
        f"共 {count['stored'] + count['skipped'] + count['quarantined'] + count['error']} 个文件："
        f"入库 {count['stored']}，跳过 {count['skipped']}，隔离 {count['quarantined']}"
    )
    if count["error"]:
        line += f"，无法处理 {count['error']}"
    click.echo(line + f"；按文件名忽略 {count['ignored']} 个。")
    from sgs.store.batches import is_configuration

    quarantined = [r for r in results if r.status == "quarantined"]
    if quarantined:
        rows = [(shown_path(r.path), "配置问题" if is_configuration(r.reason) else "内容问题",
                 r.reason) for r in quarantined]  # fmt: skip
        echo_table([Col("文件"), Col("问题类型"), Col("原因代码")], rows,
                   "隔离的文件（配置问题改正后会重新处理；内容问题需单位重新上报）：")  # fmt: skip
    ignored = [r for r in results if r.status == "ignored"]
    if ignored:
        click.echo("按文件名忽略的文件：")
        for r in ignored:
            click.echo(f"  {shown_path(r.path)}")


@command()
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--unit", required=True, help="报送单位（统一社会信用代码或全称）。")
@click.option("--period", required=True, help="台账所属月份 YYYY-MM（决定作出的月份）。")
@click.option(
    "--received",
    type=RECEIVED_DATE,
    help="收到台账的日期，不能晚于今天；默认取落地目录日期、文件时间或今天。",
)
@click.option("--zero", is_flag=True, help="登记零增量报告（该月没有作出决定），此时不需要文件。")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 对象。")
def ledger(
    file: Path | None, unit: str, period: str, received: date | None, zero: bool, as_json: bool
) -> None:
    """登记单位的月度台账（或零增量报告），用于计算完整率。

    \b
    台账列：序号、类别（行政许可/行政处罚）、决定文书号、行政相对人名称、行政相对人代码、
    决定日期；列顺序不限，可有标题行，CSV 或 XLSX。空白模板：sgs template ledger --out 台账.xlsx
    退出码：0 已登记（或此前已登记）；1 台账无法读取；2 参数错误。
    """
    from sgs.errors import FileRefused, LandingError, PeriodError
    from sgs.store.ingest import ingest_ledger

    if zero == (file is not None):
        raise click.UsageError("请指定台账文件，或使用 --zero 登记零增量报告（二者选一）。")
    if file is not None and not file.is_file():
        click.echo(f"找不到台账文件：{file}", err=True)
        exit_now(2)
    try:
        result = ingest_ledger(file, unit=unit, period=period, received=received, zero=zero)
    except (KeyError, PeriodError) as exc:
        click.echo(str(exc.args[0]), err=True)
        exit_now(2)
    except FileRefused as exc:
        click.echo(f"无法登记：{exc.message}", err=True)
        exit_now(1)
    except LandingError as exc:  # e.g. a broken manifest.json next to the file
        click.echo(f"无法登记：{exc}", err=True)
        exit_now(1)
    if as_json:
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        click.echo(f"[{STATUS_ZH[result.status]}] {result.message}")
    exit_now(0)
