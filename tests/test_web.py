"""The download page (`sgs serve`, :mod:`sgs.web.app`) through starlette's TestClient: access on
every route, the month page, the downloads and every way of asking for a file that is not one."""

from __future__ import annotations

import asyncio
import fcntl
import io
import re
import shutil
import subprocess
import time
import warnings
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner
from support.rates_builders import shared_build
from support.web_login import csrf_of, login

from sgs.clock import office_today
from sgs.config import PROJECT_ROOT
from sgs.intake.landing import expand
from sgs.measure.points import monthly_points
from sgs.measure.rates import rates, unit_rates
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store import database
from sgs.store.ingest import ingest_file
from sgs.web import app as web
from sgs.web import auth, views

with warnings.catch_warnings():  # starlette asks for httpx2, which the lock file does not have
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

SECRET = "correct-horse-battery"
UNIT_A = "111404000448224608"  # 长治市行政审批服务管理局 (gets the upload with a bad ID number)
LUZHOU = "11140403MB6028813E"  # 长治市潞州区人民政府
BAD_ID = "14040420021125797X"  # wrong check character: an id_check error showing the number
MASKED_ID = "140404********797X"
AS_OF = date(2026, 11, 28)


def _build(root: Path) -> None:
    """The bundled landing zone plus one upload whose only error shows a person's ID number."""
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    sample = generate("permit", 20, seed=3, unit=UNIT_A, start=date(2026, 11, 2),
                      end=date(2026, 11, 10))  # fmt: skip
    person = sample.frame.filter(pl.col("XK_XDR_LB") == "自然人").head(1)
    person = person.with_columns(pl.lit(BAD_ID).alias("XK_XDR_ZJHM"))
    write_upload(person, root / "raw" / UNIT_A / "2026-11-12" / "自然人许可.csv")
    for path in expand([root / "raw"]):
        ingest_file(path, root=root)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return shared_build(tmp_path_factory, "web_store", _build)


@pytest.fixture
def anon(root) -> TestClient:
    return TestClient(web.create_app(root, SECRET))


@pytest.fixture
def client(root) -> TestClient:
    """Logged in through the form, as a person would be."""
    c = TestClient(web.create_app(root, SECRET))
    r = login(c, SECRET)
    assert r.status_code == 303
    return c


BEARER = {"Authorization": f"Bearer {SECRET}"}
PROTECTED = [
    "/",
    "/?period=2026-10",
    "/download/bulletin/2026-10.xlsx",
    "/download/bulletin/2026-10.pdf",
    f"/download/feedback/{UNIT_A}.xlsx",
    "/download/bulletin/..%2F..%2Fetc%2Fpasswd",
    "/download/nothing",
    "/no-such-page",
    "/static/style.css",
]
TRAVERSALS = [
    "/download/bulletin/..%2F..%2Fetc%2Fpasswd",
    "/download/bulletin/..%2f..%2f..%2fcurated%2fsgs.duckdb",
    "/download/bulletin/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/download/%2e%2e/%2e%2e/etc/passwd",
    "/download/bulletin/%2e%2e/%2e%2e/etc/passwd",
    "/download/bulletin/..%5C..%5Cetc%5Cpasswd",
    "/download/bulletin/..\\..\\etc\\passwd",
    "/download/bulletin/%2Fetc%2Fpasswd",
    "/download/bulletin/2026-10.xlsx%00.txt",
    "/download/bulletin/2026-10.xlsx%2F..%2F..%2Fsgs.duckdb",
    "/download/feedback/..%2F..%2Fcurated%2Fsgs.duckdb",
    f"/download/feedback/{UNIT_A}.xlsx%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/download/feedback/%2e%2e%2f%2e%2e%2fconfig%2funits.csv",
    "/download/curated/sgs.duckdb",
    "/download/bulletin/",
    "/download/bulletin/2026-10.xlsx/",
    "/download/bulletin/2026-10.XLSX",
    "/download/bulletin/2026-10.PDF",
    "/download/bulletin/2026-10.pdf%00.xlsx",
    "/download/bulletin/2026-10.pdf/",
    "/download/bulletin/2026-10.xlsx.pdf",
    "/download/bulletin/２０２６-10.xlsx",
    "/download/bulletin/٢٠٢٦-10.xlsx",
    f"/download/feedback/{LUZHOU.lower()}.xlsx",
    "/download/feedback/长治市行政审批服务管理局.xlsx",
    "//etc/passwd",
    "/web_templates/base.html",
]
RAW_TRAVERSALS = [  # literal dot segments, as a raw HTTP client could send them
    "/download/../../etc/passwd",
    "/download/bulletin/../../../etc/passwd",
    "/download/bulletin/..",
    "/../../../../etc/passwd",
    "/download/./bulletin/2026-10.xlsx",
]


