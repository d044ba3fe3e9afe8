"""`sgs docs` as a user runs it (issue 21): a batch stored by `sgs ingest` reaches the Data Docs,
once; the pages name each check's rule in Chinese and lead back to the month page.

`sgs ingest` never runs the expectation suites (it must stay quick), so before this command
such a batch had no result and no page until — never — a daily run checked only its own files.
The store is built through the installed `sgs` executable, as the office does it.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT
from sgs.reference.catalogue import load_catalogue

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_cli_docs")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
MARKET = "11140400041270234C"  # 长治市市场监督管理局
SAMPLE = PROJECT_ROOT / "data" / "raw" / MARKET / "2026-10-15" / "行政处罚_2026年9月至10月.csv"
SITE = "http://xyb.example:8000"  # the public_url the pages link back to
CJK = re.compile(r"[\u4e00-\u9fff]")


def sgs(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(data), "SGS_PUBLIC_URL": f"{SITE}/"}
    env.pop("SGS_UNITS_FILE", None)
    return warm_sgs.run([*args], env=env, cwd=data.parent, timeout=300)


def results(data: Path) -> list[tuple]:
    with duckdb.connect(str(data / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT batch_id, suite, expectation, column_name, run_at, success"
            " FROM expectation_results ORDER BY ALL"
        ).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    """A penalty file stored by `sgs ingest`, then `sgs docs` run twice."""
    data = tmp_path_factory.mktemp("docs") / "data"
    landed = data / "raw" / MARKET / "2026-10-15" / SAMPLE.name
    landed.parent.mkdir(parents=True)
    shutil.copy(SAMPLE, landed)
    ingest = sgs(data, "ingest", str(landed), "--json")
    assert ingest.returncode == 0, ingest.stderr
    batch_id = json.loads(ingest.stdout)["batch_id"]
    before = sorted(p.name for p in (data / "curated").iterdir())
    first = sgs(data, "docs")
    after_first = results(data)
    docs = data / "curated" / "data_docs"
    pages_first = sorted(p.name for p in docs.iterdir())
    second = sgs(data, "docs", "--json")
    return {"data": data, "batch_id": batch_id, "before": before, "first": first,
            "after_first": after_first, "pages_first": pages_first, "second": second,
            "docs": docs}  # fmt: skip


def test_a_batch_stored_by_sgs_ingest_gets_its_page(built):
    batch_id, docs, first = built["batch_id"], built["docs"], built["first"]
    assert "data_docs" not in built["before"]  # `sgs ingest` builds no Data Docs itself
    assert first.returncode == 0, first.stderr
    assert "新检查批次 1 个" in first.stdout
    assert f"批次 {batch_id}（{SAMPLE.name}）：通过 " in first.stdout
    assert f"数据质量检查报告：{docs / 'index.html'}" in first.stdout
    assert f"{SITE}/docs/" in first.stdout
    assert {r[0] for r in built["after_first"]} == {batch_id}
    page = docs / f"batch_{batch_id}.html"
    assert page.is_file()
    assert f"批次 {batch_id}：{SAMPLE.name}" in page.read_text(encoding="utf-8")
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert f'href="batch_{batch_id}.html"' in index and "共 1 个批次" in index


def test_running_again_adds_nothing(built):
    second = built["second"]
    assert second.returncode == 0, second.stderr
    out = json.loads(second.stdout)
    assert out["checked"] == []
    assert out["data_docs"] == str(built["docs"] / "index.html")
    assert results(built["data"]) == built["after_first"]  # not checked again (same run_at)
    assert sorted(p.name for p in built["docs"].iterdir()) == built["pages_first"]


def _check_rows(page: str) -> list[tuple[str, str, str]]:
    """(check, rule name, GE type) of each check row of a batch page."""
    rows = re.findall(
        r'<tr><td>([^<]*)</td><td class="verdict">.*?<td class="rule">([^<]*)<code>([^<]*)</code>'
        r"</td></tr>",
        page,
    )
    return [(html.unescape(c), html.unescape(r), t) for c, r, t in rows]


def test_each_check_is_titled_by_its_rule_in_chinese(built):
    """Each check shows the catalogue rule's Chinese name, GE's English type only beside it."""
    page = (built["docs"] / f"batch_{built['batch_id']}.html").read_text(encoding="utf-8")
    rows = _check_rows(page)
    assert len(rows) == 50  # the penalty suite's 49 checks and the store's one
    assert "<th>规则（GE 期望）</th>" in page
    names = {r.name for r in load_catalogue().rules.values()} | {"入库核对"}
    assert all(CJK.search(rule) and rule in names for _, rule, _ in rows), rows
    by_check = {check: (rule, kind) for check, rule, kind in rows}
    assert by_check["行政相对人代码_5（事业单位证书号）不超过 12 个字符"] == (
        "长度上限", "expect_column_value_lengths_to_be_between"
    )  # fmt: skip
    assert by_check["处罚决定日期必填"][0] == "必填"
    assert by_check["处罚决定日期为可识别的日期"][0] == "日期格式"
    assert by_check["罚款金额（万元）为可识别的金额（数字）"][0] == "金额格式"
    assert by_check["处罚有效期不早于处罚决定日期"][0] == "日期先后"
    assert by_check["处罚决定日期不晚于接收日期"][0] == "日期范围"
    assert by_check["行政相对人类别取值在标准范围内"][0] == "取值范围"
    assert by_check["批次入库行数等于读取的行数"][0] == "入库核对"
    unique = "同一单位、同一类别的现行记录中决定文书号唯一（含此前入库的记录）"
    assert by_check[unique][0] == "重复记录"


def test_every_page_links_back_to_the_month_page(built):
    """On disk the link is the public_url's month page (`/` of `sgs serve`); served it is `/`
    (tests/test_web_docs.py)."""
    docs = built["docs"]
    for page in (docs / "index.html", docs / f"batch_{built['batch_id']}.html"):
        text = page.read_text(encoding="utf-8")
        assert f'<a id="month-page" href="{SITE}/">返回月度数据</a>' in text, page.name


def test_without_a_store_it_says_so_and_creates_nothing(tmp_path):
    data = tmp_path / "data"
    done = sgs(data, "docs")
    assert done.returncode == 2
    assert done.stdout == "" and "请先用 sgs ingest 入库" in done.stderr
    assert not data.exists()
