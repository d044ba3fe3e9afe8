"""`sgs report` as a user runs it: the bulletin files, the message, the exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_cli_report")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A store built from the sample landing zone (uploads in 2026-10/11, ledgers for 2026-10)."""
    from sgs.intake.landing import expand
    from sgs.store.ingest import ingest_file

    root = tmp_path_factory.mktemp("report") / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    for path in expand([root / "raw"]):
        ingest_file(path, root=root)
    return root


def sgs(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(data)}
    env.pop("SGS_UNITS_FILE", None)
    return warm_sgs.run(["report", *args], env=env, cwd=data.parent, timeout=120)


def test_xlsx_is_written_and_reported_in_chinese(data):
    out = data.parent / "通报" / "十月.xlsx"
    run = sgs(data, "--period", "2026-10", "--out", str(out), "--as-of", "2026-11-20")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"2026-10 月通报已生成：{out}"
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:2] == ["封面", "汇总"] and "趋势" in book.sheetnames
    assert "积分计算截至 2026-11-20" in book["汇总"]["A2"].value


def test_csv_is_the_summary_with_a_bom(data):
    out = data.parent / "summary.csv"
    run = sgs(data, "--period", "2026-10", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "汇总表" in run.stdout and str(out) in run.stdout
    text = out.read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    header = text.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("分组,排名,单位,所属县区,上报条数,及时率")


def test_default_location_under_the_data_root(data):
    run = sgs(data, "--period", "2026-11", "--as-of", "2026-11-20")
    assert run.returncode == 0, run.stderr
    path = data / "curated" / "bulletins" / "月通报_2026-11.xlsx"
    assert path.is_file() and str(path) in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13", "--out", "x.xlsx"], "期间应为 YYYY-MM 格式"),
        (["--period", "202610"], "期间应为 YYYY-MM 格式"),
        (["--period", "2026-10", "--out", "x.docx"], "只能保存为 .xlsx、.csv 或 .pdf"),
        (["--period", "2026-10", "--as-of", "2026-11-31"], "日期应为 YYYY-MM-DD 格式"),
    ],
)
def test_bad_arguments_exit_2_with_a_chinese_reason(data, args, message):
    run = sgs(data, *args)
    assert run.returncode == 2
    assert message in run.stderr and run.stdout == ""
    assert not (data.parent / "x.docx").exists() and not (data.parent / "x.xlsx").exists()
