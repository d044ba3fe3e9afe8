"""The units' pages (issue 12, items 2, 4, 5) through the real app and real accounts made with
`sgs users add`, logged in through the form as a person is: the unit's start page, the
self-check with its problem list, the hand-in with its receipt and history — and what another
unit's account cannot see."""

from __future__ import annotations

import hashlib
import html
import io
import json
import os
import re
import tempfile
import time
import warnings
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import pytest
from support.unit_files import (
    BAD_ID,
    DEFECTS,
    FIXED_ID,
    defective_permits,
)
from support.upload_files import broken_check, mask, records, resident_id, table, write_csv
from support.web_login import csrf_of, login, token_for

from sgs.clock import office_today
from sgs.intake.landing import expand
from sgs.store.ingest import ingest_file
from sgs.web import app as web
from sgs.web import checkpool

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

SECRET = "office-shared-secret"
LUZHOU, LUZHOU_NAME = "11140403MB6028813E", "长治市潞州区人民政府"
MARKET, MARKET_NAME = "11140400041270234C", "长治市市场监督管理局"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
# the market's own file: one wrong ID number (a person's, so masked wherever people read it)
MARKET_BAD_ID = broken_check(resident_id("140402", "19750615", "000"))


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    # The checks' forkserver first: multiprocessing keeps its socket in the temporary folder
    # current when it starts, which is not one of the checks' files.
    checkpool.warm_up()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.delenv("SGS_UPLOAD_MAX_MB", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    return tmp_path / "data"


@pytest.fixture
def tokens(root) -> dict[str, str]:
    return {"luzhou": token_for(root, LUZHOU), "market": token_for(root, MARKET),
            "office": token_for(root, "--office", "李四")}  # fmt: skip


def client_as(root: Path, token: str) -> TestClient:
    c = TestClient(web.create_app(root, SECRET))
    assert login(c, token).status_code == 303
    return c


def upload(c: TestClient, path: str, name: str, data: bytes, **fields: str):
    form = {"csrf": csrf_of(c, path), **fields}
    return c.post(path, data=form, files={"file": (name, data, "text/csv")})


def landed(root: Path) -> list[str]:
    raw = root / "raw"
    if not raw.exists():
        return []
    return sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())


def cells(page: str, table_id: str) -> list[list[str]]:
    """The body rows of a table of the page, as text."""
    body = re.search(rf'<table id="{table_id}">.*?</table>', page, re.S)
    assert body, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(0), re.S)
    out = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]  # fmt: skip
    return [r for r in out if r]


# ----------------------------------------------------------------------------- the start page


def _ingest_two_units(root: Path) -> None:
    """Luzhou's defective file and the market's own one, both received on Monday 2026-11-02."""
    a = root / "raw" / LUZHOU / "2026-11-02" / "行政许可_11月.csv"
    a.parent.mkdir(parents=True)
    a.write_bytes(defective_permits())
    (root / "raw" / MARKET / "2026-11-02").mkdir(parents=True)
    recs = records("penalty", 2)
    recs[0]["CF_FR_ZJHM"] = MARKET_BAD_ID
    write_csv(root / "raw" / MARKET / "2026-11-02" / "市场监管处罚.csv", table("penalty", recs))
    for path in expand([root / "raw"]):
        ingest_file(path, root=root)


def test_the_start_page_shows_the_units_own_figures_and_problems_with_deadlines(root, tokens):
    _ingest_two_units(root)
    luzhou = client_as(root, tokens["luzhou"])
    page = luzhou.get("/")
    assert page.status_code == 200
    text = page.text
    assert LUZHOU_NAME in text and LUZHOU in text
    assert MARKET_NAME not in text and "市场监管处罚" not in text
    assert 'data-unit="' + LUZHOU in text and 'data-unit="' + MARKET not in text
    assert "/check" in text and "/handin" in text and f"/download/feedback/{LUZHOU}.xlsx" in text
    rows = cells(text, "problems")
    assert len(rows) == 4
    # reported Monday 2026-11-02; 5 workdays later is Monday 2026-11-09, long past (today is
    # after it): every error is overdue
    assert {r[0] for r in rows} == {"2026-11-09"} and {r[1] for r in rows} == {"已逾期"}
    by_row = {int(r[4]): r for r in rows}
    for row, name, value, suggestion in DEFECTS:
        assert by_row[row][5] == name and by_row[row][9] == value and by_row[row][10] == suggestion
    assert BAD_ID not in text and FIXED_ID not in text  # masked
    assert "待整改问题 4 处（其中已逾期 4 处）" in text
    assert luzhou.get(f"/download/feedback/{LUZHOU}.xlsx").status_code == 200
    assert luzhou.get(f"/download/feedback/{MARKET}.xlsx").status_code in (403, 404)

    market = client_as(root, tokens["market"]).get("/").text
    assert MARKET_NAME in market and LUZHOU_NAME not in market and "行政许可_11月" not in market
    assert mask(MARKET_BAD_ID) in market and MARKET_BAD_ID not in market

    office = client_as(root, tokens["office"]).get("/").text  # the month page, all units
    assert 'data-unit="' + LUZHOU in office and 'data-unit="' + MARKET in office


