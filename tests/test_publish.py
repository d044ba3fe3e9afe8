"""Publication (issue 19, item 2): the figures as published stay what they were, every revision
stays readable, and what changed since is listed — run as the office runs it (``sgs ingest``,
``sgs publish``, ``sgs rates|points|report --published``), the office's date fixed by
``SGS_TODAY``.

Three city departments (a units file of their own, no events), November 2026, worked out by
hand.  Workdays (chinesecalendar, no holiday in late 2026): the 7th workday after Wed 11-18 is
Fri 11-27, after Fri 11-20 it is Tue 12-01; an error reported on Fri 11-20 is due for correction
on the 5th workday after, Fri 11-27.

- A — 长治市行政审批服务管理局: R1 decided 11-02, received 11-05, valid; R2 decided 11-18,
  received 11-20, 许可机关 blank (an error).
- B — 长治市市场监督管理局 and C — 长治市生态环境局: nothing.

Published as of Mon 11-30 (revision 1): A uploaded 2, timely 2, compliant 1 → items 6 = 10,
7 = 5; the error is one workday past its deadline (11-30) → item 9 = 9; no ledger and item 5 not
yet due → total 24, rank 1.  B and C: item 9 = 10 only → total 10, rank 2 and 2.

A county, 襄垣县 (X), with one department, 襄垣县市场监督管理局 (XD): nothing before publication.

Then, after publication, three files received before 11-30 are stored late: A's correction of
R2 (received 11-27, in time → item 9 = 10, total 25), B's upload decided 11-20, received 11-25
(timely, valid → items 6, 7 = 10, total 30), and XD's upload decided 11-20, received 11-25
(timely, valid), which counts in its own row and in its county's.  As of 11-30 the city
departments' ranking is now B, A, C; the county is ranked alone in its group.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
from support import warm_sgs
from support.rates_builders import UNIT_A, UNIT_B, UNIT_C, Row, land

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_publish")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")

P = "2026-11"
TODAY = "2026-12-20"
PUBLISHED_AS_OF = "2026-11-30"
STAMP = ("revision", "published_at", "as_of")
NAMES = {
    UNIT_A: "长治市行政审批服务管理局",
    UNIT_B: "长治市市场监督管理局",
    UNIT_C: "长治市生态环境局",
}
WSH_A = ("长审批许〔2026〕1号", "长审批许〔2026〕2号")
COUNTY, COUNTY_NAME = "11140423MB6466733L", "襄垣县人民政府"
DEPT, DEPT_NAME = "11140423MB1C4417XY", "襄垣县市场监督管理局"
WSH_DEPT = "襄市监许〔2026〕3号"


def run_sgs(root: Path, *args: str, text: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(root), "SGS_TODAY": TODAY, "TZ": "UTC",
            "SGS_UNITS_FILE": str(root.parent / "units.csv"),
            "SGS_EVENTS_FILE": str(root.parent / "events.csv")}  # fmt: skip
    return warm_sgs.run([*args], env=env, timeout=300, text=text)


def ok(run: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert run.returncode == 0, run.stderr
    return run


def as_json(root: Path, *args: str) -> list | dict:
    return json.loads(ok(run_sgs(root, *args, "--json")).stdout)


def figures(root: Path, *args: str) -> dict[str, list[dict]]:
    """``sgs rates`` and ``sgs points`` for the month, ``--json``, with ``args`` added."""
    return {cmd: as_json(root, cmd, "--period", P, *args) for cmd in ("rates", "points")}


def unstamped(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in STAMP} for r in rows]


def landing(root: Path) -> None:
    """The units, an empty events file, and the files stored before publication."""
    units = ["code,name,type,parent", *(f"{c},{n},department," for c, n in NAMES.items()),
             f"{COUNTY},{COUNTY_NAME},county,", f"{DEPT},{DEPT_NAME},department,{COUNTY}"]  # fmt: skip
    (root.parent / "units.csv").write_text("\n".join(units) + "\n", encoding="utf-8")
    (root.parent / "events.csv").write_text("unit,type,date,due,count,note\n", encoding="utf-8")
    land(root, UNIT_A, "2026-11-05", "许可_1105.csv", "permit", [Row(WSH_A[0], "2026/11/02")])
    land(root, UNIT_A, "2026-11-20", "许可_1120.csv", "permit",
         [Row(WSH_A[1], "2026/11/18", subject=2, broken=True)])  # fmt: skip


def late_files(root: Path) -> list[Path]:
    """Received before the publication's day, stored after the publication."""
    return [
        land(root, UNIT_A, "2026-11-27", "许可_更正.csv", "permit",
             [Row(WSH_A[1], "2026/11/18", subject=2)]),
        land(root, UNIT_B, "2026-11-25", "许可_补报.csv", "permit",
             [Row("长市监许〔2026〕5号", "2026/11/20", subject=5)]),
        land(root, DEPT, "2026-11-25", "许可_襄垣.csv", "permit",
             [Row(WSH_DEPT, "2026/11/20", subject=6)]),
    ]  # fmt: skip


