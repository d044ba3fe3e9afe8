"""Take the README's screenshots with headless Chromium (Debian's package, no browser download).

Run:  .venv/bin/python scripts/screenshots.py

Starts the local Prefect stack on a free port with a copy of the bundled landing zone, runs the
daily deployment through the real worker, and photographs into docs/img/: the flow run page
of the Prefect UI and its artifacts; then `sgs serve` over the same data root — its login, the
month page on a desk and on a phone, and the Data Docs it serves (index and a batch with
failures); as 长治市行政审批服务管理局's account (`sgs users add`), its start page, the self-check of
its October permits (the file with defects) and the receipt of handing them in again; and the first page of the month's PDF bulletin (`sgs report --out …pdf`, rendered to
PNG by poppler's pdftoppm).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from sgs.clock import office_zone
from sgs.config import PROJECT_ROOT
from sgs.jobs.prefect_stack import stack

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip
OUT = PROJECT_ROOT / "docs" / "img"
SGS = [sys.executable, "-m", "sgs.cli.main"]
SECRET = "screenshot-secret"
PERIOD = "2026-10"
APPROVALS = "111404000448224608"  # 长治市行政审批服务管理局


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """`sgs serve` on a free port, once it answers."""
    port = _free_port()
    proc = subprocess.Popen([*SGS, "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(base + "/login", timeout=1)
            return proc, base
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("sgs serve did not answer")


def _served_pages(browser, env: dict[str, str]) -> None:
    """The download page (login, a month on a desk and on a phone) and the served Data Docs."""
    proc, base = _serve({**env, "SGS_WEB_PASSWORD": SECRET})
    try:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(base + f"/?period={PERIOD}")
        page.screenshot(path=str(OUT / "web-login.png"), full_page=True)
        page.fill("#password", SECRET)
        page.click("button[type=submit]")
        page.wait_for_selector("#units")
        page.screenshot(path=str(OUT / "web-month.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 720})
        page.goto(base + "/docs/")
        page.screenshot(path=str(OUT / "data-docs-index.png"), full_page=True)
        # the batch whose 有效期至 「2026.10.07」 cannot be read, among other failures
        page.locator("tr:has-text('行政许可_2026年10月.xlsx') a").first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "data-docs-batch.png"), full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                 extra_http_headers={"Authorization": f"Bearer {SECRET}"})  # fmt: skip
        phone.goto(base + f"/?period={PERIOD}")
        phone.wait_for_selector("#units")
        phone.screenshot(path=str(OUT / "web-phone.png"))
        _unit_pages(browser, env, base)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _unit_pages(browser, env: dict[str, str], base: str) -> None:
    """A unit's start page, the self-check of one of its files and the hand-in receipt."""
    made = subprocess.run([*SGS, "users", "add", APPROVALS, "--json"], env=env, check=True,
                          capture_output=True, text=True).stdout  # fmt: skip
    upload = (
        Path(env["SGS_DATA_DIR"]) / "raw" / APPROVALS / "2026-11-05" / "行政许可_2026年10月.xlsx"
    )
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.goto(base + "/")
    page.fill("#password", json.loads(made)["token"])
    page.click("button[type=submit]")
    page.wait_for_selector("#unit-name")
    page.screenshot(path=str(OUT / "web-unit-home.png"), full_page=True)
    page.goto(base + "/check")
    page.set_input_files("#file", str(upload))
    page.click("#check")
    page.wait_for_selector("#problems")
    page.screenshot(path=str(OUT / "web-check.png"), full_page=True)
    page.goto(base + "/handin")
    page.set_input_files("#file", str(upload))
    page.click("#handin")
    page.wait_for_selector("#receipt")
    page.screenshot(path=str(OUT / "web-handin.png"), full_page=True)


def _pdf_first_page(env: dict[str, str], tmp: Path) -> None:
    pdf = tmp / "bulletin.pdf"
    subprocess.run([*SGS, "report", "--period", PERIOD, "--out", str(pdf)], env=env, check=True)
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(OUT / "bulletin-pdf-page1")], check=True)  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(PROJECT_ROOT / "data" / "raw", data / "raw")
        extra = {"SGS_DATA_DIR": str(data), "PREFECT_WORKER_QUERY_SECONDS": "1"}
        with stack(home=Path(tmp) / "prefect", extra_env=extra) as s:
            with temporary_settings({PREFECT_API_URL: s.api}):
                run = run_deployment("daily_monitor/daily", timeout=300)
            assert run.state and run.state.is_completed(), run.state
            env = {**os.environ, "SGS_DATA_DIR": str(data)}
            _pdf_first_page(env, Path(tmp))
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                # The Prefect UI shows times in the browser's zone: the office's browsers are in
                # the office's zone, whatever the zone of this machine.
                page = browser.new_page(viewport={"width": 1440, "height": 1000},
                                        timezone_id=office_zone().key)  # fmt: skip
                page.goto(f"{s.url}/runs/flow-run/{run.id}")
                page.wait_for_selector("text=Completed", timeout=60_000)
                page.wait_for_timeout(2500)
                page.screenshot(path=str(OUT / "prefect-flow-run.png"))
                page.get_by_text("Artifacts", exact=True).first.click()
                page.wait_for_selector("text=daily-files", timeout=30_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(OUT / "prefect-artifacts.png"), full_page=True)
                page.get_by_text("daily-files", exact=True).first.click()
                page.wait_for_selector("text=已入库", timeout=30_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(OUT / "prefect-artifact-files.png"), full_page=True)
                _served_pages(browser, env)
                browser.close()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(PROJECT_ROOT))


if __name__ == "__main__":
    main()
