"""``sgs validate``: one upload checked against the standard, for a person or for a program.

``--json`` is the machine interface and is left as it is.  For a person: a few lines on the
file, then aligned tables — problems counted by field and rule (Chinese names, codes beside
them) and the first problems with their rows — and the verdict.  A big file shows its progress
on a terminal.  A file refused for its header that is in fact a ledger (台账) says so and
gives the ``sgs ledger`` command to register it instead.

A folder is checked file by file, the files found as ``sgs ingest`` finds them
(:func:`sgs.intake.landing.survey`), so that what passes here is what ingest will take; each
file is shown as it would be on its own, the folder's exit code is its worst file's.
"""

from __future__ import annotations

import re
import shlex
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sgs.cli.common import ISO_DATE, KIND_CHOICE, exit_now
from sgs.cli.output import Col, echo_table, progress
from sgs.cli.usage import command

if TYPE_CHECKING:
    from sgs.errors import FileRefused
    from sgs.validate.pipeline import Validation

EXIT_OK, EXIT_ERRORS, EXIT_REFUSED = 0, 1, 2
# From this size on, reading and checking a file takes seconds: show that it is under way.
BIG_FILE = 2 * 1024 * 1024
# Refusals a ledger meets when it is validated as an upload: its header is not an upload's.
HEADER_REFUSALS = {"no_header", "unknown_kind", "missing_columns"}


@command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--kind", type=KIND_CHOICE, help="记录类型；不指定时从表头识别。")
@click.option(
    "--json", "as_json", is_flag=True,
    help="输出 JSON（机器可读）：一个文件输出一个对象，文件夹输出各文件对象的数组。",
)  # fmt: skip
@click.option(
    "--out", type=click.Path(path_type=Path),
    help="另存问题清单为 XLSX（身份证号已脱敏；只用于单个文件）。",
)  # fmt: skip
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
    """逐条、逐字段按数据标准校验一个上报文件（CSV/XLSX/XLS），或文件夹中的每个文件。

    \b
    退出码：0 全部通过（可有警告）；1 有记录存在错误；2 文件无法校验
    （无法读取、格式版本被拒收、缺少必需列），原因输出到标准错误。
    台账（月度台账）不是上报文件，请用 sgs ledger 登记。

    \b
    文件夹：按 sgs ingest 的规则找文件（含子文件夹，按路径排序；隐藏文件、~$ 临时文件、
    .tmp/.part 等按文件名忽略，清单 manifest.json 不校验），逐个校验并输出，最后列出各文件的
    结论。退出码取各文件中最严重的；文件夹中没有可校验的文件时为 2。
    """
    from sgs.errors import FileRefused
    from sgs.report.validation import print_json, print_refusal_json, write_problem_list

    if file.is_dir():
        validate_folder(file, kind, as_json, out, received, limit)
    try:
        result = check(file, kind, received, as_json)
    except FileRefused as exc:
        click.echo(refusal_text(file, exc), err=True)
        if as_json:
            print_refusal_json(file, kind, exc)
        sys.exit(EXIT_REFUSED)
    if out is not None:
        write_problem_list(result, out)
    if as_json:
        print_json(file, result)
    else:
        print_summary(file, result, limit)
        if out is not None:
            click.echo(f"问题清单已保存：{out}")
    exit_now(exit_code(result))


def check(file: Path, kind: str | None, received: date | None, as_json: bool) -> Validation:
    """One file validated; a big one shows that it is under way (never beside ``--json``)."""
    from sgs.validate.pipeline import validate_file

    big = not as_json and file.is_file() and file.stat().st_size >= BIG_FILE
    with progress(enabled=big) as shown:
        shown.start("读取", None)

        def stage(name: str, rows: int | None) -> None:
            what = "读取" if name == "read" else f"校验 {rows:,} 条记录"
            shown.update(file.name, description=what)

        return validate_file(file, kind, received, stage)  # type: ignore[arg-type]


def exit_code(result: Validation) -> int:
    return EXIT_OK if result.ok else EXIT_ERRORS


def refusal_text(file: Path, exc: FileRefused) -> str:
    """Why a file cannot be validated, for stderr: a ledger is pointed to ``sgs ledger``."""
    return ledger_hint(file, exc) or f"无法校验：{exc.message}"


def validate_folder(
    folder: Path,
    kind: str | None,
    as_json: bool,
    out: Path | None,
    received: date | None,
    limit: int,
) -> None:
    """Every file of ``folder`` that ingest would take, each shown as on its own; then exit with
    the worst file's code.  Nothing to check is exit 2: a script must not take an empty
    folder for one that passed."""
    from sgs.intake.landing import survey

    if out is not None:
        raise click.UsageError("--out 只能用于单个文件；校验文件夹时请对要导出的文件单独运行")
    found = survey([folder])
    if not found.files:
        left = f"（按文件名忽略 {len(found.ignored)} 个）" if found.ignored else ""
        click.echo(f"文件夹「{folder}」中没有可校验的文件{left}。", err=True)
        if as_json:
            click.echo("[]")
        exit_now(EXIT_REFUSED)
    if as_json:
        codes = _folder_json(found.files, kind, received)
    else:
        codes = _folder_text(found.files, kind, received, limit)
        if found.ignored:
            click.echo("按文件名忽略的文件（未校验）：")
            for path in found.ignored:
                click.echo(f"  {path}")
    exit_now(max(codes))


