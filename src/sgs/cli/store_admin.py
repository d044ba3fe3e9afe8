"""``sgs store``: the store as a whole — created or brought up to this version (``init``), kept
tidy (``tidy``), moved out to Parquet files and back in (:mod:`sgs.store.transfer`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from sgs.cli.common import shown_path
from sgs.cli.usage import SgsGroup

EXIT_REFUSED = 2


@click.group(cls=SgsGroup, name="store")
def store_group() -> None:
    """整个数据库：初始化、整理、导出为 Parquet 文件、从导出导入（迁移到另一台机器、另一版本）。

    \b
    数据库默认是数据目录下的 DuckDB 文件；环境变量 SGS_STORE=ducklake:postgres:<连接串>
    时是 DuckLake 湖仓（目录在 PostgreSQL，数据文件在 SGS_LAKE_DATA），湖仓须先 sgs store init。
    导出包含办公室的全部数据：批次、记录、错误、隔离、台账、发布、检查结果；
    单位清单和工作日历不导出，导入后按本机的 config/ 重建。
    """


def _or_refused(failed: str, work):
    """``work()``, or its refusal said in Chinese with exit status 2 (a folder or store it
    cannot use, the store held by a writer past the lock's timeout, a lake it cannot open)."""
    from sgs.errors import SgsError

    try:
        return work()
    except SgsError as exc:
        click.echo(f"{failed}：{exc}", err=True)
        sys.exit(EXIT_REFUSED)


def _report(verb: str, done, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"folder": str(done.folder), "tables": done.tables,
                               "rows": done.rows}, ensure_ascii=False))  # fmt: skip
        return
    click.echo(f"已{verb} {len(done.tables)} 张表、共 {done.rows} 行：{shown_path(done.folder)}")
    for table, rows in sorted(done.tables.items()):
        click.echo(f"  {table}：{rows} 行")


@store_group.command("export")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def store_export(folder: Path, as_json: bool) -> None:
    """把数据库（./data 或 $SGS_DATA_DIR 下）导出到 FOLDER：每张表一个 Parquet 文件，
    另有清单 manifest.json（最后写入；没有它的目录是未完成的导出）。

    \b
    FOLDER 须不存在或为空目录。导出时数据库可照常读取，入库等写入会等导出结束。
    退出码：0 成功；2 目录不空、没有数据库、数据库被占用超时或参数有误（原因输出到标准错误）。
    """
    from sgs.config import data_root
    from sgs.store.transfer import export_store

    done = _or_refused("无法导出", lambda: export_store(data_root(), folder))
    _report("导出", done, as_json)


@store_group.command("import")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def store_import(folder: Path, as_json: bool) -> None:
    """把 sgs store export 导出的 FOLDER 导入到数据库（./data 或 $SGS_DATA_DIR 下）。

    \b
    只能导入到还没有数据的数据库（新的数据目录）；在一个事务中完成：
    要么全部行都导入并与清单的行数一致，要么什么都不写。
    退出码：0 成功；2 目录不完整或被改动、目标数据库已有数据、数据库被占用超时或参数有误
    （原因输出到标准错误）。
    """
    from sgs.config import data_root
    from sgs.quality.expectations import RESULTS_DDL
    from sgs.store.transfer import import_store

    done = _or_refused("无法导入", lambda: import_store(data_root(), folder, ddl=[RESULTS_DDL]))
    _report("导入", done, as_json)


@store_group.command("init")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def store_init(as_json: bool) -> None:
    """建立数据库，或把它升级到本版本：表与视图、单位清单、工作日历。

    \b
    可重复运行：已是本版本的数据库不变；办公室修改 config/ 中的单位清单或节假日后再运行一次。
    湖仓（SGS_STORE=ducklake:postgres:…）只能由本命令建立目录与表结构，写入任务从不改表结构。
    退出码：0 成功；2 连接不上湖仓目录、数据目录不对、数据库被占用超时（原因输出到标准错误）。
    """
    from sgs.config import data_root
    from sgs.quality.expectations import RESULTS_DDL
    from sgs.store.database import init_store

    done = _or_refused("无法初始化数据库", lambda: init_store(data_root(), ddl=[RESULTS_DDL]))
    if as_json:
        click.echo(json.dumps(done, ensure_ascii=False))
        return
    kind = "DuckLake 湖仓" if done["backend"] == "ducklake" else "DuckDB 数据库文件"
    click.echo(f"数据库已就绪（{kind}）：{done['store']}")
    click.echo(f"  表结构版本 {done['schema']}；单位 {done['units']} 个；工作日历 "
               f"{done['calendar_days']} 天；批次 {done['batches']} 个；许可 {done['permits']} 条；"
               f"处罚 {done['penalties']} 条")  # fmt: skip


@store_group.command("tidy")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def store_tidy(as_json: bool) -> None:
    """整理数据库：湖仓合并小文件、清理一周前的快照和不再需要的数据文件
    （包括写入中途被终止的任务留下的孤立文件）；数据库文件做一次检查点。

    \b
    与入库等写入任务互斥（会等它们结束）；读取不受影响。
    退出码：0 成功；2 数据库不可用或被占用超时（原因输出到标准错误）。
    """
    from sgs.config import data_root
    from sgs.store.database import tidy_store

    done = _or_refused("无法整理数据库", lambda: tidy_store(data_root()))
    if as_json:
        click.echo(json.dumps(done, ensure_ascii=False))
        return
    click.echo(f"已整理：{done['store']}")
    if "files_before" in done:
        click.echo(f"  数据文件 {done['files_before']} 个 → {done['files_after']} 个")
