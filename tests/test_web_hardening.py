"""Probing the download page's defences (issue 12, item 6) as an attacker would: guessing
passwords and tokens until throttled, spoofing ``X-Forwarded-For``, forms without their CSRF
token, the order of the answers; and that no lock makes one user wait for another's download.

The 5,000-digit cookie and the cookie flags are probed in ``test_accounts.py``.  The 413 of a
too-large upload (between 401 and 403 in the order) belongs with the uploads' tests.
"""

from __future__ import annotations

import fcntl
import io
import threading
import warnings
from pathlib import Path

import openpyxl
import pytest
from support.rates_builders import shared_build
from support.web_login import csrf_of, login

from sgs.store import database
from sgs.web import app as web
from sgs.web.throttle import BLOCK_S, MAX_CLIENTS, MAX_FAILURES, WINDOW_S, Throttle

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

from test_web import _build  # the download page's store: bundled uploads plus one with an ID

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_web_hardening")

SECRET = "hardening-secret"
WRONG = {"Authorization": "Bearer not-the-secret"}
RIGHT = {"Authorization": f"Bearer {SECRET}"}
ATTACKER = ("10.0.0.5", 40000)
BYSTANDER = ("10.0.0.6", 40000)
PROXY = ("10.0.0.1", 40000)
JOIN_S = 60.0  # generous: a deadlock fails, a slow machine does not


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return shared_build(tmp_path_factory, "web_store", _build)


