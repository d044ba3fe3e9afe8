"""How ledger entries count: unreadable 类别 stays in the unit's completeness, repeats count once.

A ledger of 2026-10 for unit A, worked by hand:

| row | 类别 | 文书号 | fate |
|---|---|---|---|
| 2 | 行政许可 | 1号 | uploaded → matched |
| 3 | 行政许可 | 1号 | repeats row 2 (same subject) → counted once, not at all |
| 4 | 行政处罚 | 罚1号 | not uploaded → 应报未报 |
| 5 | 许可 (unreadable) | 2号 | unclassified: in no kind, in the unit's total as unmatched |

Per kind: permits 1 entry, 1 matched (100 %); penalties 1 entry, 0 matched (0 %); each row
says 1 unclassified.  The unit, both kinds: 3 entries, 1 matched → 1/3; item 8 = 3.33.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs
from support.rates_builders import PENALTY, PERMIT, UNIT_A, Row, company, land, write_ledger

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_ledger_counting")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
D1, D2, P1 = "长审批许〔2026〕1号", "长审批许〔2026〕2号", "长审批罚〔2026〕1号"


def sgs(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    env.pop("SGS_UNITS_FILE", None)
    return warm_sgs.run([*args], env=env, timeout=180)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("ledger_counting")
    land(root, UNIT_A, "2026-10-20", "许可.csv", "permit", [Row(D1, "2026/10/16", subject=5)])
    name, code = company(5)
    ledger = write_ledger(root / "台账_2026-10.csv", [
        ["1", PERMIT, D1, name, code, "2026-10-16"],
        ["2", PERMIT, D1, name, code, "2026-10-16"],
        ["3", PENALTY, P1, *company(6), "2026-10-19"],
        ["4", "许可", D2, *company(7), "2026-10-21"],
    ])  # fmt: skip
    assert sgs(root, "ingest", str(root / "raw")).returncode == 0
    run = sgs(root, "ledger", str(ledger), "--unit", UNIT_A, "--period", "2026-10",
              "--received", "2026-11-03")  # fmt: skip
    assert run.returncode == 0, run.stderr
    return root


def test_per_kind_rates_leave_unclassified_entries_out_and_say_how_many(root):
    run = sgs(root, "rates", "--period", "2026-10", "--unit", UNIT_A, "--json")
    rows = {r["kind"]: r for r in json.loads(run.stdout)}
    permit, penalty = rows["permit"], rows["penalty"]
    assert (permit["ledger_entries"], permit["ledger_matched"]) == (1, 1)
    assert (penalty["ledger_entries"], penalty["ledger_matched"]) == (1, 0)
    assert permit["completeness_rate"] == 1.0 and penalty["completeness_rate"] == 0.0
    assert permit["ledger_unclassified"] == penalty["ledger_unclassified"] == 1


def test_the_units_completeness_counts_them_unmatched(root):
    run = sgs(root, "points", "--period", "2026-10", "--as-of", "2026-11-30", "--json")
    assert run.returncode == 0, run.stderr
    (unit,) = [r for r in json.loads(run.stdout) if r["unit_code"] == UNIT_A]
    assert unit["item_8"] == pytest.approx(3.33)


def test_they_are_listed_as_missing_with_the_reason(root):
    run = sgs(root, "rates", "--period", "2026-10", "--details", "missing", "--json")
    missing = sorted(
        (r["row"], r["kind"], r["doc_number"], r["reason"]) for r in json.loads(run.stdout)
    )
    assert missing == [
        (4, "penalty", P1, "未上报"),
        (5, None, D2, "台账类别无法识别（应为行政许可或行政处罚）"),
    ]


def test_the_bulletin_summary_and_missing_list_agree(root, tmp_path):
    out = tmp_path / "通报.xlsx"
    run = sgs(root, "report", "--period", "2026-10", "--out", str(out), "--as-of", "2026-11-30")
    assert run.returncode == 0, run.stderr
    book = openpyxl.load_workbook(out)

    def table(sheet: str, first: str) -> list[dict]:
        rows = list(book[sheet].iter_rows(values_only=True))
        head = next(i for i, r in enumerate(rows) if r and r[0] == first)
        return [dict(zip(rows[head], r, strict=False)) for r in rows[head + 1 :] if r and r[0]]

    (summary,) = [r for r in table("汇总", "分组") if r["单位"] == "长治市行政审批服务管理局"]
    assert summary["完整率"] == pytest.approx(1 / 3)
    missing = table("应报未报", "单位")
    assert sorted((r["类别"], r["原因"]) for r in missing) == [
        ("未识别", "台账类别无法识别（应为行政许可或行政处罚）"),
        ("行政处罚", "未上报"),
    ]