def raw_get(app, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Call the ASGI app with ``path`` exactly as given (HTTP clients normalise ``..``)."""
    sent: list[dict] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }  # fmt: skip

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


def assert_security_headers(response) -> None:
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def session_cookie(response) -> str:
    header = response.headers["set-cookie"]
    assert header.startswith(f"{web.COOKIE}=")
    return header


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", PROTECTED)
def test_every_route_is_401_without_credentials(anon, path, method):
    r = anon.request(method, path)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert 'name="password"' in r.text and "请登录" in r.text
    assert_security_headers(r)


@pytest.mark.parametrize("path", RAW_TRAVERSALS)
def test_raw_paths_are_401_without_credentials(root, path):
    status, body = raw_get(web.create_app(root, SECRET), path)
    assert status == 401 and b"root:" not in body


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {SECRET}"},
        {"Authorization": SECRET},
        {"Authorization": f"Bearer {SECRET}x"},
        {"Cookie": f"{web.COOKIE}=forged"},
        {"Cookie": f"{web.COOKIE}=9999999999.nonce.{'0' * 64}"},
        {"Cookie": f"{web.COOKIE}={SECRET}"},
    ],
)
def test_wrong_credentials_are_401(anon, headers):
    assert anon.get("/", headers=headers).status_code == 401


def test_bearer_token_opens_pages_and_downloads(anon):
    assert anon.get("/", headers=BEARER).status_code == 200
    r = anon.get("/download/bulletin/2026-10.xlsx", headers=BEARER)
    assert r.status_code == 200 and r.content.startswith(b"PK")


def test_login_sets_a_strict_http_only_cookie(anon):
    r = login(anon, SECRET)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = session_cookie(r).lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert SECRET.lower() not in cookie
    assert anon.get("/").status_code == 200


def test_a_chinese_password_works_in_the_form_and_as_utf8_bearer(root):
    c = TestClient(web.create_app(root, "信用办口令2026"))
    utf8 = {"Authorization": b"Bearer " + "信用办口令2026".encode()}
    assert c.get("/", headers=utf8).status_code == 200  # type: ignore[dict-item]
    assert login(c, "信用办口令").status_code == 401
    r = c.post("/login", data={"password": "信用办口令2026", "csrf": csrf_of(c)})
    assert r.status_code == 200


def test_wrong_password_is_401_with_the_form_again(anon):
    r = login(anon, "guess")
    assert r.status_code == 401 and "口令不正确" in r.text and "set-cookie" not in r.headers
    assert anon.post("/login", data={}).status_code == 401
    assert anon.get("/").status_code == 401


def test_login_returns_only_to_local_pages(anon):
    """More cases, the Data Docs among them, in test_web_docs.py."""
    for nxt, expected in [
        ("/?period=2026-10", "/?period=2026-10"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/download/bulletin/2026-10.xlsx", "/download/bulletin/2026-10.xlsx"),
        ("/\\evil.example", "/"),
    ]:
        r = login(anon, SECRET, next=nxt)
        assert r.headers["location"] == expected


def test_the_401_page_remembers_the_month_asked_for(anon):
    assert 'value="/?period=2026-10"' in anon.get("/?period=2026-10").text


def test_logout_ends_the_session_on_the_server_too(client):
    stolen = client.cookies.get(web.COOKIE)
    assert client.get("/").status_code == 200
    assert client.get("/logout").status_code == 405  # no link or image can log anyone out
    r = client.post("/logout", data={"csrf": csrf_of(client, "/")})
    assert r.status_code == 200 and "已退出登录" in r.text
    assert client.get("/").status_code == 401
    replay = TestClient(client.app)
    assert replay.get("/", headers={"Cookie": f"{web.COOKIE}={stolen}"}).status_code == 401


def test_an_expired_session_is_401(root, monkeypatch):
    app = web.create_app(root, SECRET)
    value = app.state.auth.issue()
    assert app.state.auth.session_ok(value)
    monkeypatch.setattr(auth.time, "time", lambda: time.time_ns() / 1e9 + web.SESSION_SECONDS + 5)
    assert not app.state.auth.session_ok(value)


def test_a_session_of_another_start_is_401(root):
    value = web.create_app(root, SECRET).state.auth.issue()
    again = TestClient(web.create_app(root, SECRET))
    assert again.get("/", headers={"Cookie": f"{web.COOKIE}={value}"}).status_code == 401


def test_no_secret_no_app(root, monkeypatch):
    monkeypatch.delenv(web.PASSWORD_ENV, raising=False)
    with pytest.raises(ValueError, match="口令"):
        web.create_app(root)
    with pytest.raises(ValueError):
        web.create_app(root, "   ")
    monkeypatch.setenv(web.PASSWORD_ENV, "from-env")
    c = TestClient(web.create_app(root))
    assert c.get("/", headers={"Authorization": "Bearer from-env"}).status_code == 200


# --- the month page -----------------------------------------------------------------------


def test_month_page_opens_on_the_latest_month(client):
    r = client.get("/")
    assert r.status_code == 200
    assert '<option value="2026-11" selected>' in r.text
    assert '<option value="2026-10">' in r.text and '<option value="2026-09">' not in r.text
    assert "/download/bulletin/2026-11.xlsx" in r.text
    assert_security_headers(r)


def _row_cells(html: str, unit_code: str) -> list[str]:
    row = re.search(rf'<tr data-unit="{unit_code}">(.*?)</tr>', html, re.S)
    assert row, unit_code
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)]  # fmt: skip


def test_month_page_table_chart_and_links(client):
    r = client.get("/?period=2026-10")
    html = r.text
    assert r.status_code == 200 and "<script" not in html.lower()
    assert "县区" in html and "市直部门" in html and "<svg" in html
    cells = _row_cells(html, LUZHOU)
    # 潞州区, 2026-10: 15 permits (10 timely, all compliant), no penalties; its ledger lists 26
    # of its own entries (24 found) and the 8 October penalties of its department 潞州区市场监督
    # 管理局 (uploaded on 11-02, all found): 32 of 34 → 94.1%, item 8 9.41 (was 9.23 alone).
    assert cells[:7] == ["1", "长治市潞州区人民政府", "15", "0", "66.7%", "100.0%", "94.1%"]
    assert cells[-2] == "56.08"
    assert f'href="/download/feedback/{LUZHOU}.xlsx"' in html
    assert 'href="/download/bulletin/2026-10.xlsx"' in html
    assert 'href="/download/bulletin/2026-10.pdf"' in html  # the print version beside it
    # a unit with nothing to measure shows "—", never 0%
    assert _row_cells(html, "111404000720078935")[4:7] == ["—", "—", "—"]


def test_unit_rates_agree_with_points_items(root):
    """The page's per-unit rates are the ones points items 6–8 score (10 × rate)."""
    with database.reader(root) as con:
        for period in ("2026-10", "2026-11"):
            mine = unit_rates(rates(con, period))
            points = monthly_points(con, period, AS_OF).join(mine, on="unit_code")
            for row in points.filter(~pl.col("zero_report")).iter_rows(named=True):
                for item, rate in (("item_6", "timeliness_rate"), ("item_7", "compliance_rate"),
                                   ("item_8", "completeness_rate")):  # fmt: skip
                    expected = None if row[rate] is None else round(10 * row[rate], 2)
                    assert row[item] == expected, (period, row["unit_code"], item)


@pytest.mark.parametrize(
    "period",
    [
        "2026-13",
        "2026-00",
        "2026-1",
        "26-10",
        "abc",
        "2026-10x",
        " 2026-10 x",
        "２０２６-10",
        "٢٠٢٦-10",
        "2026-10/../..",
        "2026-10' OR 1=1",
        "<script>x</script>",
    ],
)
def test_a_bad_month_is_400_in_chinese(client, period):
    r = client.get("/", params={"period": period})
    assert r.status_code == 400
    assert "月份格式不正确" in r.text and '<select id="period"' in r.text
    assert "<script>x" not in r.text


def test_a_month_without_data_says_so(client):
    r = client.get("/?period=2020-01")
    assert r.status_code == 200 and "2020-01 没有上报文件或台账数据" in r.text
    assert 'id="units"' not in r.text


def test_an_empty_data_root_shows_no_data_and_creates_no_store(tmp_path):
    c = TestClient(web.create_app(tmp_path, SECRET))
    r = c.get("/", headers=BEARER)
    assert r.status_code == 200 and "暂无数据" in r.text
    assert c.get("/download/bulletin/2026-10.xlsx", headers=BEARER).status_code == 404
    assert list(tmp_path.iterdir()) == []
    # A unit's feedback list is then an empty list (nothing reported yet), and still no store.
    r = c.get(f"/download/feedback/{UNIT_A}.xlsx", headers=BEARER)
    assert r.status_code == 200 and r.content.startswith(b"PK")
    assert not database.db_path(tmp_path).exists()


def test_a_broken_events_file_still_shows_the_rates(client, tmp_path, monkeypatch):
    events = tmp_path / "events.csv"
    events.write_text("unit,type,date,due,count,note\n长治市潞州区人民政府,飞行,2026-10-01,,,\n")
    monkeypatch.setenv("SGS_EVENTS_FILE", str(events))
    r = client.get("/?period=2026-10")
    assert r.status_code == 200 and "积分无法计算" in r.text
    assert _row_cells(r.text, LUZHOU)[4] == "66.7%"
    r = client.get("/download/bulletin/2026-10.xlsx")
    assert r.status_code == 500 and "事件文件有误" in r.text and not r.content.startswith(b"PK")


def test_a_store_held_by_a_writer_is_503(root, tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(root / "curated", copy / "curated", ignore=shutil.ignore_patterns("web"))
    monkeypatch.setattr(views, "READ_TIMEOUT_S", 0.2)
    c = TestClient(web.create_app(copy, SECRET))
    with database.db_path(copy).with_suffix(".lock").open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = c.get("/", headers=BEARER)
    assert r.status_code == 503 and "数据正在更新" in r.text


def test_an_unexpected_failure_is_a_chinese_500(root, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(web, "month_view", boom)
    c = TestClient(web.create_app(root, SECRET), raise_server_exceptions=False)
    r = c.get("/", headers=BEARER)
    assert r.status_code == 500 and "服务器内部错误" in r.text and "secret detail" not in r.text
    assert_security_headers(r)


def test_other_methods_are_405(client):
    r = client.post("/")
    assert r.status_code == 405 and "不支持的请求方式" in r.text and r.headers["allow"]


# --- downloads ----------------------------------------------------------------------------


def _filename(response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert re.search(r'filename="[\x20-\x7e]+"', disposition)  # an ASCII name for old clients
    return unquote(disposition.split("filename*=UTF-8''")[1])


def _cells(data: bytes) -> list[list[object]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for ws in book.worksheets for row in ws.iter_rows(values_only=True)]


def test_bulletin_download_opens_and_holds_the_rates(client, root):
    r = client.get("/download/bulletin/2026-10.xlsx")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert _filename(r) == "月通报_2026-10.xlsx"
    assert_security_headers(r)
    rows = _cells(r.content)
    assert any(isinstance(c, str) and "2026-10" in c for row in rows for c in row)
    luzhou = [row for row in rows if "长治市潞州区人民政府" in row]
    assert luzhou, "the unit is in the bulletin"
    numbers = [c for row in luzhou for c in row if isinstance(c, float)]
    assert any(abs(n - 10 / 15) < 1e-3 or abs(n - 100 * 10 / 15) < 0.05 for n in numbers)


def test_bulletin_of_a_month_without_data_is_404(client):
    for suffix in ("xlsx", "pdf"):
        r = client.get(f"/download/bulletin/2020-01.{suffix}")
        assert r.status_code == 404 and "没有上报文件或台账数据" in r.text


def test_bulletin_pdf_download_is_the_printed_bulletin(client, root, tmp_path):
    r = client.get("/download/bulletin/2026-10.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert _filename(r) == "月通报_2026-10.pdf"
    assert 'filename="bulletin-2026-10.pdf"' in r.headers["content-disposition"]
    assert_security_headers(r)
    assert r.content.startswith(b"%PDF-")
    saved = tmp_path / "bulletin-download.pdf"
    saved.write_bytes(r.content)
    text = subprocess.run(["pdftotext", "-layout", str(saved), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "2026年10月双公示工作月通报" in text and "长治市潞州区人民政府" in text
    assert BAD_ID not in text  # the person's ID number never in full
    assert (root / "curated" / "web" / "月通报_2026-10.pdf").exists()


@pytest.mark.parametrize("name", ["2026-13.pdf", "2026-00.pdf", "2026-13.xlsx"])
def test_bulletin_of_a_malformed_month_is_400_in_chinese(client, name):
    r = client.get(f"/download/bulletin/{name}")
    assert r.status_code == 400 and "月份格式不正确" in r.text
    assert "content-disposition" not in r.headers and not r.content.startswith(b"%PDF")


def test_feedback_download_masks_id_numbers(client, root):
    r = client.get(f"/download/feedback/{UNIT_A}.xlsx")
    assert r.status_code == 200
    assert _filename(r) == f"反馈清单_长治市行政审批服务管理局_{office_today().isoformat()}.xlsx"
    text = [str(c) for row in _cells(r.content) for c in row if c is not None]
    assert any("长治市行政审批服务管理局" in t for t in text)
    assert MASKED_ID in text
    assert not any(BAD_ID in t for t in text)
    assert BAD_ID.encode() not in r.content
    assert (root / "curated" / "web" / f"反馈清单_{UNIT_A}.xlsx").exists()


def test_feedback_of_a_unit_without_problems_is_an_empty_list(client):
    r = client.get("/download/feedback/111404000720078935.xlsx")
    assert r.status_code == 200 and _cells(r.content)


def test_feedback_of_an_unknown_unit_is_404(client):
    r = client.get("/download/feedback/91140400MA0000000X.xlsx")
    assert r.status_code == 404 and "单位清单中没有" in r.text


@pytest.mark.parametrize("path", TRAVERSALS)
def test_traversal_attempts_never_get_a_file(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404), (path, r.status_code)
    assert "content-disposition" not in r.headers
    assert b"root:" not in r.content and not r.content.startswith(b"PK")


@pytest.mark.parametrize("path", RAW_TRAVERSALS)
def test_raw_dot_segments_never_get_a_file(root, path):
    status, body = raw_get(web.create_app(root, SECRET), path, BEARER)
    assert status in (400, 404), (path, status)
    assert b"root:" not in body and not body.startswith(b"PK")


# --- sgs serve ----------------------------------------------------------------------------


def _serve(monkeypatch, root: Path, env_secret: str | None):
    """Run ``sgs serve`` with uvicorn replaced: what it prints and the app it would serve."""
    import uvicorn

    from sgs.cli.main import main

    served = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    monkeypatch.setenv("SGS_DATA_DIR", str(root))
    if env_secret is None:
        monkeypatch.delenv(web.PASSWORD_ENV, raising=False)
    else:
        monkeypatch.setenv(web.PASSWORD_ENV, env_secret)
    result = CliRunner().invoke(main, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    return result.output, served


def test_serve_without_a_password_generates_and_prints_a_token(monkeypatch, root):
    output, served = _serve(monkeypatch, root, None)
    token = re.search(r"访问口令（本次启动随机生成）：(\S+)", output)[1]
    assert len(token) >= 20
    assert served["host"] == "127.0.0.1" and served["port"] == 8123
    c = TestClient(served["app"])
    assert c.get("/").status_code == 401
    assert c.get("/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_serve_uses_the_configured_password(monkeypatch, root):
    output, served = _serve(monkeypatch, root, "office-secret")
    assert "office-secret" not in output and web.PASSWORD_ENV in output
    c = TestClient(served["app"])
    assert c.get("/", headers={"Authorization": "Bearer office-secret"}).status_code == 200
