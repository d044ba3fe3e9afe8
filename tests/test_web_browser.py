"""The download page in a real browser: `sgs serve` as a subprocess over a store built with
`sgs ingest` from the bundled landing zone, driven by Playwright with Debian's Chromium.

Screenshots go to the test's temporary folder; with ``SGS_WEB_SCREENSHOTS=<dir>`` they are
also copied there (``docs/img`` holds the README's copies).
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs
from support.rates_builders import shared_build
from support.web_layout import layout_problems, shows_only_the_bad_month_error
from support.web_server import chromium, need_chromium, serving, shot

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_web_browser")

SECRET = "browser-test-secret"
PERIOD = "2026-10"
UNIT = "长治市潞州区人民政府"


def _raw_status(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """GET ``path`` byte for byte (a browser would resolve ``..`` before sending)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _expected_rates(env: dict[str, str]) -> dict[str, str]:
    """The unit's month rates, both kinds together, worked out from `sgs rates --json`."""
    out = warm_sgs.run(["rates", "--period", PERIOD, "--json"], env=env, check=True).stdout
    mine = [r for r in json.loads(out) if r["unit_name"] == UNIT]
    up = sum(r["uploaded"] for r in mine) - sum(r["timeliness_undecided"] for r in mine)
    timely, compliant = sum(r["timely"] for r in mine), sum(r["compliant"] for r in mine)
    entries, matched = (
        sum(r["ledger_entries"] for r in mine),
        sum(r["ledger_matched"] for r in mine),
    )
    return {
        "timeliness": f"{100 * timely / up:.1f}%",
        "compliance": f"{100 * compliant / sum(r['uploaded'] for r in mine):.1f}%",
        "completeness": f"{100 * matched / entries:.1f}%",
        "permit_timeliness": timely / up,
    }