def test_a_malformed_month_on_the_start_page_is_a_400_page(root, tokens):
    """The error and the month picker alone (issue 21): the latest month's figures under the
    error would read as the figures of the month asked for."""
    _ingest_two_units(root)
    page = client_as(root, tokens["luzhou"]).get("/?period=2026-13")
    assert page.status_code == 400 and "月份格式不正确：「2026-13」" in page.text
    assert '<select id="period"' in page.text and "selected>" not in page.text
    for shown in ('id="own"', 'id="items"', 'id="problems"', 'id="no-problems"', "/download/"):
        assert shown not in page.text, shown


def test_the_start_page_without_a_store(root, tokens):
    page = client_as(root, tokens["luzhou"]).get("/")
    assert page.status_code == 200 and "当前没有待整改的问题" in page.text
    assert not (root / "curated").exists()  # a GET creates no store


# ----------------------------------------------------------------------------- self-check


def test_check_shows_every_problem_with_its_suggestion_masked_and_stores_nothing(
    root, tokens, tmp_path
):
    luzhou = client_as(root, tokens["luzhou"])
    r = upload(luzhou, "/check", "行政许可_11月.csv", defective_permits())
    assert r.status_code == 200
    text = r.text
    assert "记录：4 条，不合规 4 条；错误 4 处，警告 0 处" in text
    rows = cells(text, "problems")
    assert [r[0] for r in rows] == ["第 2 行", "第 3 行", "第 4 行", "第 5 行"]
    for got, (row, name, value, suggestion) in zip(rows, DEFECTS, strict=True):
        assert got[0] == f"第 {row} 行" and got[1] == name
        assert got[5] == value and got[6] == suggestion
    assert rows[1][4] == "法定代表人证件号码校验码错误（GB 11643）：请按证件核对"
    assert BAD_ID not in text and FIXED_ID not in text
    rules = cells(text, "rules")
    assert sorted(r[3] for r in rules) == ["1", "1", "1", "1"]
    assert landed(root) == []  # nothing in the landing zone
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary copy is gone

    link = re.search(r'href="(/check/[A-Za-z0-9_-]{22}\.xlsx)"', text)
    assert link
    got = luzhou.get(link.group(1))
    assert got.status_code == 200 and got.content.startswith(b"PK")
    assert "问题清单_行政许可_11月.xlsx" in unquote(got.headers["content-disposition"])
    book = openpyxl.load_workbook(io.BytesIO(got.content))
    values = [[c for c in row] for row in book["问题清单"].iter_rows(values_only=True)]
    header = next(r for r in values if "修改建议" in r)
    at = header.index("修改建议")
    assert {r[at] for r in values[values.index(header) + 1 :]} >= {d[3] for d in DEFECTS}
    flat = json.dumps(values, ensure_ascii=False, default=str)
    assert BAD_ID not in flat and FIXED_ID not in flat

    for other in ("market", "office"):  # another account: as if it did not exist
        assert client_as(root, tokens[other]).get(link.group(1)).status_code == 404
    assert luzhou.get("/check/" + "A" * 22 + ".xlsx").status_code == 404
    assert luzhou.get("/check/..%2F..%2Faccounts%2Faccounts.json").status_code == 404
    assert landed(root) == []


def test_check_without_the_form_token_is_refused(root, tokens):
    luzhou = client_as(root, tokens["luzhou"])
    r = luzhou.post("/check", files={"file": ("a.csv", defective_permits(), "text/csv")})
    assert r.status_code == 403 and "校验码" in r.text
    assert not (root / "curated").exists()


def test_a_file_that_cannot_be_checked_shows_its_reason(root, tokens):
    luzhou = client_as(root, tokens["luzhou"])
    r = upload(luzhou, "/check", "照片.xlsx", PNG)
    assert r.status_code == 422 and "不是 XLSX、XLS 或 CSV 文件" in r.text
    assert 'id="problems"' not in r.text


def test_a_file_above_the_limit_is_413(root, tokens, monkeypatch):
    monkeypatch.setenv("SGS_UPLOAD_MAX_MB", "0.001")
    luzhou = client_as(root, tokens["luzhou"])
    r = upload(luzhou, "/check", "big.csv", b"x" * 5000)
    assert r.status_code == 413 and "文件超过大小上限" in r.text


