"""The units' pages in a real browser (issue 12, acceptance): `sgs serve` as a subprocess over
a data root of its own, accounts made with `sgs users add --json`, Playwright with Debian's
Chromium.

As a unit: log in with its token, check a file with known defects, read the problems and the
suggestions (hand-worked, :mod:`support.unit_files`), download the problem list, hand the
file in and see the receipt with the SHA-256 worked out here.  As another unit: none of it
is visible.  As the office: all of it is.

Screenshots go to the test's temporary folder; with ``SGS_WEB_SCREENSHOTS=<dir>`` they are
also copied there.
"""

from __future__ import annotations

import hashlib
import json
import os

import openpyxl
import pytest
from support import warm_sgs
from support.unit_files import BAD_ID, DEFECTS, FIXED_ID, FIXED_USCC, defective_permits
from support.upload_files import records, table, write_csv
from support.web_layout import UNBROKEN, layout_problems, shows_only_the_bad_month_error
from support.web_server import chromium, need_chromium, serving, shot

from sgs.clock import office_today

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_web_units_browser")

SECRET = "units-browser-secret"
LUZHOU, LUZHOU_NAME = "11140403MB6028813E", "长治市潞州区人民政府"
MARKET, MARKET_NAME = "11140400041270234C", "长治市市场监督管理局"
FILE = "行政许可_12月.csv"