def _ingest_samples(data: Path) -> None:
    """The bundled landing zone, ingested by the command line (built once per test session)."""
    shutil.copytree(PROJECT_ROOT / "data" / "raw", data / "raw")
    env = {**os.environ, "SGS_DATA_DIR": str(data)}
    warm_sgs.run(["ingest", str(data / "raw")], env=env, check=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A data root with the sample uploads ingested, and `sgs serve` on a free port (one per
    pytest-xdist worker, over the one data root)."""
    need_chromium()
    data = shared_build(tmp_path_factory, "web_browser_data", _ingest_samples)
    env = {**os.environ, "SGS_DATA_DIR": str(data), "SGS_WEB_PASSWORD": SECRET}
    expected = _expected_rates(env)
    with serving(env) as port:
        yield {
            "base": f"http://127.0.0.1:{port}",
            "port": port,
            "expected": expected,
            "data": str(data),
        }


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_log_in_choose_a_month_see_the_table_and_download(server, browser, tmp_path):
    base, expected = server["base"], server["expected"]
    context = browser.new_context(accept_downloads=True, viewport={"width": 1440, "height": 900})
    page = context.new_page()

    response = page.goto(base + "/")
    assert response is not None and response.status == 401
    assert page.locator("h1").inner_text() == "请登录"
    shot(page, tmp_path, "web-login.png")

    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    assert page.locator(".error").inner_text() == "口令不正确，请重新输入。"
    page.fill("#password", SECRET)
    page.click("button[type=submit]")
    page.wait_for_selector("#period")

    page.select_option("#period", PERIOD)
    page.click("#show")
    page.wait_for_url(f"**/?period={PERIOD}")
    row = page.locator("#units tr", has_text=UNIT)
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == UNIT
    assert cells[4:7] == [expected["timeliness"], expected["compliance"], expected["completeness"]]
    assert page.locator("svg.chart-desk > title").text_content() == "各单位及时率、合规率、完整率"
    assert page.locator(f'svg.chart-desk text:text-is("{UNIT}")').count() == 1
    assert page.locator("svg.chart-desk").is_visible()
    assert not page.locator("svg.chart-phone").is_visible()
    shot(page, tmp_path, "web-month.png")

    with page.expect_download() as info:
        page.click(f"text=下载 {PERIOD} 月通报（XLSX）")
    download = info.value
    assert download.suggested_filename == f"月通报_{PERIOD}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    rows = [list(r) for ws in book.worksheets for r in ws.iter_rows(values_only=True)]
    numbers = [c for r in rows if UNIT in r for c in r if isinstance(c, float)]
    share = expected["permit_timeliness"]
    assert any(abs(n - share) < 1e-3 or abs(n - 100 * share) < 0.05 for n in numbers), numbers

    with page.expect_download() as info:
        row.locator("a", has_text="下载").click()
    assert info.value.suggested_filename.startswith(f"反馈清单_{UNIT}_")
    info.value.save_as(tmp_path / "feedback.xlsx")
    assert openpyxl.load_workbook(tmp_path / "feedback.xlsx").active["A1"].value.startswith(UNIT)

    page.click("text=退出登录")
    assert page.locator("text=已退出登录。").is_visible()
    again = page.goto(base + f"/?period={PERIOD}")
    assert again is not None and again.status == 401
    context.close()


def test_without_the_password_everything_is_refused(server, browser):
    base = server["base"]
    context = browser.new_context()
    page = context.new_page()
    for path in ["/", f"/?period={PERIOD}", f"/download/bulletin/{PERIOD}.xlsx",
                 "/download/feedback/11140403MB6028813E.xlsx"]:  # fmt: skip
        response = page.goto(base + path)
        assert response is not None and response.status == 401, path
        assert page.locator("#password").is_visible()
    api = context.request.get(base + f"/download/bulletin/{PERIOD}.xlsx")
    assert api.status == 401 and not api.body().startswith(b"PK")
    status, _ = _raw_status(server["port"], "/download/../../etc/passwd", {})
    assert status == 401
    context.close()


def test_path_traversal_is_refused(server, browser):
    base, port = server["base"], server["port"]
    bearer = {"Authorization": f"Bearer {SECRET}"}
    context = browser.new_context(extra_http_headers=bearer)
    ok = context.request.get(base + f"/download/bulletin/{PERIOD}.xlsx")
    assert ok.status == 200 and ok.body().startswith(b"PK")  # the credentials do work
    for path in ["/download/bulletin/..%2F..%2Fetc%2Fpasswd",
                 "/download/bulletin/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                 "/download/feedback/..%5C..%5Ccurated%5Csgs.duckdb"]:  # fmt: skip
        r = context.request.get(base + path)
        assert r.status in (400, 404) and b"root:" not in r.body(), path
    for path in ["/download/../../etc/passwd", "/download/bulletin/../../../etc/passwd",
                 "/download/bulletin/..%2F..%2Fcurated%2Fsgs.duckdb"]:  # fmt: skip
        status, body = _raw_status(port, path, bearer)
        assert status in (400, 404) and b"root:" not in body, path
    context.close()


def test_on_a_phone_the_chart_scales_and_the_table_scrolls_in_its_box(server, browser, tmp_path):
    """390 px wide (a common phone): nothing is cut off and the page never scrolls sideways."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
        extra_http_headers={"Authorization": f"Bearer {SECRET}"},
    )  # fmt: skip
    page = context.new_page()
    page.goto(server["base"] + f"/?period={PERIOD}")
    page.wait_for_selector("#units")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    chart, box = page.locator("svg.chart-phone"), page.locator(".chart")
    assert chart.is_visible() and not page.locator("svg.chart-desk").is_visible()
    drawn, inside = chart.bounding_box(), box.bounding_box()
    assert drawn and inside
    assert (
        inside["x"] <= drawn["x"] and drawn["x"] + drawn["width"] <= inside["x"] + inside["width"]
    )
    name = chart.locator(f'text:text-is("{UNIT}")')
    label = name.bounding_box()
    assert label and label["x"] >= 0 and label["x"] + label["width"] <= 390
    assert label["height"] >= 10  # scaled, but still legible (13 px text, not 5 px)

    wide = page.locator(".wide")
    frame = wide.bounding_box()
    assert frame and frame["x"] >= 0 and frame["x"] + frame["width"] <= 390
    assert wide.evaluate("e => e.scrollWidth > e.clientWidth")  # the table scrolls in its box
    last = page.locator("#units thead th", has_text="反馈清单")
    wide.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    shown = last.bounding_box()
    assert shown and shown["x"] + shown["width"] <= 390 + 1
    shot(page, tmp_path, "web-phone.png")
    context.close()