class Clock:
    """A clock the test moves by hand (the throttle's ``now``)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def app_with_clock(root: Path) -> tuple[object, Clock]:
    clock = Clock()
    return web.create_app(root, SECRET, throttle=Throttle(now=clock)), clock


def guess_tokens(c: TestClient, n: int, headers: dict[str, str] | None = None) -> list[int]:
    return [c.get("/", headers={**WRONG, **(headers or {})}).status_code for _ in range(n)]


# --- throttling -----------------------------------------------------------------------------


def test_forty_wrong_tokens_meet_429_and_then_even_the_right_one_does(root):
    assert MAX_FAILURES == 20  # the numbers the README states
    app = web.create_app(root, SECRET)
    attacker = TestClient(app, client=ATTACKER)
    assert guess_tokens(attacker, 40) == [401] * 20 + [429] * 20
    r = attacker.get("/", headers=RIGHT)
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= BLOCK_S
    assert "尝试次数过多" in r.text and "分钟后再试" in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'none'")
    assert "退出" not in r.text  # no logout form on the 429 page
    # every request from the blocked address, even the login form and a public path
    assert attacker.get("/login").status_code == 429
    assert attacker.post("/logout", headers=RIGHT).status_code == 429
    # another address of the same server is not held up
    bystander = TestClient(app, client=BYSTANDER)
    assert bystander.get("/", headers=WRONG).status_code == 401
    assert bystander.get("/", headers=RIGHT).status_code == 200


def test_wrong_passwords_on_the_form_meet_429_too(root):
    app = web.create_app(root, SECRET)
    attacker = TestClient(app, client=ATTACKER)
    token = csrf_of(attacker)
    answers = [
        attacker.post("/login", data={"password": f"guess{i}", "csrf": token}).status_code
        for i in range(40)
    ]
    assert answers == [401] * 20 + [429] * 20
    r = attacker.post("/login", data={"password": SECRET, "csrf": token}, follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert web.COOKIE not in r.headers.get("set-cookie", "")
    assert login(TestClient(app, client=BYSTANDER), SECRET).status_code == 303


def test_a_stale_or_forged_session_cookie_is_not_counted(root):
    """A browser keeps sending its old cookie after a restart: 401, never a lock-out."""
    c = TestClient(web.create_app(root, SECRET), client=ATTACKER)
    stale = {"Cookie": f"{web.COOKIE}=1.nonce.office.{'0' * 64}"}
    assert {c.get("/", headers=stale).status_code for _ in range(40)} == {401}
    assert c.get("/", headers=RIGHT).status_code == 200


def test_the_block_ends_and_retry_after_counts_down(root):
    app, clock = app_with_clock(root)
    c = TestClient(app, client=ATTACKER)
    guess_tokens(c, MAX_FAILURES)  # the 20th guess, at t, blocks until t + 900 s
    assert c.get("/", headers=RIGHT).headers["retry-after"] == "900"
    clock.t += 600
    assert c.get("/", headers=RIGHT).headers["retry-after"] == "300"
    clock.t += 299.5
    assert c.get("/", headers=RIGHT).headers["retry-after"] == "1"  # rounded up, never 0
    clock.t += 0.5
    assert c.get("/", headers=RIGHT).status_code == 200
    # the address starts afresh: one more wrong guess is a 401, not a new block
    assert guess_tokens(c, 1) == [401]


def test_asking_while_blocked_does_not_lengthen_the_block(root):
    app, clock = app_with_clock(root)
    c = TestClient(app, client=ATTACKER)
    guess_tokens(c, MAX_FAILURES)
    clock.t += 450
    guess_tokens(c, 30)
    assert c.get("/", headers=RIGHT).headers["retry-after"] == "450"


def test_guesses_older_than_the_window_are_forgotten(root):
    assert WINDOW_S == 600
    app, clock = app_with_clock(root)
    c = TestClient(app, client=ATTACKER)
    assert guess_tokens(c, 19) == [401] * 19
    clock.t += 601  # those 19 are out of the window
    assert guess_tokens(c, 19) == [401] * 19
    clock.t += 300  # the second 19 are still in it: one more is the 20th
    assert guess_tokens(c, 2) == [401, 429]


def test_a_success_does_not_wipe_the_count_of_guesses(root):
    """One's own token must not reset the count of guesses at another's secret."""
    c = TestClient(web.create_app(root, SECRET), client=ATTACKER)
    answers = []
    for _ in range(4):
        answers += guess_tokens(c, 10)
        answers.append(c.get("/", headers=RIGHT).status_code)
    assert answers[:21] == [401] * 10 + [200] + [401] * 10
    assert set(answers[21:]) == {429}


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(root):
    app = web.create_app(root, SECRET)
    attacker = TestClient(app, client=ATTACKER)
    guess_tokens(attacker, MAX_FAILURES)
    for forwarded in ("203.0.113.9", "203.0.113.9, 198.51.100.1"):
        r = attacker.get("/", headers={**RIGHT, "X-Forwarded-For": forwarded})
        assert r.status_code == 429  # a made-up address does not escape the block


@pytest.mark.parametrize("setting", ["10.0.0.1", "192.0.2.1, 10.0.0.0/24"])
def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(root, monkeypatch, setting):
    monkeypatch.setenv("SGS_TRUSTED_PROXIES", setting)
    proxy = TestClient(web.create_app(root, SECRET), client=PROXY)
    first = {"X-Forwarded-For": "198.51.100.7"}
    assert guess_tokens(proxy, 21, first)[-1] == 429
    assert proxy.get("/", headers={**RIGHT, **first}).status_code == 429
    second = {"X-Forwarded-For": "198.51.100.8"}
    assert proxy.get("/", headers={**WRONG, **second}).status_code == 401
    assert proxy.get("/", headers={**RIGHT, **second}).status_code == 200
    # what the client wrote to the left of what the proxy appended is never used
    spoofed = {"X-Forwarded-For": "198.51.100.99, 198.51.100.7"}
    assert proxy.get("/", headers={**RIGHT, **spoofed}).status_code == 429
    # a chain of trusted proxies: the right-most address that is not one of them
    via_two = {"X-Forwarded-For": "198.51.100.7, 10.0.0.1"}
    assert proxy.get("/", headers={**RIGHT, **via_two}).status_code == 429
    # the proxy's own requests (no header) are counted under the proxy's address
    assert proxy.get("/", headers=RIGHT).status_code == 200


def test_the_table_of_addresses_is_bounded():
    assert MAX_CLIENTS == 10_000 and Throttle().max_clients == MAX_CLIENTS  # the README's
    clock = Clock()
    throttle = Throttle(max_failures=2, max_clients=3, now=clock)
    for address in ("a", "b", "c", "d"):
        throttle.failed(address)
        throttle.failed(address)
    assert len(throttle) == 3
    assert throttle.retry_after("a") is None  # the least recently seen went first
    assert [throttle.retry_after(x) for x in "bcd"] == [900, 900, 900]


# --- the order of the answers and CSRF ------------------------------------------------------


def test_order_429_before_401_before_403(root):
    app = web.create_app(root, SECRET)
    c = TestClient(app, client=BYSTANDER)
    # no or bad credentials: 401, also on a form without its CSRF token
    assert c.get("/", headers=WRONG).status_code == 401
    assert c.post("/login", data={"password": "wrong"}).status_code == 401
    # right password, no CSRF token: 403
    assert c.post("/login", data={"password": SECRET}).status_code == 403
    # throttled: 429 whatever the rest of the request is
    attacker = TestClient(app, client=ATTACKER)
    guess_tokens(attacker, MAX_FAILURES)
    assert attacker.post("/login", data={"password": SECRET}).status_code == 429
    assert attacker.get("/", headers={"Cookie": f"{web.COOKIE}={'9' * 5000}"}).status_code == 429
    # (413, for a too-large upload, comes between 401 and 403: the uploads' tests probe it)


def test_a_cookie_post_needs_the_form_token_a_bearer_post_does_not(root):
    c = TestClient(web.create_app(root, SECRET), client=BYSTANDER)
    assert login(c, SECRET).status_code == 303
    r = c.post("/logout", data={"csrf": "B" * 43})  # a token, but not the browser's
    assert r.status_code == 403 and "校验码" in r.text
    assert c.get("/").status_code == 200  # still logged in
    script = TestClient(web.create_app(root, SECRET), client=BYSTANDER)
    r = script.post("/logout", headers=RIGHT)
    assert r.status_code == 200  # nothing to forge, no session to end
    assert script.get("/", headers=RIGHT).status_code == 200  # the token still works


# --- no lock holds one user up for another ----------------------------------------------------


def in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_a_page_opens_while_a_download_holds_the_store(root):
    c = TestClient(web.create_app(root, SECRET))
    answers: list[int] = []
    with database.reader(root) as con:  # as a long bulletin download would
        con.execute("SELECT 1").fetchall()
        page = in_thread(lambda: answers.append(c.get("/", headers=RIGHT).status_code))
        page.join(JOIN_S)
        assert not page.is_alive(), "the page waited for the other reader"
    assert answers == [200]


def test_two_readers_in_two_threads_at_once(root):
    both_in = threading.Barrier(2, timeout=JOIN_S)
    seen: list[int] = []

    def read() -> None:
        with database.reader(root) as con:
            both_in.wait()  # breaks (and the test fails) unless both hold a reader at once
            seen.append(con.execute("SELECT count(*) FROM units").fetchone()[0])

    threads = [in_thread(read) for _ in range(2)]
    for t in threads:
        t.join(JOIN_S)
    assert len(seen) == 2 and seen[0] == seen[1] > 0


def test_a_waiting_writer_goes_before_readers_that_come_after_it(tmp_path):
    """Readers no longer queue on each other, so a writer must not starve behind them."""
    store = tmp_path / "data"
    with database.writer(store) as con:
        con.execute("CREATE TABLE t (x INTEGER)")
    gate = database.db_path(store).with_suffix(".gate")
    order: list[str] = []

    def write() -> None:
        with database.writer(store, timeout=JOIN_S) as con:
            con.execute("INSERT INTO t VALUES (1)")
            order.append("writer")

    def read() -> None:
        with database.reader(store, timeout=JOIN_S) as con:
            order.append(f"reader saw {con.execute('SELECT count(*) FROM t').fetchone()[0]}")

    with database.reader(store):
        writer = in_thread(write)
        with gate.open("a+") as fh:  # wait until the writer has closed the gate
            for _ in range(int(JOIN_S / 0.05)):
                try:
                    fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    fcntl.flock(fh, fcntl.LOCK_UN)
                    threading.Event().wait(0.05)
                except BlockingIOError:
                    break
        late_reader = in_thread(read)
        assert order == []  # the writer waits for the reader held here
    writer.join(JOIN_S)
    late_reader.join(JOIN_S)
    assert order == ["writer", "reader saw 1"]


def test_the_same_bulletin_downloaded_at_once_is_whole_every_time(root, tmp_path):
    import shutil

    own = tmp_path / "data"
    shutil.copytree(root / "curated", own / "curated", ignore=shutil.ignore_patterns("web"))
    c = TestClient(web.create_app(own, SECRET))
    bodies: list[bytes] = []

    def download() -> None:
        r = c.get("/download/bulletin/2026-10.xlsx", headers=RIGHT)
        assert r.status_code == 200
        bodies.append(r.content)

    threads = [in_thread(download) for _ in range(4)]
    for t in threads:
        t.join(JOIN_S * 3)
    assert len(bodies) == 4
    for body in bodies:
        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
        assert any("2026-10" in str(c) for ws in book.worksheets for row in ws.iter_rows(
            values_only=True) for c in row if c)  # fmt: skip
    web_files = sorted(p.name for p in (own / "curated" / "web").iterdir())
    assert web_files == ["月通报_2026-10.xlsx"]  # no scratch file left behind