def sheet_rows(path: Path, name: str) -> list[dict]:
    """A bulletin sheet's table as dicts (title, stamp, blank row, then the header)."""
    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(r)]


def web_pages(root: Path) -> dict[str, str]:
    """The office's month page (published by default, live on asking) and the revisions page."""
    from starlette.testclient import TestClient
    from support.web_login import login

    from sgs.web.app import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SGS_TODAY", TODAY)
        mp.setenv("SGS_UNITS_FILE", str(root.parent / "units.csv"))
        mp.setenv("SGS_EVENTS_FILE", str(root.parent / "events.csv"))
        client = TestClient(create_app(root, "口令-publish"))
        assert login(client, "口令-publish").status_code == 303
        pages = {}
        for name, url in (("published", f"/?period={P}"), ("picked", f"/?period={P}&as_of={TODAY}"),
                          ("live", f"/?period={P}&live=1"), ("revisions", f"/revisions/{P}"),
                          ("never", "/revisions/2026-10")):  # fmt: skip
            response = client.get(url)
            pages[name] = response.text
            pages[f"{name}_status"] = str(response.status_code)
    return pages


@pytest.fixture(scope="module")
def story(tmp_path_factory) -> dict:
    """The month published, corrected late, published again; what each step printed."""
    root = tmp_path_factory.mktemp("publish") / "data"
    out = root.parent
    landing(root)
    ok(run_sgs(root, "ingest", str(root / "raw")))
    s: dict = {"root": root}
    s["never"] = run_sgs(root, "rates", "--period", P, "--published")
    # revision 1, as of 11-30, and what the office saw at that moment
    s["at_publication"] = figures(root, "--as-of", PUBLISHED_AS_OF)
    s["rev1"] = as_json(root, "publish", "--period", P, "--as-of", PUBLISHED_AS_OF, "--by", "张三")
    for name in ("unchanged.xlsx", "unchanged.pdf"):
        ok(run_sgs(root, "report", "--period", P, "--as-of", PUBLISHED_AS_OF,
                   "--out", str(out / name)))  # fmt: skip
    # files received before 11-30, stored after the publication
    ok(run_sgs(root, "ingest", *map(str, late_files(root))))
    s["published_after"] = figures(root, "--published")
    s["csv_after"] = ok(run_sgs(root, "rates", "--period", P, "--published", "--csv")).stdout
    s["printed_csv"] = {
        table: ok(run_sgs(root, "points", "--period", P, "--published", *extra, "--csv",
                          text=False)).stdout
        for table, extra in (("points", ()), ("ranking", ("--ranking",)))
    }  # fmt: skip
    s["ranking_text"] = ok(run_sgs(root, "points", "--period", P, "--published", "--ranking"))
    s["points_text"] = ok(run_sgs(root, "points", "--period", P, "--published")).stdout
    for name in ("revised.xlsx", "revised.pdf"):
        ok(run_sgs(root, "report", "--period", P, "--as-of", PUBLISHED_AS_OF,
                   "--out", str(out / name)))  # fmt: skip
    s["web"] = web_pages(root)
    # revision 2, as of today (the default), by the OS login (the default)
    s["rev2"] = as_json(root, "publish", "--period", P)
    s["live"] = figures(root)
    s["rev1_again"] = figures(root, "--published", "--revision", "1")
    s["rev2_published"] = figures(root, "--published")
    ok(run_sgs(root, "report", "--period", P, "--published", "--revision", "1",
               "--out", str(out / "rev1.xlsx")))  # fmt: skip
    return s