def test_a_long_calendar_warning_wraps_on_a_narrow_phone(server, browser, tmp_path):
    """The calendar horizon warning names a file by its path; on a 320/360 px phone that path
    wraps inside its card and nothing but the wide table's box is wider than the screen (a
    path alone once made the page 425 px wide on the CI machine)."""
    folder = tmp_path / ("节假日文件夹-" + "很长的路径名称" * 6)
    folder.mkdir()
    data = Path(server["data"])
    env = {**os.environ, "SGS_DATA_DIR": str(data), "SGS_WEB_PASSWORD": SECRET,
           "SGS_TODAY": "2026-12-07", "SGS_HOLIDAYS_DIR": str(folder)}  # fmt: skip
    with serving(env) as port:
        for width in (320, 360):
            context = browser.new_context(
                viewport={"width": width, "height": 800}, is_mobile=True, has_touch=True,
                extra_http_headers={"Authorization": f"Bearer {SECRET}"},
            )  # fmt: skip
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/?period={PERIOD}")
            warning = page.locator("#calendar-horizon")
            assert str(folder / "2027.toml") in warning.inner_text().replace("\n", "")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
            too_wide = page.evaluate(
                """() => [...document.querySelectorAll('main *')]
                     .filter(e => !e.closest('.wide') && e.scrollWidth > e.clientWidth + 1
                                  && getComputedStyle(e).display !== 'inline')
                     .map(e => e.tagName + ' ' + (e.id || e.className))"""
            )
            assert too_wide == [], (width, too_wide)
            context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_the_month_page_fits_the_screen_and_a_bad_month_shows_only_its_error(
    server, browser, tmp_path, width
):
    """Issue 21: at a desk the whole table fits its box (反馈清单 was cut by 7 px at 1280), on a
    phone it scrolls in its box; no header or nav link breaks inside a word (错误认/领, and the
    nav one character per line on a phone).  A malformed month is a 400 page with the error and
    the month picker, without any month's figures."""
    phone = width < 640
    context = browser.new_context(
        viewport={"width": width, "height": 900}, is_mobile=phone, has_touch=phone,
        extra_http_headers={"Authorization": f"Bearer {SECRET}"},
    )  # fmt: skip
    page = context.new_page()
    page.goto(server["base"] + f"/?period={PERIOD}")
    page.wait_for_selector("#units")
    broken = layout_problems(page, tables_may_scroll=phone)
    assert not broken, "\n".join(broken)
    assert page.locator("#units thead th.item", has_text="错误").inner_text().split() == [
        "9", "错误", "认领"
    ]  # fmt: skip
    if not phone:
        last, box = page.locator("#units thead th", has_text="反馈清单"), page.locator(".wide")
        shown, frame = last.bounding_box(), box.bounding_box()
        assert shown and frame and shown["x"] + shown["width"] <= frame["x"] + frame["width"]
    shot(page, tmp_path, f"web-month-{width}.png")

    shows_only_the_bad_month_error(page, server["base"], "#units, .chart, #as-of-form")
    broken = layout_problems(page, tables_may_scroll=phone)
    assert not broken, "\n".join(broken)
    context.close()
