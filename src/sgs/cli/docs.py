"""`sgs docs`: the Data Docs for every stored batch, however it was stored.

``sgs ingest`` stores a file without running the expectation suites (Great Expectations takes
seconds to import, and an ingest must stay quick), so its batches have no result and no page
until a daily run — or this command — checks them.  This command does what the daily flow does
for the Data Docs, without Prefect: check each upload batch that has no result yet
(:func:`sgs.jobs.daily.unchecked_batches`), then write every page.
"""

from __future__ import annotations

import json

import click

from sgs.cli.common import exit_now
from sgs.cli.usage import command


@command()
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def docs(as_json: bool) -> None:
    """生成数据质量检查报告（Data Docs）：检查尚无检查结果的批次，再写出全部页面。

    \b
    用 sgs ingest 入库的批次不会立即检查（入库保持快速）；日监测运行或本命令会检查所有尚无
    检查结果的行政许可、行政处罚批次（Great Expectations），并写出全部批次的报告页面。
    已检查过的批次不会重复检查，重复运行只会重写页面。报告写在数据目录的 curated/data_docs/
    文件夹中，sgs serve 启动后在 /docs/ 查看。
    退出码：0 已生成；2 数据目录中还没有数据库，或数据库被占用。
    """
    from sgs.errors import SgsError
    from sgs.jobs.artifacts import data_docs_url
    from sgs.jobs.daily import build_data_docs
    from sgs.store.database import store_exists, store_name

    if not store_exists():
        click.echo(f"数据目录中还没有数据库（{store_name()}）：请先用 sgs ingest 入库。", err=True)
        exit_now(2)
    try:
        built = build_data_docs()
    except SgsError as exc:  # the store held by a long write past the timeout, …
        click.echo(f"无法生成数据质量检查报告：{exc}", err=True)
        exit_now(2)
    if as_json:
        payload = {
            "checked": [
                {"batch_id": c.batch_id, "file_name": c.file_name, "passed": c.passed,
                 "failed": c.failed}
                for c in built.checks
            ],
            "data_docs": str(built.index),
            "url": data_docs_url(),
        }  # fmt: skip
        click.echo(json.dumps(payload, ensure_ascii=False))
        exit_now(0)
    click.echo(f"新检查批次 {len(built.checks)} 个（此前尚无检查结果）。")
    for c in built.checks:
        click.echo(
            f"  批次 {c.batch_id}（{c.file_name}）：通过 {c.passed} 项，未通过 {c.failed} 项"
        )
    click.echo(f"数据质量检查报告：{built.index}")
    click.echo(f"  sgs serve 启动后：{data_docs_url()}")
    exit_now(0)
