"""The server's limits (issue 20, items 3–5), probed against a real `sgs serve` on loopback
where the behaviour is the server's: checks in their own processes behind a bounded queue
(503 beyond it, pages answered meanwhile), a client that goes away cancelling its check,
SIGTERM and SIGKILL with checks running, forwarded headers from an untrusted peer, a huge
chunked login body — and, through the app, the smaller items: JSON 401 under /api/, no logout
button for a visitor, file-name messages, problem lists owned by the account id, .gitignore.

Checks are held with ``SGS_FAULT=check_hold`` (the check process waits instead of validating),
so that "a long check" does not depend on how fast the validator is.  Every wait is a bounded
loop with a generous limit for a busy CI machine.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import select
import signal
import socket
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from support.upload_files import permits_csv
from support.web_login import csrf_of, login, token_for
from support.web_server import SGS, free_port, wait_until_up

from sgs.config import PROJECT_ROOT, VARIABLES
from sgs.web import app as web
from sgs.web import checkpool
from sgs.web.accounts import OFFICE_SECRET_PRINCIPAL

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

SECRET = "limits-secret"
BEARER = {"Authorization": f"Bearer {SECRET}"}
LIMIT_S = 30.0  # generous: a hang fails, a slow machine does not
BOUNDARY = "sgsb0undary"


# ----------------------------------------------------------------------------- a real server


@contextmanager
def server(tmp_path: Path, **env: str) -> Iterator[tuple[subprocess.Popen, int]]:
    """`sgs serve` with its own data root and temporary folder; the process and its port."""
    (tmp_path / "tmp").mkdir(parents=True, exist_ok=True)
    full = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    full |= {"SGS_DATA_DIR": str(tmp_path / "data"), "SGS_WEB_PASSWORD": SECRET,
             "TMPDIR": str(tmp_path / "tmp"), "PREFECT_API_URL": ""} | env  # fmt: skip
    port = free_port()
    proc = subprocess.Popen([*SGS, "serve", "--port", str(port)], env=full, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        wait_until_up(port, proc)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(LIMIT_S)


def multipart(name: str, data: bytes) -> bytes:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'
    return head.encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def send_check(port: int, path: str = "/api/check", body: bytes | None = None) -> socket.socket:
    """A whole multipart request (a check by default) sent on a socket of its own, closed by
    the server after its answer; the answer is not read here."""
    body = multipart("a.csv", permits_csv(3)) if body is None else body
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {SECRET}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")  # fmt: skip
    sock = socket.create_connection(("127.0.0.1", port), timeout=LIMIT_S)
    sock.sendall(head.encode() + body)
    return sock


def ask(port: int, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=LIMIT_S)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    return r, r.read()


def check_folders(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob("sgs-check-*"))


def held(tmp_path: Path) -> dict[Path, int]:
    """The check processes now waiting (``check_hold``), by their folder."""
    found = {}
    for folder in check_folders(tmp_path):
        mark = folder / checkpool.HELD_MARK
        with suppress(OSError, ValueError):
            found[folder] = int(mark.read_text())
    return found


def until(condition, what: str, limit: float = LIMIT_S):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {limit:g} s: {what}")


def gone(pid: int) -> bool:
    return not checkpool._alive(pid)


HOLD = {"SGS_FAULT": checkpool.HOLD_FAULT, "SGS_CHECK_WORKERS": "2", "SGS_CHECK_QUEUE": "1"}


def test_checks_queue_then_503_while_pages_answer_and_a_gone_client_cancels(tmp_path):
    with server(tmp_path, **HOLD) as (proc, port):
        first, second = send_check(port), send_check(port)
        running = until(lambda: len(held(tmp_path)) == 2 and held(tmp_path), "two checks running")
        third = send_check(port)  # queued: the one place in the queue
        time.sleep(1)
        assert len(held(tmp_path)) == 2 and len(check_folders(tmp_path)) == 2  # the third waits

        r, body = ask(port, "POST", "/api/check", multipart("b.csv", b"a"),
                      {**BEARER, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})  # fmt: skip
        assert r.status == 503 and r.getheader("retry-after") == "30"
        assert json.loads(body)["error"] == {"code": "busy", "message": "系统繁忙，请稍后再试。"}
        r, body = ask(port, "POST", "/check", multipart("b.csv", b"a"),
                      {**BEARER, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})  # fmt: skip
        assert r.status == 503 and r.getheader("retry-after") == "30"
        assert "系统繁忙，请稍后再试" in body.decode()

        started = time.monotonic()  # pages never wait behind checks
        for path in ("/login", "/"):
            r, _ = ask(port, "GET", path, headers=BEARER)
            assert r.status == 200
        assert time.monotonic() - started < 5

        first.close()  # the client goes away: its check process is stopped, its folder removed
        until(lambda: sum(gone(p) for p in running.values()) == 1, "the gone client's check ends")
        # The gone check's folder may outlive its process for a moment: wait for a new pid.
        now = until(
            lambda: (h := held(tmp_path)) and set(h.values()) - set(running.values()) and h,
            "the queued check runs",
        )
        now = until(lambda: len(held(tmp_path)) == 2 and held(tmp_path), "two checks again")
        assert len(set(now.values()) - set(running.values())) == 1  # the third took its place
        assert len(check_folders(tmp_path)) == 2

        pids = set(now.values())
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)  # stops within seconds, checks killed, folders removed
        proc.wait(LIMIT_S)
        assert time.monotonic() - started < 15
        until(lambda: all(gone(p) for p in pids), "the check processes end")
        assert check_folders(tmp_path) == []
        for sock in (second, third):
            sock.close()


def test_a_killed_server_leaves_no_check_running_and_its_folder_goes_at_the_next_start(tmp_path):
    with server(tmp_path, **HOLD) as (proc, port):
        sock = send_check(port)
        (folder, pid) = until(lambda: list(held(tmp_path).items()), "a check running")[0]
        assert (folder / "file" / "upload").exists()  # the uploaded bytes
        proc.kill()
        proc.wait(LIMIT_S)
        sock.close()
    until(lambda: gone(pid), "the orphaned check ends itself")
    assert folder.exists()  # nobody was left to remove it
    with server(tmp_path) as (_, port):
        assert not folder.exists()  # removed at start
        r, _ = ask(port, "GET", "/login")
        assert r.status == 200


MARKET = "11140400041270234C"  # 长治市市场监督管理局, in the embedded registry


def hand_in_over_api(port: int) -> socket.socket:
    """``POST /api/uploads`` by the office for the market bureau, sent on a socket of its own."""
    body = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="unit"\r\n\r\n{MARKET}\r\n'
            ).encode() + multipart("许可.csv", permits_csv(3))  # fmt: skip
    return send_check(port, "/api/uploads", body)


def answer_of(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_hand_in_is_checked_in_the_pool_and_kept_when_the_pool_is_full(tmp_path):
    """The landed file's validation is a check like any other (it takes a place in the pool,
    never a request thread); with no place left the hand-in still succeeds, unchecked."""
    one = {"SGS_FAULT": checkpool.HOLD_FAULT, "SGS_CHECK_WORKERS": "1", "SGS_CHECK_QUEUE": "0"}
    with server(tmp_path, **one) as (_, port):
        first = hand_in_over_api(port)
        (folder, pid) = until(lambda: list(held(tmp_path).items()), "the hand-in's check runs")[0]
        assert not (folder / "file").exists()  # it reads the landed file, no copy

        second = hand_in_over_api(port)
        status, answer = answer_of(second)
        assert status == 201
        assert answer["validation"] is None
        assert "暂未校验" in answer["validation_message"]
        landed = tmp_path / "data" / answer["receipt"]["path"]
        assert landed.read_bytes() == permits_csv(3)
        r, _ = ask(port, "GET", "/login")
        assert r.status == 200

        first.close()  # the client leaves: its check stops, its file stays handed in
        until(lambda: gone(pid), "the left hand-in's check ends")
        r, body = ask(port, "GET", f"/api/uploads?unit={MARKET}", headers=BEARER)
        assert r.status == 200 and len(json.loads(body)["files"]) == 2
    with server(tmp_path) as (_, port):  # a free pool: the hand-in's answer has its validation
        status, answer = answer_of(hand_in_over_api(port))
        assert status == 201 and answer["validation"]["summary"]["records"] == 3
        assert "validation_message" not in answer


# ----------------------------------------------------------------------------- proxies


def wrong_tokens_each_from_another_address(port: int, n: int) -> list[int]:
    answers = []
    for i in range(n):
        headers = {"Authorization": "Bearer wrong", "X-Forwarded-For": f"203.0.113.{i + 1}"}
        answers.append(ask(port, "GET", "/", headers=headers)[0].status)
    return answers


def csrf_cookie(port: int, headers: dict) -> str:
    r, _ = ask(port, "GET", "/login", headers=headers)
    return next(v for k, v in r.getheaders() if k.lower() == "set-cookie" and "sgs_csrf" in v)


def test_forwarded_headers_count_only_from_a_trusted_proxy(tmp_path):
    https = {"X-Forwarded-Proto": "https"}
    with server(tmp_path / "plain") as (_, port):
        assert "secure" not in csrf_cookie(port, https).lower()  # before any block
        assert wrong_tokens_each_from_another_address(port, 40) == [401] * 20 + [429] * 20
    with server(tmp_path / "proxied", SGS_TRUSTED_PROXIES="127.0.0.1") as (_, port):
        assert "secure" in csrf_cookie(port, https).lower()
        assert "secure" not in csrf_cookie(port, {}).lower()
        assert wrong_tokens_each_from_another_address(port, 40) == [401] * 40


def test_the_app_takes_the_scheme_from_a_trusted_proxy_only(tmp_path, monkeypatch):
    monkeypatch.setenv("SGS_TRUSTED_PROXIES", "10.0.0.1")
    https = {"X-Forwarded-Proto": "https"}
    for peer, secure in ((("10.0.0.1", 1), True), (("10.0.0.9", 1), False)):
        c = TestClient(web.create_app(tmp_path / "data", SECRET), client=peer)
        cookie = c.get("/login", headers=https).headers["set-cookie"]
        assert ("secure" in cookie.lower()) is secure
    options = web.create_app(tmp_path / "data", SECRET).state.proxies.uvicorn_options()
    assert options == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.1/32"]}
    monkeypatch.delenv("SGS_TRUSTED_PROXIES")
    assert web.create_app(tmp_path / "data", SECRET).state.proxies.uvicorn_options() == {
        "proxy_headers": False
    }


# ----------------------------------------------------------------------------- form bodies


def test_a_huge_chunked_login_is_refused_early(tmp_path):
    with server(tmp_path) as (_, port):
        sock = socket.create_connection(("127.0.0.1", port), timeout=LIMIT_S)
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
            + f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        sent = 0
        first = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="password"\r\n\r\n'.encode()
        sock.sendall(b"%x\r\n" % len(first) + first + b"\r\n")
        try:
            while sent < 300 * 1024 * 1024:
                if select.select([sock], [], [], 0)[0]:
                    break  # the server has answered
                sock.sendall(framed)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while b"\r\n\r\n" not in answer:
            part = sock.recv(65536)
            if not part:
                break
            answer += part
        sock.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert sent < 32 * 1024 * 1024  # not the 300 MB
        spooled = [p for p in (tmp_path / "tmp").rglob("*") if p.is_file()]
        assert sum(p.stat().st_size for p in spooled) < 1024 * 1024


def test_form_bodies_are_bounded(tmp_path):
    c = TestClient(web.create_app(tmp_path / "data", SECRET))
    token = csrf_of(c)
    big = {"password": "x" * 70_000, "csrf": token}
    r = c.post("/login", data=big)
    assert r.status_code == 413 and "表单内容过大" in r.text and "退出登录" not in r.text
    r = c.post("/logout", data={"csrf": token, "pad": "x" * 70_000}, headers=BEARER)
    assert r.status_code == 413
    r = c.post("/login", data={"csrf": token}, files={"password": ("p.txt", b"secret")})
    assert r.status_code == 400 and "退出登录" not in r.text  # no file parts, no logout button
    assert login(c, SECRET).status_code == 303  # the ordinary form still works


# ----------------------------------------------------------------------------- the smaller items


def test_the_api_answers_401_in_json(tmp_path):
    c = TestClient(web.create_app(tmp_path / "data", SECRET))
    for method, path in (("GET", "/api/uploads"), ("POST", "/api/check"), ("GET", "/api/nope")):
        r = c.request(method, path, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401 and r.headers["content-type"] == "application/json"
        assert r.json()["error"]["code"] == "unauthorized" and r.json()["error"]["message"]
    r = c.get("/")
    assert r.status_code == 401 and "text/html" in r.headers["content-type"]


def raw_upload(c: TestClient, path: str, disposition: str, data: bytes = b"a,b\r\n1,2\r\n"):
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n".encode()
            + data + f"\r\n--{BOUNDARY}--\r\n".encode())  # fmt: skip
    headers = {**BEARER, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    return c.post(path, content=body, headers=headers)


def test_a_file_name_the_form_cannot_carry_is_named_as_the_problem(tmp_path):
    c = TestClient(web.create_app(tmp_path / "data", SECRET))
    long = 'name="file"; filename="' + "长" * 5000 + '.csv"'
    star = "name=\"file\"; filename*=UTF-8''%E8%A1%8C%E6%94%BF.csv"
    for path in ("/api/check", "/api/uploads"):
        r = raw_upload(c, path, long)
        assert r.status_code == 400 and r.json()["error"]["code"] == "name_too_long"
        assert "文件名过长" in r.json()["error"]["message"]
        for data in (b"a,b\r\n", b"x" * 5000):
            r = raw_upload(c, path, star, data)
            assert r.status_code == 400 and r.json()["error"]["code"] == "filename_star"
            assert "filename*" in r.json()["error"]["message"]
    r = raw_upload(c, "/check", long)
    assert r.status_code == 400 and "文件名过长" in r.text and "只上传一个文件" not in r.text


def test_a_problem_list_belongs_to_the_account_not_to_its_name(tmp_path):
    from support.unit_files import defective_permits

    root = tmp_path / "data"
    same_name = token_for(root, "--office", OFFICE_SECRET_PRINCIPAL.name)  # "信用办"
    shared = TestClient(web.create_app(root, SECRET))
    assert login(shared, SECRET).status_code == 303
    form = {"csrf": csrf_of(shared, "/check")}
    r = shared.post("/check", data=form, files={"file": ("a.csv", defective_permits(), "text/csv")})
    link = re.search(r'href="(/check/[A-Za-z0-9_-]{22}\.xlsx)"', r.text)
    assert r.status_code == 200 and link
    assert shared.get(link.group(1)).status_code == 200
    namesake = TestClient(web.create_app(root, SECRET))
    assert login(namesake, same_name).status_code == 303
    assert namesake.get(link.group(1)).status_code == 404


def test_accounts_and_handed_in_files_are_ignored_and_the_samples_stay_tracked():
    def ignored(path: str) -> bool:
        r = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=PROJECT_ROOT,
                           check=False)  # fmt: skip
        assert r.returncode in (0, 1)
        return r.returncode == 0

    tracked = subprocess.run(["git", "ls-files", "-z", "data/raw"], cwd=PROJECT_ROOT, check=True,
                             capture_output=True).stdout.decode().split("\0")  # fmt: skip
    tracked = [p for p in tracked if p]
    assert len(tracked) > 1 and "data/raw/README.md" in tracked
    assert [p for p in tracked if ignored(p)] == []  # a new sample must be listed in .gitignore
    for path in ("data/accounts/accounts.json", "data/accounts/.lock",
                 "data/raw/11140403MB6028813E/2099-01-05/行政许可.csv",
                 "data/raw/11140403MB6028813E/2026-11-04/新文件.csv",
                 "data/raw/99999999999999999X/2099-01-05/a.xlsx"):  # fmt: skip
        assert ignored(path), path


def test_the_new_variables_are_listed():
    assert {"SGS_CHECK_WORKERS", "SGS_CHECK_QUEUE"} <= set(VARIABLES)
    guide = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "`SGS_CHECK_WORKERS`" in guide and "`SGS_CHECK_QUEUE`" in guide


def test_a_long_tmpdir_does_not_stop_the_server(tmp_path):
    """The forkserver's socket lives in a temporary folder and an AF_UNIX path holds 107 bytes:
    under a TMPDIR of 150 characters the server still starts, checks a file, and leaves no
    check folder behind (CI's test folders once made every server here exit at start)."""
    deep = tmp_path / ("很深的临时目录-" + "t" * 120)
    deep.mkdir()
    assert len(str(deep)) > 150
    with server(tmp_path, TMPDIR=str(deep)) as (_, port):
        body = multipart("a.csv", permits_csv(3))
        headers = BEARER | {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        response, data = ask(port, "POST", "/api/check", body, headers)
        assert response.status == 200, data[:500]
        assert json.loads(data)["summary"]["records"] == 3
        until(lambda: not list(deep.glob("sgs-check-*")), "the check folder removed")
