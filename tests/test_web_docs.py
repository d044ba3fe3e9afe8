"""The Data Docs behind the download page's login (`/docs/`, `/docs/batch/<id>`), and the
login that returns to the page first asked for — through starlette's TestClient over a data
root the daily functions checked and documented (see ``support/docs_builders.py``)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
from support.docs_builders import checked_landing_zone
from support.rates_builders import shared_build
from support.web_login import login

from sgs.reference.settings import public_url
from sgs.web import app as web

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_web_docs")

with warnings.catch_warnings():  # starlette asks for httpx2, which the lock file does not have
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

SECRET = "docs-secret"
BEARER = {"Authorization": f"Bearer {SECRET}"}
MARKET = "11140400041270234C"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return shared_build(tmp_path_factory, "web_docs_store", checked_landing_zone)


@pytest.fixture(scope="module")
def docs(root) -> Path:
    return root / "curated" / "data_docs"


@pytest.fixture
def anon(root) -> TestClient:
    return TestClient(web.create_app(root, SECRET))


@pytest.fixture
def client(anon) -> TestClient:
    r = login(anon, SECRET)
    assert r.status_code == 303
    return anon


def _batch_ids(docs: Path) -> list[int]:
    ids = sorted(int(m[1]) for p in docs.iterdir() if (m := re.fullmatch(r"batch_(\d+)\.html", p.name)))  # fmt: skip
    assert len(ids) >= 5, ids  # the bundled uploads (ledgers are not checked)
    return ids


# --- the pages ----------------------------------------------------------------------------


def _served(on_disk: str) -> str:
    """A page as it should be served: the links between pages become the routes, and the link
    back to the month page (the public_url's, on disk) the app's `/`."""
    routed = re.sub(r'href="batch_(\d+)\.html"', r'href="/docs/batch/\1"', on_disk)
    routed = routed.replace('href="index.html"', 'href="/docs/"')
    month = f'<a id="month-page" href="{public_url("/")}">返回月度数据</a>'
    assert routed.count(month) == 1
    return routed.replace(month, '<a id="month-page" href="/">返回月度数据</a>')


def test_the_index_is_the_file_on_disk_with_links_to_the_routes(client, docs):
    r = client.get("/docs/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    on_disk = (docs / "index.html").read_text(encoding="utf-8")
    assert r.text == _served(on_disk)
    assert r.text != on_disk  # the links were relative on disk
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert r.headers["cache-control"] == "no-store"


def test_every_batch_page_is_served_as_written(client, docs):
    for batch_id in _batch_ids(docs):
        r = client.get(f"/docs/batch/{batch_id}")
        assert r.status_code == 200, batch_id
        on_disk = (docs / f"batch_{batch_id}.html").read_text(encoding="utf-8")
        assert r.text == _served(on_disk)
        assert f"批次 {batch_id}：" in r.text


def test_every_link_of_the_served_pages_answers(client, docs):
    index = client.get("/docs/").text
    links = re.findall(r'href="([^"]+)"', index)
    assert links[0] == "/"  # back to the month page
    assert links[1:] and all(link.startswith("/docs/batch/") for link in links[1:])
    for link in links[1:]:
        page = client.get(link)
        assert page.status_code == 200, link
        for target in re.findall(r'href="([^"#][^"]*)"', page.text):
            assert target in ("/", "/docs/"), target
            assert client.get(target).status_code == 200


def test_the_link_back_leads_to_the_month_page(client, docs):
    """Issue 21: from the Data Docs back to the month page of the web app, as served."""
    for path in ["/docs/", f"/docs/batch/{_batch_ids(docs)[0]}"]:
        page = client.get(path).text
        assert '<a id="month-page" href="/">返回月度数据</a>' in page, path
    month = client.get("/")
    assert month.status_code == 200 and "<h1>月度三率与积分</h1>" in month.text


def test_an_unreadable_date_reads_as_such_on_the_served_page(client, docs):
    """The bundled 行政许可_2026年10月.xlsx has 有效期至 「2026.10.07」 on row 3 of Sheet1."""
    pages = {i: client.get(f"/docs/batch/{i}").text for i in _batch_ids(docs)}
    page = next(text for text in pages.values() if "行政许可_2026年10月.xlsx" in text)
    assert "工作表「Sheet1」第 3 行：无法解析（原值「2026.10.07」）" in page
    assert "有效期至必填" in page
    text = re.sub(r"<[^>]+>", " ", page)
    assert not re.search(r"\b(?:NaN|NaT|None)\b|T00:00:00", text)


@pytest.mark.parametrize(
    "path",
    [
        "/docs/batch/0",
        "/docs/batch/007",
        "/docs/batch/-1",
        "/docs/batch/+1",
        "/docs/batch/1.html",
        "/docs/batch/1/",
        "/docs/batch/",
        "/docs/batch/999999",
        "/docs/batch/99999999999999999999999",
        "/docs/batch/１",
        "/docs/batch/٣",
        "/docs/batch/..%2F..%2Fsgs.duckdb",
        "/docs/batch/%2e%2e%2f%2e%2e%2fsgs.duckdb",
        "/docs/batch_1.html",
        "/docs/index.html",
        "/docs",
        "/docs/data_docs/index.html",
        "/docs/..%2Fsgs.duckdb",
        "/docs/batch/1%00",
    ],
)
def test_anything_else_under_docs_is_404(client, path):
    r = client.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert "<h1>" in r.text and "batch_" not in r.text


def test_a_file_put_beside_the_pages_is_never_served(client, docs):
    """Only names the writer gives its pages are looked up: a planted file is not reachable,
    not even one named like a page with a leading zero."""
    planted = [docs / "secret.html", docs / "batch_0123.html"]
    try:
        for p in planted:
            p.write_text("<p>planted</p>", encoding="utf-8")
        for path in ("/docs/secret.html", "/docs/batch/0123", "/docs/batch/123"):
            r = client.get(path)
            assert r.status_code == 404 and "planted" not in r.text, path
    finally:
        for p in planted:
            p.unlink()


def test_no_data_docs_yet_is_a_chinese_404_and_creates_nothing(tmp_path):
    c = TestClient(web.create_app(tmp_path, SECRET))
    r = c.get("/docs/", headers=BEARER)
    assert r.status_code == 404 and "尚未生成数据质量检查报告" in r.text
    assert c.get("/docs/batch/1", headers=BEARER).status_code == 404
    assert list(tmp_path.iterdir()) == []


# --- behind the login ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/docs/", "/docs/batch/1", "/docs/batch/x", "/docs"])
def test_the_docs_need_the_login(anon, path):
    r = anon.get(path)
    assert r.status_code == 401 and 'name="password"' in r.text
    assert "批次" not in r.text


def test_after_login_the_user_lands_on_the_docs_page_asked_for(anon, docs):
    batch_id = _batch_ids(docs)[0]
    asked = f"/docs/batch/{batch_id}"
    form = anon.get(asked)
    assert form.status_code == 401
    assert f'name="next" value="{asked}"' in form.text
    r = login(anon, SECRET, next=asked)
    assert r.status_code == 303 and r.headers["location"] == asked
    assert anon.get(r.headers["location"]).status_code == 200


@pytest.mark.parametrize(
    ("wanted", "lands"),
    [
        ("/", "/"),
        ("/?period=2026-10", "/?period=2026-10"),
        ("/docs/", "/docs/"),
        ("/docs/batch/7", "/docs/batch/7"),
        ("/download/bulletin/2026-10.xlsx", "/download/bulletin/2026-10.xlsx"),
        ("/download/bulletin/2026-10.pdf", "/download/bulletin/2026-10.pdf"),
        (f"/download/feedback/{MARKET}.xlsx", f"/download/feedback/{MARKET}.xlsx"),
        # open redirects and anything not a page of the app: the start page
        ("https://evil.example/", "/"),
        ("http:evil.example", "/"),
        ("//evil.example/", "/"),
        ("///evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/docs/batch/7/../../../evil", "/"),
        ("/docs/batch/7?next=https://evil.example", "/"),
        ("/docs/batch/7#@evil.example", "/"),
        ("/docs/\r\nLocation: https://evil.example", "/"),
        (" /docs/", "/"),
        ("/docs/batch/７", "/"),
        ("/%2F%2Fevil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login", "/"),
        ("/logout", "/"),
        ("/no-such-page", "/"),
        ("", "/"),
    ],
)
def test_login_returns_only_to_a_page_of_the_app(anon, wanted, lands):
    r = login(anon, SECRET, next=wanted)
    assert r.status_code == 303
    assert r.headers["location"] == lands
