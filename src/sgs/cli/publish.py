"""``sgs publish`` and the ``--published`` views of ``sgs rates``, ``points`` and ``report``.

Publication keeps a month's figures as the office circulated them (:mod:`sgs.report.publication`,
docs/policy.md section 8).  The views print what was stored, never a recomputation: that is the
point of them when a unit disputes its rank.  So ``--published`` refuses the options that ask
for a computation (``--as-of``, ``--details``, ``--year``) with a usage error, and a month never
published is exit 2 with 「YYYY-MM 尚未发布」.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgs.cli.common import ISO_DATE, exit_now
from sgs.cli.usage import command

if TYPE_CHECKING:
    import polars as pl

PUBLISHED_HELP = "显示已发布的数字（默认最新一版），而不是重新计算。"
REVISION_HELP = "与 --published 一起使用：显示第 N 版。"


@command()
@click.option("--period", required=True, help="发布的月份 YYYY-MM。")
@click.option(
    "--as-of", "as_of", type=ISO_DATE,
    help="按截至该日结束时已收到的文件计算后发布（接收日期不晚于该日）；默认今天。",
)  # fmt: skip
@click.option("--by", "by", metavar="姓名", help="发布人；默认本机的登录名。")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象。")
def publish(period: str, as_of: date | None, by: str | None, as_json: bool) -> None:
    """发布某月的三率、积分、排名和月通报：存入数据库，作为该月的新一版。

    \b
    再次发布：同一月份再次发布为第 N+1 版，以前各版照常可查。
    查看：sgs rates|points --period 月份 --published [--revision N] [--json|--csv]。
    月通报：sgs report --period 月份 --published [--revision N] --out 文件.xlsx（与发布时逐字节相同）。
    核对：每张表另记其规范 CSV 的 sha256（格式见 docs/policy.md 第 8 节），即以下命令输出的字节：
    sgs rates|points --period 月份 --published --csv；排名表：sgs points --period 月份 --published --ranking --csv。
    修订：发布之后再生成的月通报附「修订」表，列出与最新一版相比有变化的数字及相关文件与记录。
    退出码：0 已发布；2 月份或截至日期有误、该月截至该日尚未结束、事件文件有误（原因输出到标准错误）。
    """
    from sgs.errors import BulletinError, EventsError, PeriodError
    from sgs.report.publishing import publish as record

    try:
        done = record(period, as_of=as_of, by=by)
    except (PeriodError, EventsError, BulletinError) as exc:
        click.echo(str(exc), err=True)
        exit_now(2)
    if as_json:
        click.echo(json.dumps(done.as_json(), ensure_ascii=False))
        exit_now(0)
    p, facts = done.publication, done.as_json()
    click.echo(
        f"已发布 {period} 第 {p.revision} 版：发布于 {p.published_at:%Y-%m-%d %H:%M:%S}，"
        f"截至 {p.as_of}，发布人 {p.by}。"
    )
    for name, label in (("rates", "三率"), ("points", "积分"), ("ranking", "排名")):
        click.echo(f"  {label}  {done.rows[name]} 行  sha256 {facts[f'{name}_sha256']}")
    click.echo(f"  月通报  XLSX {len(done.bulletin)} 字节  sha256 {facts['bulletin_sha256']}")
    click.echo(
        f"查看：sgs rates --period {period} --published；取出月通报：sgs report --period "
        f"{period} --published --revision {p.revision} --out 文件.xlsx"
    )
    exit_now(0)


# ----------------------------------------------------------------------------- the views


def refuse_with_published(published: bool, revision: int | None, **given: object) -> None:
    """Usage errors: ``--revision`` without ``--published``, and ``--published`` with an option
    that asks for a computation (the published figures are never recomputed)."""
    if revision is not None and not published:
        raise click.UsageError("--revision 只能与 --published 一起使用")
    if not published:
        return
    for option, value in given.items():
        if value:
            name = "--" + option.replace("_", "-")
            raise click.UsageError(
                f"--published 不能与 {name} 同时使用：已发布的数字按发布时的截至日期保存，不再重新计算"
            )


def _published(period: str, table: str, revision: int | None):
    """The revision and its rows of ``table``; exit 2 with the reason when there are none."""
    from sgs.errors import PeriodError, PublicationError
    from sgs.periods import period_bounds
    from sgs.report.publication import find, published_rows
    from sgs.store import database

    try:
        period_bounds(period)
        with database.reader() as con:
            p = find(con, period, revision)
            return p, published_rows(con, p, table)
    except (PeriodError, PublicationError) as exc:
        click.echo(str(exc), err=True)
        exit_now(2)
        raise  # not reached


def write_canonical_csv(rows: list[dict]) -> None:
    """The canonical CSV of the rows (:func:`sgs.report.publication.canonical_csv`), as bytes
    on stdout: what publication hashes, so ``sha256sum`` of the output checks a stored hash."""
    from sgs.report.publication import canonical_csv

    sys.stdout.flush()
    sys.stdout.buffer.write(canonical_csv(rows))
    sys.stdout.buffer.flush()


def _print_rows(p, rows: list[dict], fmt: str | None) -> bool:
    """``--json``: the rows with the revision's keys added; ``--csv``: the canonical CSV of the
    rows as published (its sha256 is the stored one when nothing is filtered out)."""
    if fmt == "json":
        stamped = [row | p.stamp() for row in rows]
        sys.stdout.write(json.dumps(stamped, ensure_ascii=False, separators=(",", ":")) + "\n")
        return True
    if fmt == "csv":
        write_canonical_csv(rows)
        return True
    click.echo(f"已发布：{p.title()}，发布人 {p.by}")
    return False


def show_published_rates(
    period: str,
    unit: str | None,
    kind: str | None,
    fmt: str | None,
    revision: int | None,
    print_rates: Callable[[str, pl.DataFrame, int], None],
    nonzero: bool = False,
) -> None:
    """``sgs rates --published``: the stored rows, filtered by unit and kind (and to the rows
    with figures, ``--nonzero``), printed as ``sgs rates`` prints its table (``print_rates``,
    passed in by that command); then exit."""
    import polars as pl

    from sgs.cli.common import has_figures
    from sgs.reference.units import resolve_unit

    try:
        code = str(resolve_unit(unit)["code"]) if unit else None
    except KeyError as exc:
        click.echo(str(exc.args[0]), err=True)
        exit_now(2)
    p, rows = _published(period, "rates", revision)
    rows = [r for r in rows if (code is None or r.get("unit_code") == code)
            and (kind is None or r.get("kind") == kind)]  # fmt: skip
    listed = [r for r in rows if has_figures(r)] if nonzero else rows
    if not _print_rows(p, listed, fmt):
        print_rates(period, pl.DataFrame(listed, infer_schema_length=None), len(rows) - len(listed))
    exit_now(0)


def show_published_points(
    period: str,
    fmt: str | None,
    revision: int | None,
    table: str,
    print_monthly: Callable[[pl.DataFrame, str], None],
) -> None:
    """``sgs points --published``: the stored rows of the month's points (``table`` =
    ``points``, printed by ``sgs points``'s own table, ``print_monthly``) or of its ranking
    (``ranking``, the bulletin's ranking table as circulated); then exit."""
    import polars as pl

    from sgs.cli.output import Col, echo_table

    p, rows = _published(period, table, revision)
    if _print_rows(p, rows, fmt):
        exit_now(0)
    if table == "points":
        frame = pl.DataFrame(rows, infer_schema_length=None)
        print_monthly(frame, f"{period} 月度积分（第 {p.revision} 版，截至 {p.as_of}）")
    else:
        from sgs.labels import NOT_APPLICABLE

        heads = list(dict.fromkeys(k for r in rows for k in r))
        cells = [[NOT_APPLICABLE if r.get(k) is None else r[k] for k in heads] for r in rows]
        echo_table([Col(h) for h in heads], cells,
                   f"{period} 排名表（第 {p.revision} 版，截至 {p.as_of}）")  # fmt: skip
    exit_now(0)


def write_published_bulletin(period: str, out: Path | None, revision: int | None) -> None:
    """``sgs report --published``: the bulletin's bytes as stored, to ``out`` (default
    ``<data root>/curated/bulletins/月通报_<月份>_第<N>版.xlsx``); then exit."""
    from sgs.errors import PeriodError, PublicationError
    from sgs.files import write_atomically
    from sgs.periods import period_bounds
    from sgs.report.publication import find, published_bulletin
    from sgs.store import database
    from sgs.store.database import curated_dir

    if out is not None and Path(out).suffix.lower() != ".xlsx":
        raise click.UsageError(f"已发布的月通报是工作簿：--out 应为 .xlsx 文件，而不是「{out}」")
    try:
        period_bounds(period)
        with database.reader() as con:
            p = find(con, period, revision)
            data = published_bulletin(con, p)
    except (PeriodError, PublicationError) as exc:
        click.echo(str(exc), err=True)
        exit_now(2)
    path = Path(out) if out is not None else (
        curated_dir() / "bulletins" / f"月通报_{period}_第{p.revision}版.xlsx"
    )  # fmt: skip
    write_atomically(path, lambda scratch: scratch.write_bytes(data))
    click.echo(f"{period} 月通报（已发布：{p.title()}）已写出：{path}")
    exit_now(0)