def _stored(root: Path) -> list[tuple]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT revision, as_of, published_by, bulletin FROM publications "
            "WHERE period = ? ORDER BY revision",
            [P],
        ).fetchall()


# ----------------------------------------------------------------------------- the acceptance


def test_the_published_figures_do_not_move_with_later_files(story):
    """``--published --json`` after later ingests equals the output at publication time, plus
    the revision's keys; the live figures as of the same day did move."""
    at = story["at_publication"]
    for cmd in ("rates", "points"):
        rows = story["published_after"][cmd]
        assert unstamped(rows) == at[cmd], cmd
        assert {(r["revision"], r["as_of"]) for r in rows} == {(1, PUBLISHED_AS_OF)}
        assert {r["published_at"][:10] for r in rows} == {TODAY}
        assert [list(r)[-3:] for r in rows] == [list(STAMP)] * len(rows)
    a = next(p for p in at["points"] if p["unit_code"] == UNIT_A)
    assert [a[k] for k in ("item_6", "item_7", "item_9", "total", "rank")] == [10, 5, 9, 24, 1]


def test_earlier_revisions_stay_readable(story):
    assert (story["rev1"]["revision"], story["rev2"]["revision"]) == (1, 2)
    for cmd in ("rates", "points"):
        assert unstamped(story["rev1_again"][cmd]) == story["at_publication"][cmd]
        assert {r["revision"] for r in story["rev1_again"][cmd]} == {1}


def test_a_second_revision_equals_the_live_figures(story):
    for cmd in ("rates", "points"):
        rows = story["rev2_published"][cmd]
        assert unstamped(rows) == story["live"][cmd], cmd
        assert {(r["revision"], r["as_of"]) for r in rows} == {(2, TODAY)}
    b = next(p for p in story["live"]["points"] if p["unit_code"] == UNIT_B)
    assert (b["item_6"], b["item_7"], b["rank"]) == (10.0, 10.0, 1)


def test_publish_says_what_it_recorded(story):
    import getpass

    rev1, rev2 = story["rev1"], story["rev2"]
    assert (rev1["period"], rev1["as_of"], rev1["by"]) == (P, PUBLISHED_AS_OF, "张三")
    assert rev1["published_at"].startswith(TODAY)
    assert (rev2["as_of"], rev2["by"]) == (TODAY, getpass.getuser())
    assert rev1["rows"] == {"rates": 10, "points": 5, "ranking": 5}
    stored = _stored(story["root"])
    assert [(n, str(d), by) for n, d, by, _ in stored] == [
        (1, PUBLISHED_AS_OF, "张三"), (2, TODAY, getpass.getuser())
    ]  # fmt: skip
    assert hashlib.sha256(stored[0][3]).hexdigest() == rev1["bulletin_sha256"]


# ----------------------------------------------------------------------------- the hashes