def _sgs(env: dict[str, str], *args: str) -> str:
    return warm_sgs.run([*args], env=env, check=True).stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A data root with one ingested file per unit (received 2026-11-02), three accounts and
    `sgs serve` over it."""
    need_chromium()
    data = tmp_path_factory.mktemp("units_site")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SGS_", "PREFECT_API"))}
    env |= {"SGS_DATA_DIR": str(data), "SGS_WEB_PASSWORD": SECRET}
    first = data / "raw" / LUZHOU / "2026-11-02" / "行政许可_11月.csv"
    first.parent.mkdir(parents=True)
    first.write_bytes(defective_permits("gb18030"))  # other bytes than the hand-in's
    (data / "raw" / MARKET / "2026-11-02").mkdir(parents=True)
    write_csv(data / "raw" / MARKET / "2026-11-02" / "处罚.csv", table("penalty", records("penalty", 2)))  # fmt: skip
    _sgs(env, "ingest", str(data / "raw"))
    accounts = {"luzhou": [LUZHOU], "market": [MARKET], "office": ["--office", "李四"]}
    tokens = {
        name: json.loads(_sgs(env, "users", "add", *args, "--json"))["token"]
        for name, args in accounts.items()
    }
    with serving(env) as port:
        yield {"base": f"http://127.0.0.1:{port}", "tokens": tokens, "data": data}


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _log_in(browser, base: str, token: str, path: str = "/"):
    context = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 900})
    page = context.new_page()
    response = page.goto(base + path)
    assert response is not None and response.status == 401
    page.fill("#password", token)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def _rows(page, selector: str) -> list[list[str]]:
    return [r.locator("td").all_inner_texts() for r in page.locator(f"{selector} tbody tr").all()]


def test_a_unit_checks_a_file_hands_it_in_and_only_it_and_the_office_see_it(
    site, browser, tmp_path
):
    base, tokens = site["base"], site["tokens"]
    data = defective_permits()
    upload = tmp_path / FILE
    upload.write_bytes(data)
    today = office_today().isoformat()

    # --- unit A: its start page, the self-check, the problem list, the hand-in
    context, page = _log_in(browser, base, tokens["luzhou"])
    assert page.locator("#unit-name").inner_text() == LUZHOU_NAME
    assert page.locator("#problems tbody tr").count() == 4  # the ingested file's problems
    assert set(page.locator("#problems tbody tr td:first-child").all_inner_texts()) == {
        "2026-11-09"
    }
    shot(page, tmp_path, "web-unit-home.png")

    page.click("nav >> text=自查")
    page.wait_for_url("**/check")
    page.set_input_files("#file", str(upload))
    page.click("#check")
    page.wait_for_selector("#problems")
    problems = _rows(page, "#problems")
    assert [(p[0], p[1], p[5], p[6]) for p in problems] == [
        (f"第 {row} 行", name, value, fix) for row, name, value, fix in DEFECTS
    ]
    assert "校验码错误" in problems[1][4]
    text = page.locator("main").inner_text()
    assert BAD_ID not in text and FIXED_ID not in text
    shot(page, tmp_path, "web-check.png")

    with page.expect_download() as info:
        page.click("#download")
    assert info.value.suggested_filename == "问题清单_行政许可_12月.xlsx"
    info.value.save_as(tmp_path / "problems.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "problems.xlsx")["问题清单"]
    cells = [c for row in sheet.iter_rows(values_only=True) for c in row]
    assert "修改建议" in cells and FIXED_USCC in cells and FIXED_ID not in cells
    check_url = page.locator("#download").get_attribute("href")
    assert check_url and check_url.startswith("/check/")
    assert not (site["data"] / "raw" / LUZHOU / today).exists()  # checking stored nothing

    page.click("nav >> text=报送")
    page.wait_for_url("**/handin")
    page.set_input_files("#file", str(upload))
    page.click("#handin")
    page.wait_for_selector("#receipt")
    assert page.locator("#receipt-sha256").inner_text() == hashlib.sha256(data).hexdigest()
    assert page.locator("#receipt-file").inner_text() == FILE
    assert page.locator("#receipt-received").inner_text() == today
    assert page.locator("#receipt-path").inner_text() == f"raw/{LUZHOU}/{today}/{FILE}"
    assert (site["data"] / "raw" / LUZHOU / today / FILE).read_bytes() == data
    history = _rows(page, "#history")
    assert history[0][:2] == [today, FILE] and history[0][3] == "待入库"
    assert _rows(page, "#history")[1][:2] == ["2026-11-02", "行政许可_11月.csv"]
    shot(page, tmp_path, "web-handin.png")
    context.close()

    # --- unit B: none of A's files, lists or checks
    context, page = _log_in(browser, base, tokens["market"])
    assert page.locator("#unit-name").inner_text() == MARKET_NAME
    assert LUZHOU_NAME not in page.locator("main").inner_text()
    page.goto(base + "/handin")
    assert FILE not in page.locator("main").inner_text()
    for path in [f"/handin?unit={LUZHOU}", f"/download/feedback/{LUZHOU}.xlsx", check_url]:
        r = context.request.get(base + path)
        assert r.status in (403, 404), path
        assert not r.body().startswith(b"PK")
    context.close()

    # --- the office: A's hand-in, A's row, A's feedback list
    context, page = _log_in(browser, base, tokens["office"])
    page.goto(base + f"/handin?unit={LUZHOU}")
    assert FILE in [r[1] for r in _rows(page, "#history")]
    page.goto(base + "/?period=2026-11")
    row = page.locator(f'#units tr[data-unit="{LUZHOU}"]')
    assert row.count() == 1 and page.locator(f'#units tr[data-unit="{MARKET}"]').count() == 1
    with page.expect_download() as info:
        row.locator("a", has_text="下载").click()
    info.value.save_as(tmp_path / "feedback.xlsx")
    title = openpyxl.load_workbook(tmp_path / "feedback.xlsx").active["A1"].value
    assert title.startswith(LUZHOU_NAME)
    assert context.request.get(base + check_url).status == 404  # A's check is A's alone
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_units_pages_fit_the_screen_and_name_the_unit(site, browser, tmp_path, width):
    """Issue 21, at a desk and on a phone: a unit's start page is titled for the unit and names
    it (not its credit code) at the top; its 状态/类别 cells and every header keep their words
    whole; a malformed month shows the error and the picker without any month's figures.  The
    office's hand-in page speaks of the chosen unit, not 「本单位」, and its 查看单位 list
    selects no unit until one is chosen."""
    phone = width < 640

    def open_as(name: str):
        context = browser.new_context(
            viewport={"width": width, "height": 900}, is_mobile=phone, has_touch=phone,
            extra_http_headers={"Authorization": f"Bearer {site['tokens'][name]}"},
        )  # fmt: skip
        return context, context.new_page()

    def fits(page) -> None:
        broken = layout_problems(page, tables_may_scroll=phone, unbroken=f"{UNBROKEN}, .one-line")
        assert not broken, "\n".join(broken)

    context, page = open_as("luzhou")
    page.goto(site["base"] + "/")
    page.wait_for_selector("#problems")
    header = page.locator("header").inner_text()
    assert LUZHOU_NAME in header and LUZHOU not in header and "信用办" not in header
    heads = page.locator("#problems thead th").all_inner_texts()
    for column in ("状态", "类别"):
        cells = page.locator(f"#problems tbody td:nth-child({heads.index(column) + 1})")
        assert cells.count() > 0
        cells.evaluate_all("cells => cells.forEach(c => c.classList.add('one-line'))")
    assert "已逾期" in page.locator("#problems tbody").inner_text()
    fits(page)
    shot(page, tmp_path, f"web-unit-home-{width}.png")

    shows_only_the_bad_month_error(page, site["base"], "#own, #items, #problems, #no-problems")
    fits(page)
    context.close()

    context, page = open_as("office")
    page.goto(site["base"] + "/handin")
    assert "本单位" not in page.locator("main").inner_text()
    chosen = page.locator("#unit-view option:checked")
    assert chosen.get_attribute("value") == "" and chosen.inner_text() == "请选择单位"
    fits(page)
    page.select_option("#unit-view", LUZHOU)
    page.click("#show-unit")
    page.wait_for_selector("#history")
    assert page.locator("#unit-view option:checked").inner_text() == LUZHOU_NAME
    assert f"{LUZHOU_NAME} · 报送记录" in page.locator("main").inner_text()
    fits(page)
    shot(page, tmp_path, f"web-office-handin-{width}.png")
    context.close()
