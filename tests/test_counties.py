"""Counties scored as a whole (issue 19, item 1): a county's row counts its departments' data.

The shipped registry names two departments of 潞州区 (市场监督管理局 D1, 行政审批服务管理局 D2)
with ``parent`` = the district.  November 2026, worked out by hand (no holiday in November or
December 2026; the 7th workday after Mon 11-02 is Wed 11-11, after Tue 11-10 it is Thu 11-19,
after Mon 11-16 it is Tue 11-25; the November ledger is due Thu 12-03):

- D1 permits: X1 decided 11-02, received 11-05 (timely); X2 decided 11-02, received 11-20 (late).
- D2 permits: Y1 decided 11-10, received 11-12 (timely), 许可机关 blank (an error, reported
  11-12, due 5 workdays later: Thu 11-19; never corrected).
- 潞州区 itself, penalties: Z1 decided 11-16, received 11-18 (timely).
- D1 sends its own ledger on 12-02 (X1, X2); the district sends one on Fri 12-04 for itself and
  for D2 (Y1, Z1 and W1, a permit nobody uploaded).

The district's row: permits uploaded 2 + 1 = 3, timely 2, compliant 2; ledger entries 2 + 2 = 4,
matched 2 + 1 = 3 (Y1 is D2's, matched by the district's ledger); penalties 1/1/1, entries 1
matched 1.  Items: 5 = the family's latest first receipt 12-04, one workday late → 9;
6 = 10 × 3/4 = 7.5; 7 = 10 × 3/4 = 7.5; 8 = 10 × 4/5 = 8.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import warm_sgs
from support.rates_builders import Row, company, land, write_ledger

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_counties")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")

P = "2026-11"
COUNTY = "11140403MB6028813E"  # 长治市潞州区人民政府
D1 = "11140403MB1A20213D"  # 长治市潞州区市场监督管理局
D2 = "11140403MB1B703507"  # 长治市潞州区行政审批服务管理局


def sgs(root: Path, *args: str, units: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(root), "SGS_TODAY": "2026-12-20"}
    if units is not None:
        env["SGS_UNITS_FILE"] = str(units)
    return warm_sgs.run([*args], env=env, timeout=300)


def ok(run: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert run.returncode == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("counties") / "data"
    land(
        root,
        D1,
        "2026-11-05",
        "许可_1105.csv",
        "permit",
        [Row("潞市监许〔2026〕1号", "2026/11/02", 1)],
    )
    land(
        root,
        D1,
        "2026-11-20",
        "许可_1120.csv",
        "permit",
        [Row("潞市监许〔2026〕2号", "2026/11/02", 2)],
    )
    land(root, D2, "2026-11-12", "许可_1112.csv", "permit",
         [Row("潞审批许〔2026〕1号", "2026/11/10", 3, broken=True)])  # fmt: skip
    land(
        root,
        COUNTY,
        "2026-11-18",
        "处罚_1118.csv",
        "penalty",
        [Row("潞政罚〔2026〕1号", "2026/11/16", 4)],
    )
    ok(sgs(root, "ingest", str(root / "raw")))

    def entry(i: int, kind: str, doc: str, subject: int, decided: str) -> list[str]:
        return [str(i), kind, doc, *company(subject), decided]

    d1 = write_ledger(root / "in" / "台账_D1.csv", [
        entry(1, "行政许可", "潞市监许〔2026〕1号", 1, "2026/11/02"),
        entry(2, "行政许可", "潞市监许〔2026〕2号", 2, "2026/11/02"),
    ])  # fmt: skip
    county = write_ledger(root / "in" / "台账_潞州区.csv", [
        entry(1, "行政许可", "潞审批许〔2026〕1号", 3, "2026/11/10"),
        entry(2, "行政处罚", "潞政罚〔2026〕1号", 4, "2026/11/16"),
        entry(3, "行政许可", "潞政许〔2026〕9号", 5, "2026/11/20"),
    ])  # fmt: skip
    ok(sgs(root, "ledger", str(d1), "--unit", D1, "--period", P, "--received", "2026-12-02"))
    ok(
        sgs(
            root, "ledger", str(county), "--unit", COUNTY, "--period", P, "--received", "2026-12-04"
        )
    )
    return root


def rates(root: Path, *args: str) -> dict[tuple[str, str], dict]:
    rows = json.loads(ok(sgs(root, "rates", "--period", P, "--json", *args)).stdout)
    return {(r["unit_code"], r["kind"]): r for r in rows}


COUNTS = ("uploaded", "timely", "compliant", "ledger_entries", "ledger_matched")


def test_the_county_row_counts_its_departments(root):
    got = rates(root)
    assert tuple(got[COUNTY, "permit"][c] for c in COUNTS) == (3, 2, 2, 4, 3)
    assert got[COUNTY, "permit"]["completeness_rate"] == pytest.approx(0.75)
    assert got[COUNTY, "permit"]["timeliness_rate"] == pytest.approx(2 / 3)
    assert tuple(got[COUNTY, "penalty"][c] for c in COUNTS) == (1, 1, 1, 1, 1)
    assert got[COUNTY, "permit"]["ledger_received"] == "2026-12-04"  # the family's latest
    assert got[COUNTY, "permit"]["parent_code"] is None
    # each department keeps its own row, naming its county
    assert tuple(got[D1, "permit"][c] for c in COUNTS) == (2, 1, 2, 2, 2)
    assert tuple(got[D2, "permit"][c] for c in COUNTS) == (1, 1, 0, 0, 0)
    assert got[D1, "permit"]["parent_code"] == got[D2, "penalty"]["parent_code"] == COUNTY
    # --unit shows the same family row
    assert rates(root, "--unit", COUNTY)[COUNTY, "permit"] == got[COUNTY, "permit"]


def test_the_county_is_scored_and_ranked_as_a_whole(root):
    points = {
        p["unit_code"]: p
        for p in json.loads(ok(sgs(root, "points", "--period", P, "--json")).stdout)
    }
    c = points[COUNTY]
    assert (c["item_5"], c["item_6"], c["item_7"], c["item_8"]) == (9.0, 7.5, 7.5, 8.0)
    assert c["group"] == "县区" and c["rank"] is not None
    for d in (D1, D2):
        assert points[d]["group"] == "县区部门" and points[d]["rank"] is None
        assert points[d]["parent_code"] == COUNTY
    city_departments = [p for p in points.values() if p["group"] == "市直部门"]
    assert not {D1, D2} & {p["unit_code"] for p in city_departments}


def test_item_9_of_the_county_counts_its_departments_errors(root):
    # Y1's error (D2) is due Thu 11-19; as of Tue 11-24 it is 3 workdays late (20, 23, 24).
    points = {
        p["unit_code"]: p
        for p in json.loads(
            ok(sgs(root, "points", "--period", P, "--as-of", "2026-11-24", "--json")).stdout
        )
    }
    assert (points[COUNTY]["item_9"], points[D2]["item_9"], points[D1]["item_9"]) == (
        7.0,
        7.0,
        10.0,
    )


def test_ledgers_match_across_the_family(root):
    missing = json.loads(
        ok(sgs(root, "rates", "--period", P, "--details", "missing", "--json")).stdout
    )
    assert [(m["unit_code"], m["doc_number"]) for m in missing] == [(COUNTY, "潞政许〔2026〕9号")]
    # every record decided in November is listed by some ledger of the family
    unlisted = json.loads(
        ok(sgs(root, "rates", "--period", P, "--details", "unlisted", "--json")).stdout
    )
    assert unlisted == []


def test_the_drill_down_names_each_department(root):
    late = json.loads(ok(sgs(root, "rates", "--period", P, "--details", "late", "--json")).stdout)
    assert [r["unit_code"] for r in late] == [D1]  # the department's own record
    # --unit <county> covers its departments' records too
    family = sgs(root, "rates", "--period", P, "--details", "late", "--unit", COUNTY, "--json")
    assert [r["unit_code"] for r in json.loads(ok(family).stdout)] == [D1]
    text = ok(sgs(root, "rates", "--period", P, "--details", "late")).stdout
    assert "长治市潞州区市场监督管理局" in text and "长治市潞州区人民政府" in text


@pytest.mark.parametrize(
    ("rows", "said"),
    [
        (["A1,县甲,county,", "B1,甲局,department,A1", "C1,甲局科室,department,B1"],
         "第 4 行（甲局科室）：上级单位「甲局」本身也有上级单位"),
        (["B1,甲局,department,Z9"], "第 2 行（甲局）：上级单位「Z9」不在单位清单中"),
        (["A1,市局,department,", "B1,甲局,department,A1"], "第 3 行（甲局）：上级单位「市局」应为县区或开发区"),
    ],
)  # fmt: skip
def test_the_registry_refuses_a_bad_parent(tmp_path, rows, said):
    units = tmp_path / "units.csv"
    units.write_text("code,name,type,parent\n" + "\n".join(rows) + "\n", encoding="utf-8")
    run = sgs(tmp_path / "data", "rates", "--period", P, units=units)
    assert run.returncode == 2
    assert said in run.stderr and "Traceback" not in run.stderr


def test_a_county_account_sees_its_departments_feedback_and_hand_ins(root):
    from starlette.testclient import TestClient
    from support.web_login import token_for

    from sgs.web.app import create_app

    def bearer(unit: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(root, unit)}"}

    client = TestClient(create_app(root, "口令-counties"))
    county, d1, d2 = bearer(COUNTY), bearer(D1), bearer(D2)
    for unit in (COUNTY, D1, D2):  # the county: its own and its departments'
        assert client.get(f"/download/feedback/{unit}.xlsx", headers=county).status_code == 200
        assert client.get(f"/api/uploads?unit={unit}", headers=county).status_code == 200
    assert client.get(f"/download/feedback/{D1}.xlsx", headers=d1).status_code == 200
    # a department sees neither its county nor a sibling
    assert client.get(f"/download/feedback/{COUNTY}.xlsx", headers=d1).status_code == 403
    assert client.get(f"/download/feedback/{D2}.xlsx", headers=d1).status_code == 403
    assert client.get(f"/api/uploads?unit={D1}", headers=d2).status_code == 403
    # another county sees none of them
    other = bearer("11140423MB6466733L")  # 襄垣县
    assert client.get(f"/download/feedback/{D1}.xlsx", headers=other).status_code == 403
    # the county sees its departments' hand-ins, but hands in only for itself
    files = {"file": ("许可.csv", b"x", "text/csv")}
    r = client.post("/api/uploads", headers=county, data={"unit": D1}, files=files)
    assert r.status_code == 403


def test_a_county_account_s_pages_lead_to_its_departments(root):
    """The county's start page lists its departments with their feedback lists; its hand-in
    page shows its departments' hand-ins after its own; a department's pages show only its own."""
    import html

    from starlette.testclient import TestClient
    from support.web_login import login, token_for

    from sgs.web.app import create_app

    def pages(unit: str) -> dict[str, str]:
        client = TestClient(create_app(root, "口令-counties"))
        assert login(client, token_for(root, unit)).status_code == 303
        return {url: html.unescape(client.get(url).text) for url in ("/", "/handin")}

    county = pages(COUNTY)
    home = county["/"]
    listed = home[
        home.index('id="departments"') : home.index("</table>", home.index('id="departments"'))
    ]
    for code, name in ((D1, "长治市潞州区市场监督管理局"), (D2, "长治市潞州区行政审批服务管理局")):
        assert f'data-department="{code}"' in listed and name in listed
        assert f'href="/download/feedback/{code}.xlsx"' in listed
        assert f'href="/handin?unit={code}"' in listed
    handin = county["/handin"]
    assert "上报单位：长治市潞州区人民政府" in handin
    assert handin.index("长治市潞州区人民政府 · 报送记录") < handin.index(
        "长治市潞州区市场监督管理局 · 报送记录"
    )
    department = handin[handin.index(f'id="history-{D1}"') :]
    assert "许可_1105.csv" in department[: department.index("</table>")]
    assert f'id="history-{D2}"' in handin and "许可_1112.csv" in handin
    # a department: its own hand-ins only, and no departments on its start page
    d1 = pages(D1)
    assert 'id="departments"' not in d1["/"]
    assert "许可_1105.csv" in d1["/handin"] and "许可_1112.csv" not in d1["/handin"]
    assert "长治市潞州区人民政府 · 报送记录" not in d1["/handin"]


def test_the_revisions_name_a_department_s_file_matched_by_the_county_s_ledger(root, tmp_path):
    """Published as of 12-04; then D2 sends W1 (received 12-05, its decision date written as
    10-30): neither received nor decided in November, it concerns the month only because the
    district's November ledger lists it — a ledger of D2's family, not of D2.  The district's
    完整率 changes, and its 修订 entries name D2's file and the record."""
    import shutil

    import openpyxl

    copy = tmp_path / "data"
    shutil.copytree(root, copy)
    ok(sgs(copy, "publish", "--period", P, "--as-of", "2026-12-04", "--by", "测试"))
    late = land(copy, D2, "2026-12-05", "许可_补报.csv", "permit",
                [Row("潞政许〔2026〕9号", "2026/10/30", 5)])  # fmt: skip
    ok(sgs(copy, "ingest", str(late)))
    out = tmp_path / "月通报.xlsx"
    ok(sgs(copy, "report", "--period", P, "--out", str(out)))
    table = list(openpyxl.load_workbook(out)["修订"].iter_rows(min_row=4, values_only=True))
    rows = [dict(zip(table[0], r, strict=True)) for r in table[1:] if any(r)]
    county = [r for r in rows if r["统一社会信用代码"] == COUNTY]
    assert ("三率·行政许可", "台账已上报", "3", "4") in {
        (r["类别"], r["项目"], r["发布值（第 1 版）"], r["现值"]) for r in county
    }
    assert {r["相关文件与记录（发布后收到或入库）"] for r in county} == {
        "长治市潞州区行政审批服务管理局：许可_补报.csv（行政许可，接收 2026-12-05，"
        "记录 潞政许〔2026〕9号）"
    }