def canonical(rows: list[dict]) -> bytes:
    """docs/policy.md's canonical CSV, rebuilt here with the csv module."""

    def field(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return str(v).lower()
        return json.dumps(v) if isinstance(v, int | float) else str(v)

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(rows[0].keys())
    writer.writerows([field(v) for v in r.values()] for r in rows)
    return buffer.getvalue().encode("utf-8")


def test_the_hashes_are_of_the_documented_canonical_csv(story):
    published = story["published_after"]
    for cmd in ("rates", "points"):
        rows = unstamped(published[cmd])
        assert hashlib.sha256(canonical(rows)).hexdigest() == story["rev1"][f"{cmd}_sha256"]
    # `--published --csv` prints those very bytes
    assert story["csv_after"].encode("utf-8") == canonical(unstamped(published["rates"]))
    assert story["rev1"]["ranking_sha256"] != story["rev2"]["ranking_sha256"]  # B rose to 1


def test_the_canonical_csv_quotes_as_rfc_4180():
    """A field holding a comma, a double quote, CR or LF is quoted, inner quotes doubled; the
    rest as docs/policy.md section 8 says (bytes written out by hand)."""
    from sgs.report.publication import canonical_csv

    rows = [
        {"unit_name": 'A,"B"\nC', "uploaded": 1, "rate": 0.5, "rank": None, "zero": True},
        {"unit_name": "D\r", "uploaded": 0, "rate": 10.0, "rank": 2, "zero": False},
        {"unit_name": "长治", "uploaded": 3, "rate": 2 / 3, "rank": 1, "zero": False},
    ]
    assert canonical_csv(rows) == (
        b"unit_name,uploaded,rate,rank,zero\n"
        b'"A,""B""\nC",1,0.5,,true\n'
        b'"D\r",0,10.0,2,false\n'
        b"\xe9\x95\xbf\xe6\xb2\xbb,3,0.6666666666666666,1,false\n"
    )
    assert canonical_csv([]) == b""


def test_the_published_bulletin_is_written_byte_identical(story):
    stored = _stored(story["root"])[0][3]
    assert (story["root"].parent / "rev1.xlsx").read_bytes() == stored
    book = openpyxl.load_workbook(story["root"].parent / "rev1.xlsx")
    assert "修订" not in book.sheetnames  # nothing had been published before revision 1


# ----------------------------------------------------------------------------- 修订


def test_the_revision_sheet_names_exactly_the_changed_figures(story):
    """As of the publication's day, the late files changed these figures and no others."""
    path = story["root"].parent / "revised.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[-2:] == ["修订", "图表数据"]
    found = {(r["单位"], r["类别"], r["项目"], r["发布值（第 1 版）"], r["现值"])
             for r in sheet_rows(path, "修订")}  # fmt: skip
    a, b, c = NAMES[UNIT_A], NAMES[UNIT_B], NAMES[UNIT_C]
    assert found == {
        (a, "积分", "9.错误认领", "9", "10"),
        (a, "积分", "总分", "24", "25"),
        (a, "积分", "排名", "1", "2"),
        (b, "三率·行政许可", "上报条数", "0", "1"),
        (b, "三率·行政许可", "及时条数", "0", "1"),
        (b, "三率·行政许可", "合规条数", "0", "1"),
        (b, "三率·行政许可", "及时率", "—", "100.0%"),
        (b, "三率·行政许可", "合规率", "—", "100.0%"),
        (b, "积分", "6.及时率", "—", "10"),
        (b, "积分", "7.合规率", "—", "10"),
        (b, "积分", "总分", "10", "30"),
        (b, "积分", "排名", "2", "1"),
        (c, "积分", "排名", "2", "3"),
        # the department's upload: in its own row and, the same figures, in its county's
        *(
            (unit, part, item, before, after)
            for unit in (COUNTY_NAME, DEPT_NAME)
            for part, item, before, after in (
                ("三率·行政许可", "上报条数", "0", "1"),
                ("三率·行政许可", "及时条数", "0", "1"),
                ("三率·行政许可", "合规条数", "0", "1"),
                ("三率·行政许可", "及时率", "—", "100.0%"),
                ("三率·行政许可", "合规率", "—", "100.0%"),
                ("积分", "6.及时率", "—", "10"),
                ("积分", "7.合规率", "—", "10"),
                ("积分", "总分", "10", "30"),
            )
        ),
    }
    files = {r["单位"]: r["相关文件与记录（发布后收到或入库）"] for r in sheet_rows(path, "修订")}
    assert files[a] == f"许可_更正.csv（行政许可，接收 2026-11-27，记录 {WSH_A[1]}）"
    assert files[b] == "许可_补报.csv（行政许可，接收 2026-11-25，记录 长市监许〔2026〕5号）"
    assert files[c].startswith("无新文件")
    # the county's figures changed with its department's file: its row names that file
    dept_file = f"许可_襄垣.csv（行政许可，接收 2026-11-25，记录 {WSH_DEPT}）"
    assert files[DEPT_NAME] == dept_file
    assert files[COUNTY_NAME] == f"{DEPT_NAME}：{dept_file}"
    cover = {r[0]: r[1] for r in book["封面"].iter_rows(values_only=True) if r[0]}
    assert cover["已发布"].startswith(f"第 1 版（发布于 {TODAY} ")
    assert "29 项数字与之不同" in cover["已发布"]


def test_no_revision_sheet_when_nothing_changed(story):
    book = openpyxl.load_workbook(story["root"].parent / "unchanged.xlsx")
    assert "修订" not in book.sheetnames
    cover = {r[0]: r[1] for r in book["封面"].iter_rows(values_only=True) if r[0]}
    assert cover["已发布"].endswith("本通报的数字与之相同")


def pdf_text(path: Path) -> str:
    """The PDF's text (poppler's pdftotext, as tests/test_bulletin_pdf.py reads it)."""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


def test_the_pdf_has_a_revision_page_after_a_late_change(story):
    out = story["root"].parent
    revised, unchanged = pdf_text(out / "revised.pdf"), pdf_text(out / "unchanged.pdf")
    pages = [page for page in revised.split("\f") if page.strip()]
    # the last page, the 修订 sheet's, with the files behind the changes
    assert [i for i, page in enumerate(pages) if "发布后的修订" in page] == [len(pages) - 1]
    assert "许可_补报.csv" in pages[-1] and "襄垣县市场监督管理局" in pages[-1]
    # nothing changed since revision 1: no 修订 page, and the cover says so
    assert "发布后的修订" not in unchanged
    assert "本通报的数字与之相同" in unchanged


# ----------------------------------------------------------------------------- printed tables


def test_the_printed_csv_of_each_table_has_the_stored_hash(story):
    """``sgs points --published [--ranking] --csv`` print the bytes the stored hashes are of,
    as ``sgs rates --published --csv`` does."""
    rev1 = story["rev1"]
    printed = story["printed_csv"]
    assert hashlib.sha256(printed["points"]).hexdigest() == rev1["points_sha256"]
    assert hashlib.sha256(printed["ranking"]).hexdigest() == rev1["ranking_sha256"]
    assert hashlib.sha256(story["csv_after"].encode("utf-8")).hexdigest() == rev1["rates_sha256"]
    header, *lines = printed["ranking"].decode("utf-8").splitlines()
    assert header.startswith("分组,排名,单位,1.目录编制") and header.endswith(",总分")
    assert len(lines) == 5
    text = story["ranking_text"].stdout
    assert "排名表（第 1 版" in text and NAMES[UNIT_A] in text


def test_the_points_table_names_a_departments_county(story):
    text = story["points_text"]
    header = next(line for line in text.splitlines() if "所属县区" in line)
    assert [c.strip() for c in header.strip("|").split("|")][:4] == [
        "分组",
        "排名",
        "单位",
        "所属县区",
    ]
    dept = next(line for line in text.splitlines() if DEPT_NAME in line)
    assert [c.strip() for c in dept.strip("|").split("|")][:4] == [
        "县区部门", "—", DEPT_NAME, COUNTY_NAME
    ]  # fmt: skip
    a = next(line for line in text.splitlines() if NAMES[UNIT_A] in line)
    assert [c.strip() for c in a.strip("|").split("|")][3] == ""


def test_ranking_without_published_is_a_usage_error(story):
    run = run_sgs(story["root"], "points", "--period", P, "--ranking")
    assert run.returncode == 2 and "--ranking 只能与 --published 一起使用" in run.stderr


# ----------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(("period", "as_of"), [("2027-03", None), (P, "2026-11-29")])
def test_a_month_not_ended_is_not_published(story, period, as_of):
    args = ["--as-of", as_of] if as_of else []
    run = run_sgs(story["root"], "publish", "--period", period, *args)
    day = as_of or TODAY
    assert run.returncode == 2 and run.stdout == ""
    assert f"{period} 尚未结束，不能发布（截至 {day}" in run.stderr
    assert "Traceback" not in run.stderr
    with duckdb.connect(str(story["root"] / "curated" / "sgs.duckdb"), read_only=True) as con:
        (n,) = con.execute(
            "SELECT count(*) FROM publications WHERE period = ?", [period]
        ).fetchone()
    assert n == (2 if period == P else 0)  # nothing recorded


def test_a_month_never_published(story):
    never = story["never"]
    assert never.returncode == 2 and never.stderr.strip() == "2026-11 尚未发布"
    run = run_sgs(story["root"], "points", "--period", "2026-10", "--published", "--json")
    assert run.returncode == 2 and "2026-10 尚未发布" in run.stderr and run.stdout == ""
    run = run_sgs(story["root"], "rates", "--period", P, "--published", "--revision", "3")
    assert run.returncode == 2 and "2026-11 没有第 3 版（已发布 2 版）" in run.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["rates", "--published", "--as-of", "2026-11-30"], "--published 不能与 --as-of 同时使用"),
        (["points", "--published", "--as-of", "2026-11-30"], "--published 不能与 --as-of 同时使用"),
        (["report", "--published", "--as-of", "2026-11-30"], "--published 不能与 --as-of 同时使用"),
        (["rates", "--published", "--details", "late"], "--published 不能与 --details 同时使用"),
        (["rates", "--revision", "1"], "--revision 只能与 --published 一起使用"),
        (["report", "--published", "--out", "b.pdf"], "--out 应为 .xlsx 文件"),
    ],
)
def test_published_with_a_computation_is_a_usage_error(story, args, said):
    run = run_sgs(story["root"], args[0], "--period", P, *args[1:])
    assert run.returncode == 2
    assert said in run.stderr and "用法：" in run.stderr and "Traceback" not in run.stderr


