"""Every workbook a clerk reads names a rule in Chinese, with its code in the column beside it.

The problem list of ``sgs validate --out``, a unit's feedback list (``sgs feedback``) and the
bulletin's 不合规明细 (``sgs report``) are written through the installed command and read back
with openpyxl.  The expected Chinese names are written out here, by hand, from the standard's
rule table (docs/standard.md); they are not read from the catalogue the code uses.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs
from support.upload_files import RECEIVED, broken_check, records, table, write_csv

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_cli_workbooks")


# The rules the files below fail, by code, as the standard's rule table names them.
RULE_NAMES = {
    "id_check": "身份证号校验码",
    "uscc_check": "统一社会信用代码校验位",
    "date_format": "日期格式",
    "required": "必填",
    "max_length": "长度上限",
    "org_code_check": "组织机构代码校验码",
    "uscc_org_check": "统一社会信用代码内的组织机构代码校验",
    "uscc_prefix": "统一社会信用代码与相对人类别",
    "amount_unit": "金额单位",
    "date_range": "日期范围",
    "duplicate": "重复记录",
}
# 长治市市场监督管理局: its September–October penalties in data/raw fail three rules.
MARKET = "11140400041270234C"


def sgs(*args: str, cwd: Path, data: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("SGS_UNITS_FILE", None)
    if data is not None:
        env["SGS_DATA_DIR"] = str(data)
    return warm_sgs.run([*args], env=env, cwd=cwd, timeout=120)


def table_rows(ws, first_header: str) -> list[dict[str, object]]:
    """The rows of a sheet's table as dicts by header: the header row is the first row whose
    first cell is ``first_header`` (titles and notes sit above it)."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == first_header)
    header = rows[start]
    return [
        dict(zip(header, r, strict=True))
        for r in rows[start + 1 :]
        if any(c is not None for c in r)
    ]


def assert_named(rows: list[dict[str, object]], name: str = "规则", code: str = "规则代码") -> None:
    """Each row shows a known rule code and, beside it, that rule's Chinese name."""
    assert rows
    for row in rows:
        assert row[code] in RULE_NAMES, row
        assert row[name] == RULE_NAMES[row[code]], row


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A store built by ``sgs ingest`` from the bundled landing zone (uploads of 2026-10/11)."""
    root = tmp_path_factory.mktemp("workbooks") / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    run = sgs("ingest", str(root / "raw"), "--json", cwd=root.parent, data=root)
    assert run.returncode == 0, run.stderr
    return root


def test_problem_list_names_rules_in_chinese_beside_their_codes(tmp_path):
    recs = records("permit", 4, "natural") + records("permit", 6)[4:]
    recs[0]["XK_XDR_ZJHM"] = broken_check(recs[0]["XK_XDR_ZJHM"])
    recs[1]["XK_JDRQ"] = "2026/02/30"
    recs[2]["XK_WSH"] = ""
    recs[4]["XK_XDR_SHXYM"] = broken_check(recs[4]["XK_XDR_SHXYM"])
    path = write_csv(tmp_path / "许可.csv", table("permit", recs))
    run = sgs("validate", path.name, "--out", "问题清单.xlsx", "--received", RECEIVED, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    book = openpyxl.load_workbook(tmp_path / "问题清单.xlsx")
    detail = table_rows(book["问题清单"], "行号")
    assert_named(detail)
    assert {r["规则代码"] for r in detail} >= {"id_check", "date_format", "required", "uscc_check"}
    assert list(detail[0])[:6] == ["行号", "字段", "字段代码", "规则", "规则代码", "级别"]
    by_rule = table_rows(book["按规则统计"], "字段")
    assert_named(by_rule)
    assert sum(r["问题数"] for r in by_rule) == len(detail)


def test_feedback_list_names_rules_in_chinese(data, tmp_path):
    out = tmp_path / "反馈清单.xlsx"
    run = sgs("feedback", "--unit", MARKET, "--out", str(out), "--as-of", "2026-11-20",
              cwd=tmp_path, data=data)  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = table_rows(openpyxl.load_workbook(out).active, "类别")
    assert_named(rows)
    assert {r["规则代码"] for r in rows} >= {"max_length", "org_code_check", "uscc_check"}


def test_bulletin_failing_records_name_rules_in_chinese(data, tmp_path):
    out = tmp_path / "月通报.xlsx"
    run = sgs("report", "--period", "2026-10", "--out", str(out), "--as-of", "2026-11-20",
              cwd=tmp_path, data=data)  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = table_rows(openpyxl.load_workbook(out)["不合规明细"], "单位")
    assert rows
    for row in rows:
        codes = row["规则代码"].split("；")
        problems = row["问题（字段：规则）"].split("；")
        assert len(codes) == len(problems) == row["错误数"], row
        for code, problem in zip(codes, problems, strict=True):
            field, _, name = problem.partition("：")
            assert re.search(r"[\u4e00-\u9fff]", field) and name == RULE_NAMES[code], row
