"""The units' API (issue 12, items 2 and 4): `POST /api/check` validates without storing,
`POST /api/uploads` hands a file in with a receipt, `GET /api/uploads` lists a unit's hand-ins
with their outcome — through the real app, real accounts (`sgs users add`) and bearer tokens
or a logged-in browser session; then the real `sgs ingest`."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

import pytest
from support import warm_sgs
from support.upload_files import codes, csv_bytes, permits_csv, records, table
from support.web_login import csrf_of, login, token_for

from sgs.web import app as web
from sgs.web import checkpool

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

SECRET = "office-shared-secret"
LUZHOU = "11140403MB6028813E"  # 长治市潞州区人民政府
MARKET = "11140400041270234C"  # 长治市市场监督管理局
MARKET_NAME = "长治市市场监督管理局"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


# every column of a permit but its 文书号 (XK_WSH), which the standard requires
MISSING_COLUMNS = csv_bytes(
    table("permit", records("permit", 2), columns=[c for c in codes("permit") if c != "XK_WSH"])
)


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    """A fresh data root; temporary files of this test in a folder of its own."""
    # The checks' forkserver first: multiprocessing keeps its socket in the temporary folder
    # current when it starts, which is not one of the checks' files.
    checkpool.warm_up()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.delenv("SGS_UPLOAD_MAX_MB", raising=False)
    return tmp_path / "data"


@pytest.fixture
def tokens(root) -> dict[str, str]:
    return {"luzhou": token_for(root, LUZHOU), "market": token_for(root, MARKET),
            "office": token_for(root, "--office", "李四")}  # fmt: skip


@pytest.fixture
def client(root) -> TestClient:
    return TestClient(web.create_app(root, SECRET))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def files(name: str, data: bytes) -> dict:
    return {"file": (name, data, "application/octet-stream")}


def landed(root: Path) -> list[str]:
    raw = root / "raw"
    if not raw.exists():
        return []
    return sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if p.is_file())


def cli_validate(tmp_path: Path, name: str, data: bytes) -> dict:
    """The object `sgs validate --json` prints for the same bytes under the same name."""
    folder = tmp_path / "cli"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    r = warm_sgs.run(["validate", name, "--json"], cwd=folder, env=env)
    return json.loads(r.stdout)


# ----------------------------------------------------------------------------- check


def test_check_answers_the_validate_object_and_stores_nothing(root, tokens, client, tmp_path):
    data = permits_csv(3, broken=2)
    r = client.post("/api/check", files=files("行政许可_10月.csv", data), headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    got = r.json()
    assert got["file"] == "行政许可_10月.csv"
    assert got["summary"]["errors"] == 2 and got["summary"]["records"] == 3
    assert {e["row"] for e in got["errors"] if e["severity"] == "error"} == {2, 3}
    expected = cli_validate(tmp_path, "行政许可_10月.csv", data)
    assert got == {**expected, "file": "行政许可_10月.csv"}  # the CLI's object, key for key
    assert list(got) == list(expected)
    assert landed(root) == [] and not (root / "curated").exists()
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary copy is gone


def test_check_refuses_with_the_refused_object(root, tokens, client, tmp_path):
    office = bearer(tokens["office"])
    r = client.post("/api/check", files=files("缺列.csv", MISSING_COLUMNS), headers=office)
    assert r.status_code == 422
    obj = r.json()
    assert obj == cli_validate(tmp_path, "缺列.csv", MISSING_COLUMNS) | {"file": "缺列.csv"}
    assert obj["refused"]["code"] == "missing_columns" and obj["errors"] == []
    r = client.post("/api/check", files=files("../../照片.png", PNG), headers=office)
    assert r.status_code == 422
    assert r.json()["file"] == "照片.png" and r.json()["refused"]["code"] == "unreadable"
    assert "照片.png" in r.json()["refused"]["message"]
    assert landed(root) == [] and list((tmp_path / "tmp").iterdir()) == []


def test_a_request_without_a_file_is_400(tokens, client):
    r = client.post("/api/check", data={"x": "1"}, files={"other": ("a.csv", b"a")}, headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert r.status_code == 400 and r.json()["error"]["code"] == "no_file"
    r = client.post("/api/check", content=b"{}", headers=bearer(tokens["luzhou"]))
    assert r.status_code == 400 and "multipart/form-data" in r.json()["error"]["message"]


# ----------------------------------------------------------------------------- hand-in


def test_a_unit_hands_in_and_gets_a_receipt(root, tokens, client):
    from sgs.clock import office_today

    data = permits_csv(3, broken=1)
    r = client.post("/api/uploads", files=files("行政许可.csv", data), headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert r.status_code == 201, r.text
    receipt, validation = r.json()["receipt"], r.json()["validation"]
    today = office_today().isoformat()
    assert receipt == {
        "file": "行政许可.csv", "sha256": hashlib.sha256(data).hexdigest(), "received": today,
        "unit_code": LUZHOU, "path": f"raw/{LUZHOU}/{today}/行政许可.csv",
    }  # fmt: skip
    assert (root / receipt["path"]).read_bytes() == data
    assert validation["file"] == "行政许可.csv" and validation["summary"]["errors"] == 1
    assert validation["received"] == today
    again = client.post("/api/uploads", files=files("行政许可.csv", data), headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert again.status_code == 201
    assert again.json()["receipt"]["file"] == "行政许可 (2).csv"
    assert landed(root) == [f"{LUZHOU}/{today}/行政许可 (2).csv", f"{LUZHOU}/{today}/行政许可.csv"]
    # naming its own unit is fine
    own = client.post("/api/uploads", data={"unit": LUZHOU}, files=files("b.csv", data), headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert own.status_code == 201 and own.json()["receipt"]["unit_code"] == LUZHOU


def test_the_office_names_the_unit(root, tokens, client):
    office = bearer(tokens["office"])
    r = client.post("/api/uploads", data={"unit": MARKET_NAME}, files=files("处罚.csv", permits_csv()), headers=office)  # fmt: skip
    assert r.status_code == 201 and r.json()["receipt"]["unit_code"] == MARKET
    r = client.post("/api/uploads", files=files("处罚.csv", permits_csv()), headers=office)
    assert r.status_code == 400 and "unit" in r.json()["error"]["message"]
    r = client.post("/api/uploads", data={"unit": "不存在的单位"}, files=files("处罚.csv", permits_csv()), headers=office)  # fmt: skip
    assert r.status_code == 422 and "未找到上报单位" in r.json()["error"]["message"]
    r = client.post("/api/uploads", data={"unit": "../.."}, files=files("处罚.csv", permits_csv()), headers=office)  # fmt: skip
    assert r.status_code == 422
    assert [p.split("/")[0] for p in landed(root)] == [MARKET]


def test_a_unit_cannot_hand_in_for_another(root, tokens, client):
    r = client.post("/api/uploads", data={"unit": MARKET}, files=files("a.csv", permits_csv()), headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert r.status_code == 403 and r.json()["error"]["code"] == "other_unit"
    assert landed(root) == []


def test_a_file_that_is_no_table_is_refused_and_a_refused_table_is_kept(root, tokens, client):
    unit = bearer(tokens["luzhou"])
    r = client.post("/api/uploads", files=files("行政许可.xlsx", PNG), headers=unit)
    assert r.status_code == 422 and r.json()["refused"]["code"] == "unreadable"
    assert landed(root) == []
    r = client.post("/api/uploads", files=files("缺列.csv", MISSING_COLUMNS), headers=unit)
    assert r.status_code == 201  # bad input is never lost: ingest quarantines it
    assert r.json()["validation"]["refused"]["code"] == "missing_columns"
    assert (root / r.json()["receipt"]["path"]).read_bytes() == MISSING_COLUMNS


# ----------------------------------------------------------------------------- limits and order


def test_over_the_limit_is_413_before_403_and_nothing_is_written(root, tokens, client, monkeypatch):
    monkeypatch.setenv("SGS_UPLOAD_MAX_MB", "1")
    big = permits_csv(3) + b"\r\n" * (1024 * 1024)  # a little over 1 MB
    unit = bearer(tokens["luzhou"])
    for path, data in (
        ("/api/uploads", {}),
        ("/api/uploads", {"unit": MARKET}),
        ("/api/check", {}),
    ):
        r = client.post(path, data=data, files=files("大.csv", big), headers=unit)
        assert r.status_code == 413, (path, data, r.text)
        assert "1 MB" in r.json()["error"]["message"]

    def chunks():  # no Content-Length: counted as it streams
        boundary = b"--b0undary"
        yield (
            boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        )
        for _ in range(40):
            yield b"x" * 65536
        yield b"\r\n" + boundary + b"--\r\n"

    r = client.post("/api/uploads", content=chunks(),
                    headers={**unit, "Content-Type": "multipart/form-data; boundary=b0undary"})  # fmt: skip
    assert r.status_code == 413
    assert landed(root) == []
    # exactly at the limit passes
    at_limit = permits_csv(3)
    at_limit += b" " * (1024 * 1024 - len(at_limit))
    r = client.post("/api/uploads", files=files("正好.csv", at_limit), headers=unit)
    assert r.status_code == 201, r.text


def test_without_credentials_is_401_and_nothing_is_written(root, tokens, client):
    for headers in ({}, bearer("0123456789ab.wrong"), bearer(SECRET + "x")):
        for path in ("/api/check", "/api/uploads"):
            r = client.post(path, files=files("a.csv", permits_csv()), headers=headers)
            assert r.status_code == 401
        assert client.get("/api/uploads", headers=headers).status_code == 401
    assert landed(root) == []


def test_a_browser_session_needs_the_form_token(root, tokens, client):
    assert login(client, tokens["luzhou"]).status_code == 303
    r = client.post("/api/uploads", files=files("a.csv", permits_csv()))
    assert r.status_code == 403 and landed(root) == []
    token = csrf_of(client, "/")
    r = client.post("/api/uploads", data={"csrf": token}, files=files("a.csv", permits_csv()))
    assert r.status_code == 201 and r.json()["receipt"]["unit_code"] == LUZHOU


# ----------------------------------------------------------------------------- history


def ingest(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    run = warm_sgs.run(["ingest", str(root / "raw")], env={**env, "SGS_DATA_DIR": str(root)})
    assert run.returncode in (0, 1), run.stderr


def test_each_unit_sees_its_own_hand_ins_with_their_outcome(root, tokens, client):
    luzhou, market, office = (bearer(tokens[k]) for k in ("luzhou", "market", "office"))
    client.post("/api/uploads", files=files("错.csv", permits_csv(4, broken=2)), headers=luzhou)
    client.post("/api/uploads", files=files("缺列.csv", MISSING_COLUMNS), headers=luzhou)
    client.post("/api/uploads", files=files("市监.csv", permits_csv(2)), headers=market)

    mine = client.get("/api/uploads", headers=luzhou).json()
    assert mine["unit_code"] == LUZHOU and mine["unit_name"] == "长治市潞州区人民政府"
    assert sorted((f["file"], f["outcome"]) for f in mine["files"]) == [("缺列.csv", "pending"), ("错.csv", "pending")]  # fmt: skip
    theirs = client.get("/api/uploads", headers=market).json()
    assert [f["file"] for f in theirs["files"]] == ["市监.csv"]
    r = client.get("/api/uploads", params={"unit": LUZHOU}, headers=market)
    assert r.status_code == 403
    assert client.get("/api/uploads", headers=office).status_code == 400
    seen = client.get(
        "/api/uploads", params={"unit": "长治市潞州区人民政府"}, headers=office
    ).json()
    assert seen["files"] == mine["files"]

    ingest(root)
    after = {f["file"]: f for f in client.get("/api/uploads", headers=luzhou).json()["files"]}
    assert (after["错.csv"]["outcome"], after["错.csv"]["errors"], after["错.csv"]["rows"]) == ("stored_with_errors", 2, 4)  # fmt: skip
    assert after["缺列.csv"]["outcome"] == "quarantined"
    assert after["缺列.csv"]["reason"] == "missing_columns" and after["缺列.csv"]["message"]


def test_the_daily_run_takes_a_hand_ins_check_instead_of_checking_it_again(
    root, tokens, client, tmp_path, monkeypatch
):
    """The hand-in's check is kept (bytes, unit, kind, received date, rules); ingest of that
    arrival takes it, and stores exactly what checking the file afresh stores."""
    from support.rates_builders import store_content

    from sgs.intake import classify
    from sgs.intake.landing import survey
    from sgs.store import ingest as store

    r = client.post("/api/uploads", files=files("错.csv", permits_csv(4, broken=2)),
                    headers=bearer(tokens["luzhou"]))  # fmt: skip
    assert r.status_code == 201 and r.json()["validation"]["summary"]["errors"] == 2
    assert len(list((root / "checked").glob("*/meta.json"))) == 1
    assert landed(root) == [r.json()["receipt"]["path"].removeprefix("raw/")]  # raw/ untouched
    fresh = tmp_path / "fresh"
    for f in survey([root / "raw"]).files:  # the same arrival in a store without kept checks
        target = fresh / f.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.read_bytes())
    read: list[str] = []
    real = classify.read_file
    monkeypatch.setattr(classify, "read_file", lambda p, k=None: read.append(p.name) or real(p, k))
    (result,) = [r for _, r in store.ingest_files(survey([root / "raw"]).files, root=root)]
    assert read == [] and (result.status, result.rows_failing, result.errors) == ("stored", 2, 2)
    (again,) = [r for _, r in store.ingest_files(survey([fresh / "raw"]).files, root=fresh)]
    assert read == ["错.csv"] and again.message == result.message
    assert store_content(root) == store_content(fresh)
    # Other rules in force (a setting changed): the kept check is not the verdict any more.
    monkeypatch.setenv("SGS_DEADLINE_WORKDAYS", "9")
    other = root.parent / "other"
    for f in survey([root / "raw"]).files:
        target = other / f.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.read_bytes())
    (other / "checked").symlink_to(root / "checked")
    list(store.ingest_files(survey([other / "raw"]).files, root=other))
    assert read == ["错.csv", "错.csv"]