def _folder_json(files: list[Path], kind: str | None, received: date | None) -> list[int]:
    """The JSON array of the files' objects, written one object at a time (a big file's error
    list never waits in memory for the others)."""
    import json

    from sgs.errors import FileRefused
    from sgs.report.validation import refusal_object, validation_json

    out = sys.stdout.buffer
    codes = []
    out.write(b"[")
    for done, file in enumerate(files):
        try:
            result = check(file, kind, received, as_json=True)
        except FileRefused as exc:
            click.echo(f"文件：{file}\n{refusal_text(file, exc)}", err=True)
            body = json.dumps(refusal_object(file, kind, exc), ensure_ascii=False).encode()
            codes.append(EXIT_REFUSED)
        else:
            body = validation_json(file, result)
            codes.append(exit_code(result))
        out.write((b",\n" if done else b"") + body)
        out.flush()
    out.write(b"]\n")
    out.flush()
    return codes


def _folder_text(
    files: list[Path], kind: str | None, received: date | None, limit: int
) -> list[int]:
    """Each file's summary as for one file, then a table of every file's verdict."""
    from sgs.errors import FileRefused
    from sgs.report.validation import summary_counts

    codes, rows = [], []
    for file in files:
        try:
            result = check(file, kind, received, as_json=False)
        except FileRefused as exc:
            click.echo(f"文件：{file}\n{refusal_text(file, exc)}", err=True)
            codes.append(EXIT_REFUSED)
            rows.append((file, None, None, None, None, refused_verdict(file, exc)))
            continue
        print_summary(file, result, limit)
        click.echo()
        counts = summary_counts(result)
        codes.append(exit_code(result))
        rows.append((file, counts["records"], counts["failing_records"], counts["errors"],
                     counts["warnings"], verdict(result)))  # fmt: skip
    title = (f"共 {len(rows)} 个文件：全部通过 {codes.count(EXIT_OK)} 个，"
             f"有错误 {codes.count(EXIT_ERRORS)} 个，无法校验 {codes.count(EXIT_REFUSED)} 个。")  # fmt: skip
    echo_table([Col("文件"), Col("记录", True), Col("不合规", True), Col("错误", True),
                Col("警告", True), Col("结论")], rows, title)  # fmt: skip
    return codes


def refused_verdict(file: Path, exc: FileRefused) -> str:
    """A refused file in the folder's table; its reason is on stderr, a ledger's in short."""
    return "无法校验（台账，请用 sgs ledger 登记）" if ledger_hint(file, exc) else "无法校验"


def verdict(result: Validation) -> str:
    """A file's conclusion in a few words, for the folder's table."""
    if result.rows == 0:
        return "全部通过（没有数据记录）"
    if not result.ok:
        return "有错误"
    return "全部通过（有警告）" if not result.errors.is_empty() else "全部通过"


def ledger_hint(file: Path, exc: FileRefused) -> str | None:
    """When a file refused for its header has a ledger's header: say so, and what to run."""
    from sgs.intake.ledgers import ledger_by_header
    from sgs.privacy import mask_ids_in_str

    if exc.code not in HEADER_REFUSALS:
        return None
    try:
        if not ledger_by_header(file):
            return None
    except Exception:  # no header of any kind (or worse): the refusal says it all
        return None
    shown = str(file)
    if mask_ids_in_str(shown) != shown:  # a person's ID number in the name is never shown
        shown = "台账文件"
    elif re.search(r"[\s'\"$`\\;&|<>()*?!#~]", shown):
        shown = shlex.quote(shown)
    return (
        f"无法校验：文件「{mask_ids_in_str(file.name)}」的表头是台账（月度台账）的表头，"
        "不是行政许可或行政处罚的上报数据。\n"
        "台账请用以下命令登记（单位填统一社会信用代码或全称，月份为台账所属月份）：\n"
        f"  sgs ledger {shown} --unit 单位 --period YYYY-MM"
    )


def print_summary(file: Path, result: Validation, limit: int) -> None:
    """The summary a person reads: the file, counts by field and rule, the first problems."""
    from sgs.labels import SEVERITY_NAMES
    from sgs.report.validation import counts_by_rule, first_problems, head_lines, sheets_read
    from sgs.report.validation import where as where_in

    click.echo("\n".join(head_lines(file, result)))
    if result.rows == 0:
        click.echo("结论：文件中没有数据记录。")
        return
    if result.errors.is_empty():
        click.echo("结论：全部记录符合数据标准。")
        return
    counts = [
        (r["name"], r["field"], r["rule_name"], r["rule"], r["severity_zh"], r["count"])
        for r in counts_by_rule(result).iter_rows(named=True)
    ]
    click.echo()
    echo_table([Col("字段"), Col("字段代码", wrap=False), Col("规则"), Col("规则代码", wrap=False), Col("级别", wrap=False),
                Col("处数", True)], counts, "按字段和规则统计：")  # fmt: skip
    shown = first_problems(result, limit)
    several = sheets_read(result.upload) > 1
    rows = [
        (
            where_in(r, several),
            SEVERITY_NAMES[r["severity"]],
            r["rule_name"],
            r["message"],
            "（空）" if r["value"] is None else r["value"],
            "—" if r["suggestion"] is None else r["suggestion"],
        )
        for r in shown.iter_rows(named=True)
    ]
    click.echo()
    echo_table([Col("位置"), Col("级别", wrap=False), Col("规则"), Col("问题说明"), Col("原值"),
                Col("修改建议")], rows,
               f"前 {shown.height} 处问题：")  # fmt: skip
    if result.errors.height > shown.height:
        click.echo(f"…… 其余 {result.errors.height - shown.height} 处请用 --out 导出问题清单。")
    verdict = "有记录不符合数据标准" if not result.ok else "全部记录符合数据标准（有警告）"
    click.echo(f"结论：{verdict}。")
