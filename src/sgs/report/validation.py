"""What ``sgs validate`` shows: the JSON object, the XLSX problem list, and the parts of the
Chinese summary (the command line lays them out as text and tables)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl

from sgs.errors import FileRefused
from sgs.intake.readers import Upload
from sgs.labels import SEVERITY_NAMES, field_names, rule_names
from sgs.reference.catalogue import load_catalogue
from sgs.report.masking import mask_error_values
from sgs.report.xlsx import Column, Sheet, write_workbook
from sgs.validate.pipeline import Validation

FORMAT_ZH = {"csv": "CSV", "xlsx": "XLSX", "xls": "XLS"}


def _head(file: Path | str, result: Validation) -> dict:
    up = result.upload
    return {
        "file": str(file),
        "kind": up.kind,
        "layout": up.layout,
        "rows": up.rows,
    }


def validation_json(file: Path | str, result: Validation) -> bytes:
    """The JSON object of ``sgs validate --json`` (and of the web page's check), one line.

    The error list is serialised by polars (a big file's errors never become Python objects),
    Chinese left unescaped; ``file`` is the label the reader knows the file by.
    """
    up = result.upload
    head = _head(file, result)
    tail = {
        "format": up.format,
        "encoding": up.encoding,
        "sheet": up.sheet,
        "sheets": [info.as_dict() for info in up.sheets],
        "header_row": up.header_row,
        "blank_rows": up.blank_rows,
        "unknown_columns": up.unknown_columns,
        "received": result.received.isoformat(),
        "summary": summary_counts(result),
    }
    errors = b"[]" if result.errors.is_empty() else result.errors.write_json().encode()
    return b"".join((
        json.dumps(head, ensure_ascii=False)[:-1].encode(), b', "errors": ', errors,
        b", ", json.dumps(tail, ensure_ascii=False)[1:].encode(),
    ))  # fmt: skip


def print_json(file: Path, result: Validation) -> None:
    out = sys.stdout.buffer
    out.write(validation_json(file, result) + b"\n")
    out.flush()


def refusal_object(file: Path | str, kind: str | None, exc: FileRefused) -> dict:
    """The JSON object of a file that cannot be validated: no rows, no errors, the reason."""
    return {
        "file": str(file),
        "kind": kind,
        "layout": "v1" if exc.code == "layout_v1" else None,
        "rows": None,
        "errors": [],
        "refused": {"code": exc.code, "message": exc.message},
    }


def print_refusal_json(file: Path, kind: str | None, exc: FileRefused) -> None:
    print(json.dumps(refusal_object(file, kind, exc), ensure_ascii=False))


def summary_counts(result: Validation) -> dict:
    e = result.errors
    return {
        "records": result.rows,
        "failing_records": result.failing_rows,
        "errors": e.filter(pl.col("severity") == "error").height,
        "warnings": e.filter(pl.col("severity") == "warning").height,
    }


def counts_by_rule(result: Validation) -> pl.DataFrame:
    """Problems per field and rule, most frequent first, with the Chinese names of both."""
    return (
        result.errors.group_by("field", "rule", "severity", maintain_order=True)
        .len("count")
        .with_columns(_names(result))
        .sort("count", descending=True, maintain_order=True)
    )


def _names(result: Validation) -> list[pl.Expr]:
    """Field name, rule name and severity in Chinese beside their codes."""
    return [
        pl.col("field").replace_strict(field_names(result.kind), default="").alias("name"),
        pl.col("rule").replace_strict(rule_names(), default=pl.col("rule")).alias("rule_name"),
        pl.col("severity").replace_strict(SEVERITY_NAMES).alias("severity_zh"),
    ]


def first_problems(result: Validation, limit: int) -> pl.DataFrame:
    """The first ``limit`` problems, ID numbers masked, with the Chinese names beside codes."""
    return mask_error_values(result.errors.head(limit)).with_columns(_names(result))


def sheet_lines(up: Upload) -> list[str]:
    """What was read of a workbook with several sheets, and what was skipped and why."""
    if up.format == "csv" or (
        len(up.sheets) <= 1 and all(s.read and not s.reason for s in up.sheets)
    ):
        return []
    lines = []
    for s in up.sheets:
        if s.read:
            note = f"（{s.reason}）" if s.reason else ""
            lines.append(f"  已读取工作表「{s.name}」：{s.rows} 条记录{note}")
        else:
            lines.append(f"  未读取工作表「{s.name}」（{s.rows} 行非空）：{s.reason}")
    return ["工作表：", *lines]


def sheets_read(up: Upload) -> int:
    return sum(1 for s in up.sheets if s.read)


def where(r: dict, several: bool) -> str:
    """Where a problem is, as the unit's spreadsheet shows it (the sheet when there are several)."""
    return (
        f"工作表「{r['sheet']}」第 {r['row']} 行" if several and r["sheet"] else f"第 {r['row']} 行"
    )


def head_lines(file: Path, result: Validation) -> list[str]:
    """The summary's opening: what the file is, how many records, what was skipped."""
    up = result.upload
    cat = load_catalogue()
    counts = summary_counts(result)
    where_read = f"{FORMAT_ZH[up.format]}"
    if up.encoding:
        where_read += f"，{up.encoding.upper()} 编码"
    if up.sheet and sheets_read(up) == 1:
        where_read += f"，工作表「{up.sheet}」"
    if sheets_read(up) <= 1:
        where_read += f"，表头在第 {up.header_row} 行"
    lines = [
        f"文件：{file}（{where_read}）",
        f"类型：{cat.kind(up.kind).name}　格式：{cat.layouts[up.layout].name}",
        f"记录：{counts['records']} 条，不合规 {counts['failing_records']} 条；"
        f"错误 {counts['errors']} 处，警告 {counts['warnings']} 处",
    ]
    lines += sheet_lines(up)
    if up.blank_rows:
        lines.append(f"已跳过空行 {up.blank_rows} 行。")
    if up.unknown_columns:
        lines.append(f"未识别的列（保留，不校验）：{'、'.join(up.unknown_columns)}")
    return lines


def write_problem_list(result: Validation, out: Path) -> Path:
    """The problem list of one file as XLSX, with personal ID numbers masked."""
    errors = mask_error_values(result.errors).with_columns(_names(result))
    cat = load_catalogue()
    up = result.upload
    counts = summary_counts(result)
    notes = [
        f"文件：{up.path.name}",
        f"{cat.kind(up.kind).name}，{counts['records']} 条记录，不合规 {counts['failing_records']} 条",
    ]
    detail = Sheet(
        "问题清单",
        f"{cat.kind(up.kind).name}数据校验问题清单",
        errors,
        [
            *([Column("sheet", "工作表", 14)] if sheets_read(up) > 1 else []),
            Column("row", "行号", 6, "int"),
            Column("name", "字段", 20),
            Column("field", "字段代码", 14),
            Column("rule_name", "规则", 14),
            Column("rule", "规则代码", 14),
            Column("severity_zh", "级别", 6),
            Column("message", "问题说明", 40),
            Column("value", "原始值", 24),
            Column("suggestion", "修改建议", 24),
        ],
        notes,
    )
    summary = Sheet(
        "按规则统计",
        "问题统计（按字段和规则）",
        counts_by_rule(result),
        [
            Column("name", "字段", 20),
            Column("field", "字段代码", 14),
            Column("rule_name", "规则", 14),
            Column("rule", "规则代码", 14),
            Column("severity_zh", "级别", 6),
            Column("count", "问题数", 8, "int"),
        ],
        notes,
    )
    return write_workbook(out, [detail, summary])