# ----------------------------------------------------------------------------- the month page


def _unit_row(page: str, code: str) -> str:
    start = page.index(f'data-unit="{code}"')
    return page[start : page.index("</tr>", start)]


def test_the_month_page_shows_the_published_figures_by_default(story):
    web = story["web"]
    assert web["published_status"] == "200"
    assert f"已发布：第 1 版，发布于 {TODAY}" in web["published"]
    assert f"截至 {PUBLISHED_AS_OF}" in web["published"]
    assert f'href="/?period={P}&amp;live=1"' in web["published"]
    assert f'href="/revisions/{P}"' in web["published"]
    assert '<td class="num total">24</td>' in _unit_row(web["published"], UNIT_A)
    # the month picker sends today's date: still the published figures
    assert '<td class="num total">24</td>' in _unit_row(web["picked"], UNIT_A)
    # live: recomputed as of today, with a way back
    assert 'id="published-note"' not in web["live"]
    assert "本月已发布第 1 版" in web["live"]
    assert '<td class="num total">24</td>' not in _unit_row(web["live"], UNIT_A)


def test_the_revisions_page_lists_the_changes(story):
    web = story["web"]
    assert web["revisions_status"] == "200"
    page = web["revisions"]
    assert "与第 1 版相比有变化的数字" in page and "张三" in page
    assert "许可_补报.csv（行政许可，接收 2026-11-25，记录 长市监许〔2026〕5号）" in _unit_row(
        page, UNIT_B
    )
    assert f"{DEPT_NAME}：许可_襄垣.csv" in _unit_row(page, COUNTY)
    assert web["never_status"] == "404" and "2026-10 尚未发布" in web["never"]


def test_a_revision_names_files_and_records_with_id_numbers_masked():
    """The file name and the 文书号 are the unit's own text: an ID number typed into either is
    masked in the 修订 list (sheet, PDF page and /revisions/P share the text)."""
    from datetime import date

    from sgs.report.revisions import file_text

    text = file_text("许可_140402198001011234.csv", "permit", date(2026, 11, 25),
                     [("长审批〔2026〕140402198001011234号", 2), (None, 3)])  # fmt: skip
    assert text == ("许可_140402********1234.csv（行政许可，接收 2026-11-25，记录 "
                    "长审批〔2026〕140402********1234号、第 3 行）")  # fmt: skip