def test_a_clean_file_has_no_problem_list(root, tokens):
    from support.upload_files import csv_bytes

    luzhou = client_as(root, tokens["luzhou"])
    r = upload(luzhou, "/check", "ok.csv", csv_bytes(table("permit", records("permit", 2))))
    assert r.status_code == 200 and "未发现问题" in r.text
    assert not re.search(r"/check/[A-Za-z0-9_-]{22}\.xlsx", r.text)
    assert not (root / "curated").exists()


def test_problem_lists_older_than_a_day_are_deleted_by_the_next_check(root, tokens):
    luzhou = client_as(root, tokens["luzhou"])
    first = upload(luzhou, "/check", "a.csv", defective_permits()).text
    link = re.search(r'href="(/check/([A-Za-z0-9_-]{22})\.xlsx)"', first)
    assert link
    checks = root / "curated" / "web" / "checks"
    old = time.time() - 2 * 24 * 3600
    for p in checks.glob(link.group(2) + ".*"):
        os.utime(p, (old, old))
    upload(luzhou, "/check", "b.csv", defective_permits())
    assert not list(checks.glob(link.group(2) + ".*"))
    assert luzhou.get(link.group(1)).status_code == 404
    assert len(list(checks.glob("*.xlsx"))) == 1


# ----------------------------------------------------------------------------- hand-in


def test_hand_in_lands_the_file_shows_the_receipt_and_the_history(root, tokens):
    data = defective_permits()
    today = office_today().isoformat()
    luzhou = client_as(root, tokens["luzhou"])
    r = upload(luzhou, "/handin", "行政许可_11月.csv", data)
    assert r.status_code == 200
    text = r.text
    assert f'id="receipt-sha256"><code>{hashlib.sha256(data).hexdigest()}</code>' in text
    assert f'id="receipt-received">{today}<' in text
    assert f"raw/{LUZHOU}/{today}/行政许可_11月.csv" in text
    assert "记录 4 条，不合规 4 条；错误 4 处，警告 0 处" in text
    assert landed(root) == [f"{LUZHOU}/{today}/行政许可_11月.csv"]
    assert (root / "raw" / LUZHOU / today / "行政许可_11月.csv").read_bytes() == data
    history = cells(text, "history")
    assert [(h[0], h[1], h[3]) for h in history] == [(today, "行政许可_11月.csv", "待入库")]

    again = upload(luzhou, "/handin", "行政许可_11月.csv", data)
    assert again.status_code == 200 and 'id="receipt-file">行政许可_11月 (2).csv<' in again.text
    assert len(cells(luzhou.get("/handin").text, "history")) == 2

    for path in expand([root / "raw"]):
        ingest_file(path, root=root)
    after = cells(luzhou.get("/handin").text, "history")
    assert sorted(h[1] for h in after) == ["行政许可_11月 (2).csv", "行政许可_11月.csv"]
    assert [h[3:7] for h in after] == [["已入库（有错误）", "4", "4", "0"]] * 2
    # the same bytes twice are stored once; the other copy says which file it was stored from
    assert sorted(h[7] for h in after)[0] == ""
    assert re.fullmatch(
        r"与已入库文件「行政许可_11月( \(2\))?\.csv」内容相同，只入库一次",
        sorted(h[7] for h in after)[1],
    )


def test_another_unit_sees_nothing_of_the_first_and_cannot_hand_in_for_it(root, tokens):
    luzhou = client_as(root, tokens["luzhou"])
    upload(luzhou, "/handin", "行政许可_11月.csv", defective_permits())
    check = upload(luzhou, "/check", "行政许可_11月.csv", defective_permits()).text
    link = re.search(r'href="(/check/[A-Za-z0-9_-]{22}\.xlsx)"', check)
    assert link
    before = landed(root)

    market = client_as(root, tokens["market"])
    page = market.get("/handin")
    assert (
        page.status_code == 200
        and "行政许可_11月" not in page.text
        and 'id="no-history"' in page.text
    )
    assert market.get(f"/handin?unit={LUZHOU}").status_code == 403
    assert market.get(f"/download/feedback/{LUZHOU}.xlsx").status_code in (403, 404)
    assert market.get(link.group(1)).status_code in (403, 404)
    forged = upload(market, "/handin", "冒名.csv", defective_permits(), unit=LUZHOU)
    assert forged.status_code == 403
    assert landed(root) == before
    no_token = market.post("/handin", files={"file": ("x.csv", defective_permits(), "text/csv")})
    assert no_token.status_code == 403 and landed(root) == before


