"""Accounts and roles (`sgs users`, :mod:`sgs.web.accounts`): tokens made once and stored only
as salted argon2 hashes, re-keying and removal that end access at once, and what each role may
see on the download page — the office everything, a unit only itself."""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from support.rates_builders import shared_build
from support.web_login import csrf_of, login

from sgs.cli.main import main
from sgs.web import app as web

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

from test_web import _build  # the download page's store: bundled uploads plus one with an ID

SECRET = "office-shared-secret"
LUZHOU = "11140403MB6028813E"  # 长治市潞州区人民政府
LUZHOU_NAME = "长治市潞州区人民政府"
MARKET = "11140400041270234C"  # 长治市市场监督管理局
TOKEN = re.compile(r"([0-9a-f]{12})\.([A-Za-z0-9_-]{20,})")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A private copy of the web store (accounts are written into the data root)."""
    shared = shared_build(tmp_path_factory, "web_store", _build)
    own = tmp_path_factory.mktemp("accounts") / "data"
    shutil.copytree(shared, own, ignore=shutil.ignore_patterns("accounts"))
    return own


def sgs(root: Path, *args: str):
    return CliRunner().invoke(main, list(args), env={"SGS_DATA_DIR": str(root)})


def add(root: Path, *args: str) -> dict:
    r = sgs(root, "users", "add", *args, "--json")
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.fixture(scope="module")
def tokens(root) -> dict[str, str]:
    return {
        "luzhou": add(root, LUZHOU_NAME)["token"],  # by exact name
        "market": add(root, MARKET.lower())["token"],  # by code, any case
        "office": add(root, "--office", "李四")["token"],
    }


def client(root) -> TestClient:
    return TestClient(web.create_app(root, SECRET))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- the command line ---------------------------------------------------------------------


def test_add_prints_one_object_with_a_token_carrying_the_account_id(tmp_path):
    obj = add(tmp_path, LUZHOU)
    assert set(obj) == {"user", "role", "unit_code", "token"}
    assert obj["user"] == LUZHOU and obj["role"] == "unit" and obj["unit_code"] == LUZHOU
    assert TOKEN.fullmatch(obj["token"])
    office = add(tmp_path, "--office", "信用办王五")
    assert office["role"] == "office" and office["unit_code"] is None
    assert office["user"] == "信用办王五"


def test_only_a_salted_argon2_hash_is_stored_in_the_data_root(tmp_path):
    a, b = add(tmp_path, LUZHOU), add(tmp_path, MARKET)
    stored = (tmp_path / "accounts" / "accounts.json").read_text(encoding="utf-8")
    for obj in (a, b):
        assert obj["token"] not in stored and obj["token"].split(".")[1] not in stored
    hashes = re.findall(r'"hash": "([^"]+)"', stored)
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)
    salts = {h.split("$")[4] for h in hashes}
    assert len(salts) == 2
    assert (tmp_path / "accounts" / "accounts.json").stat().st_mode & 0o077 == 0


def test_list_shows_name_role_unit_and_time_never_tokens(tmp_path):
    token = add(tmp_path, LUZHOU)["token"]
    add(tmp_path, "--office", "李四")
    text = sgs(tmp_path, "users", "list")
    assert text.exit_code == 0
    assert LUZHOU in text.output and LUZHOU_NAME in text.output and "李四" in text.output
    assert "信用办" in text.output and "单位" in text.output
    assert re.search(r"20\d\d-\d\d-\d\d \d\d:\d\d", text.output)
    listed = json.loads(sgs(tmp_path, "users", "list", "--json").output)
    assert {a["user"] for a in listed} == {LUZHOU, "李四"}
    assert all(set(a) == {"user", "role", "unit_code", "created"} for a in listed)
    for out in (text.output, json.dumps(listed)):
        assert token.split(".")[1] not in out and "argon2" not in out


def test_unknown_unit_and_bad_usage_are_refused_in_chinese(tmp_path):
    r = sgs(tmp_path, "users", "add", "不存在的单位")
    assert r.exit_code == 2 and "未找到上报单位" in r.output
    r = sgs(tmp_path, "users", "add")
    assert r.exit_code == 2 and "二者选一" in r.output
    r = sgs(tmp_path, "users", "add", LUZHOU, "--office", "x")
    assert r.exit_code == 2
    r = sgs(tmp_path, "users", "add", "--office", LUZHOU)  # a code is a unit's name
    assert r.exit_code == 2 and "18 位代码" in r.output
    r = sgs(tmp_path, "users", "remove", "没有这个人")
    assert r.exit_code == 2 and "没有账户" in r.output


def test_data_dir_isolates_accounts(tmp_path):
    token = add(tmp_path / "a", LUZHOU)["token"]
    assert sgs(tmp_path / "b", "users", "list", "--json").output.strip() == "[]"
    other = TestClient(web.create_app(tmp_path / "b", SECRET))
    assert other.get("/", headers=bearer(token)).status_code == 401


# --- logging in ---------------------------------------------------------------------------


def test_a_token_is_the_login_password_and_a_bearer_token(root, tokens):
    c = client(root)
    assert c.get("/", headers=bearer(tokens["luzhou"])).status_code == 200
    r = login(c, tokens["luzhou"])
    assert r.status_code == 303
    page = c.get("/")
    assert page.status_code == 200 and LUZHOU in page.text  # the account's name is shown


def test_the_office_secret_still_works(root, tokens):
    c = client(root)
    assert login(c, SECRET).status_code == 303
    assert c.get(f"/download/feedback/{LUZHOU}.xlsx").status_code == 200


def test_a_wrong_secret_part_or_unknown_id_is_401(root, tokens):
    account_id, secret = tokens["luzhou"].split(".")
    c = client(root)
    for wrong in (f"{account_id}.{secret[:-1]}x", f"000000000000.{secret}", account_id, secret):
        assert c.get("/", headers=bearer(wrong)).status_code == 401, wrong
        assert login(c, wrong).status_code == 401


def test_rekeying_ends_the_old_token_and_its_sessions(tmp_path):
    old = add(tmp_path, LUZHOU)["token"]
    c = client(tmp_path)
    assert login(c, old).status_code == 303 and c.get("/").status_code == 200
    new = add(tmp_path, LUZHOU)["token"]
    assert new != old
    assert c.get("/").status_code == 401  # the session opened with the old token
    fresh = client(tmp_path)
    assert fresh.get("/", headers=bearer(old)).status_code == 401
    assert fresh.get("/", headers=bearer(new)).status_code == 200


def test_removing_an_account_ends_its_token_and_sessions(tmp_path):
    token = add(tmp_path, "--office", "临时")["token"]
    c = client(tmp_path)
    assert login(c, token).status_code == 303 and c.get("/").status_code == 200
    r = sgs(tmp_path, "users", "remove", "临时")
    assert r.exit_code == 0 and "已删除" in r.output
    assert c.get("/").status_code == 401
    assert client(tmp_path).get("/", headers=bearer(token)).status_code == 401


# --- what each role sees ------------------------------------------------------------------


def test_a_unit_downloads_its_own_feedback_list_only(root, tokens):
    c = client(root)
    me = bearer(tokens["luzhou"])
    own = c.get(f"/download/feedback/{LUZHOU}.xlsx", headers=me)
    assert own.status_code == 200 and own.content.startswith(b"PK")
    other = c.get(f"/download/feedback/{MARKET}.xlsx", headers=me)
    assert other.status_code in (403, 404)
    assert (
        c.get(f"/download/feedback/{MARKET}.xlsx", headers=bearer(tokens["market"])).status_code
        == 200
    )


def test_a_unit_sees_neither_the_bulletin_nor_the_data_docs(root, tokens):
    c = client(root)
    me = bearer(tokens["luzhou"])
    for path in ("/download/bulletin/2026-10.xlsx", "/download/bulletin/2026-10.pdf", "/docs/"):
        r = c.get(path, headers=me)
        assert r.status_code == 403, path
        assert "单位账户" in r.text or "仅供信用办" in r.text


def test_the_month_page_of_a_unit_holds_its_own_row_only(root, tokens):
    c = client(root)
    page = c.get("/?period=2026-10", headers=bearer(tokens["luzhou"])).text
    rows = set(re.findall(r'data-unit="([0-9A-Z]{18})"', page))
    assert rows == {LUZHOU}
    assert "/download/bulletin/" not in page
    office = c.get("/?period=2026-10", headers=bearer(tokens["office"])).text
    assert {LUZHOU, MARKET} <= set(re.findall(r'data-unit="([0-9A-Z]{18})"', office))
    assert "/download/bulletin/2026-10.xlsx" in office


# --- hardening of the session and the forms -----------------------------------------------


def test_a_5000_digit_session_cookie_is_401_not_500(root):
    c = client(root)
    r = c.get("/", headers={"Cookie": f"{web.COOKIE}={'9' * 5000}.x.y.z"})
    assert r.status_code == 401
    r = c.get("/", headers={"Cookie": f"{web.COOKIE}={'9' * 5000}"})
    assert r.status_code == 401


def test_a_login_without_the_form_token_is_403(root):
    c = client(root)
    r = c.post("/login", data={"password": SECRET}, follow_redirects=False)
    assert r.status_code == 403 and "校验码" in r.text
    assert web.COOKIE not in r.headers.get("set-cookie", "")
    csrf_of(c)  # the cookie alone, without the field, is not enough either
    r = c.post("/login", data={"password": SECRET}, follow_redirects=False)
    assert r.status_code == 403
    r = c.post("/login", data={"password": SECRET, "csrf": "A" * 43}, follow_redirects=False)
    assert r.status_code == 403


def test_logout_is_a_post_with_the_form_token(root):
    c = client(root)
    assert login(c, SECRET).status_code == 303
    assert c.get("/logout").status_code == 405
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/").status_code == 200  # still logged in
    assert c.post("/logout", data={"csrf": csrf_of(c, "/")}).status_code == 200
    assert c.get("/").status_code == 401


def test_cookies_are_secure_on_https_or_behind_a_tls_proxy_only(root, monkeypatch):
    plain = login(client(root), SECRET)
    assert "secure" not in plain.headers["set-cookie"].lower()
    https = TestClient(web.create_app(root, SECRET), base_url="https://testserver")
    assert "secure" in login(https, SECRET).headers["set-cookie"].lower()
    monkeypatch.setenv("SGS_COOKIE_SECURE", "1")
    proxied = TestClient(web.create_app(root, SECRET))
    page = proxied.get("/login")
    assert "secure" in page.headers["set-cookie"].lower()  # the CSRF cookie too


def test_a_broken_accounts_file_lets_no_account_in_but_the_office_secret(tmp_path):
    token = add(tmp_path, LUZHOU)["token"]
    (tmp_path / "accounts" / "accounts.json").write_text("{ not json", encoding="utf-8")
    c = client(tmp_path)
    assert c.get("/", headers=bearer(token)).status_code == 401
    assert c.get("/", headers=bearer(SECRET)).status_code == 200


def test_before_the_first_ingest_a_unit_gets_its_empty_feedback_list(tmp_path):
    import io

    import openpyxl

    token = add(tmp_path, LUZHOU)["token"]
    c = client(tmp_path)
    r = c.get(f"/download/feedback/{LUZHOU}.xlsx", headers=bearer(token))
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert any("待整改问题 0 处" in str(cell.value) for row in sheet.iter_rows() for cell in row)
    assert c.get(f"/download/feedback/{MARKET}.xlsx", headers=bearer(token)).status_code == 403
    assert not (tmp_path / "curated" / "sgs.duckdb").exists()  # a GET creates no store