def test_the_bulletin_shows_the_county_as_a_whole_and_each_department(root, tmp_path):
    import openpyxl

    out = tmp_path / "月通报.xlsx"
    ok(sgs(root, "report", "--period", P, "--out", str(out)))
    book = openpyxl.load_workbook(out)

    def rows(sheet: str) -> list[dict]:
        table = list(book[sheet].iter_rows(values_only=True))
        at = next(i for i, r in enumerate(table) if r and r[0] in ("分组", "单位"))
        return [dict(zip(table[at], r, strict=False)) for r in table[at + 1 :] if r and r[0]]

    summary = {r["单位"]: r for r in rows("汇总")}
    county = summary["长治市潞州区人民政府"]
    assert county["分组"] == "县区" and county["上报条数"] == 4  # 2 + 1 permits, 1 penalty
    assert county["8.完整率"] == 8
    department = summary["长治市潞州区市场监督管理局"]
    assert department["分组"] == "县区部门" and department["排名"] in (None, "—")
    # 所属县区: the county of each department, empty for every other unit
    assert department["所属县区"] == "长治市潞州区人民政府"
    assert county["所属县区"] is None
    assert all((r["所属县区"] is None) == (r["分组"] != "县区部门") for r in summary.values())
    permits = {r["单位"]: r for r in rows("行政许可")}
    assert permits["长治市潞州区行政审批服务管理局"]["所属县区"] == "长治市潞州区人民政府"
    assert permits["长治市潞州区人民政府"]["所属县区"] is None
    late = rows("迟报明细")
    assert [(r["单位"], r["所属县区"]) for r in late] == [
        ("长治市潞州区市场监督管理局", "长治市潞州区人民政府")
    ]