def test_the_office_chooses_the_unit_for_a_hand_in_and_its_history(root, tokens):
    today = office_today().isoformat()
    luzhou = client_as(root, tokens["luzhou"])
    upload(luzhou, "/handin", "行政许可_11月.csv", defective_permits())
    office = client_as(root, tokens["office"])
    page = office.get("/handin")
    assert page.status_code == 200 and 'name="unit"' in page.text and LUZHOU_NAME in page.text
    assert 'id="history"' not in page.text
    chosen = office.get(f"/handin?unit={LUZHOU}")
    assert [h[1] for h in cells(chosen.text, "history")] == ["行政许可_11月.csv"]
    missing = upload(office, "/handin", "办公室代报.csv", defective_permits())
    assert missing.status_code == 400 and "上报单位" in missing.text
    r = upload(office, "/handin", "办公室代报.csv", defective_permits(), unit=MARKET)
    assert r.status_code == 200 and f"raw/{MARKET}/{today}/办公室代报.csv" in r.text
    assert [h[1] for h in cells(r.text, "history")] == ["办公室代报.csv"]


def test_a_refused_hand_in_writes_nothing(root, tokens):
    luzhou = client_as(root, tokens["luzhou"])
    r = upload(luzhou, "/handin", "照片.xlsx", PNG)
    assert r.status_code == 422 and "不是 XLSX、XLS 或 CSV 文件" in r.text
    assert [p for p in landed(root) if not p.startswith(".handin/")] == []


def test_login_returns_to_the_check_and_hand_in_pages(root, tokens):
    c = TestClient(web.create_app(root, SECRET))
    for wanted in ("/check", "/handin", f"/handin?unit={LUZHOU}"):
        r = login(c, tokens["office"], next=wanted)
        assert r.status_code == 303 and r.headers["location"] == wanted


def test_the_nav_names_the_pages_by_role(root, tokens):
    unit = client_as(root, tokens["luzhou"]).get("/check").text
    assert re.search(r"<nav>.*本单位.*自查.*报送.*</nav>", unit, re.S)
    office = client_as(root, tokens["office"]).get("/check").text
    assert re.search(r"<nav>.*月度数据.*自查.*报送.*</nav>", office, re.S)


def test_the_header_names_the_unit_and_the_office_hands_in_for_a_chosen_unit(root, tokens):
    """Issue 21: a unit's pages are titled for the unit and name it, not its credit code (the
    account's name); the office's hand-in page speaks of the chosen unit, not 「本单位」, and
    selects no unit in 查看单位 until one is chosen."""
    unit = client_as(root, tokens["luzhou"]).get("/").text
    header = re.search(r"<header>.*</header>", unit, re.S).group(0)
    assert f'<span class="who">{LUZHOU_NAME}</span>' in header and LUZHOU not in header
    assert "信用办月度数据" not in header and "单位数据与报送" in header

    office = client_as(root, tokens["office"])
    page = office.get("/handin").text
    main = re.search(r"<main>.*</main>", page, re.S).group(0)
    assert "本单位" not in main and "为所选单位正式上报" in main

    def chosen(page: str) -> list[str]:
        view = re.search(r'<select id="unit-view".*?</select>', page, re.S)
        assert view, "no 查看单位 list"
        return re.findall(r"<option[^>]* selected>([^<]*)<", view.group(0))

    assert chosen(page) == ["请选择单位"]
    assert chosen(office.get(f"/handin?unit={LUZHOU}").text) == [LUZHOU_NAME]
    assert '<span class="who">李四（信用办）</span>' in page


def test_the_check_page_lists_at_most_its_cap_and_points_to_the_list(root, tokens, monkeypatch):
    from sgs.web import selfcheck

    monkeypatch.setattr(selfcheck, "SHOWN_PROBLEMS", 3)
    office = client_as(root, tokens["office"])  # the office checks files too
    r = upload(office, "/check", "a.csv", defective_permits())
    assert r.status_code == 200 and len(cells(r.text, "problems")) == 3
    assert "页面只列出前 3 处，其余 1 处请下载问题清单查看" in r.text
    link = re.search(r'href="(/check/[A-Za-z0-9_-]{22}\.xlsx)"', r.text)
    assert link
    book = openpyxl.load_workbook(io.BytesIO(office.get(link.group(1)).content))
    rows = list(book["问题清单"].iter_rows(values_only=True))
    assert sum(1 for row in rows if row[0] in (2, 3, 4, 5)) == 4  # all four in the list


def test_a_hand_in_when_no_check_can_run_is_kept_and_says_it_is_unchecked(root, tokens):
    """The landed file's validation takes a place in the checks' pool; a pool that takes no
    check (here: stopping, as while the server shuts down) does not refuse the hand-in."""
    luzhou = client_as(root, tokens["luzhou"])
    luzhou.app.state.checks.stop()
    r = upload(luzhou, "/handin", "行政许可_11月.csv", defective_permits())
    assert r.status_code == 200
    said = re.search(r'<p[^>]*id="receipt-validation">(.*?)</p>', r.text, re.S)
    assert said and "暂未校验" in said.group(1) and "记录" not in said.group(1)
    today = office_today().isoformat()
    assert f"{LUZHOU}/{today}/行政许可_11月.csv" in landed(root)
