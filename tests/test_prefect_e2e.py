"""End to end: a real Prefect server on a free local port, the process pool, prefect.yaml
deployed, the daily deployment run by a real worker; `sgs serve` over the same data root; a
real browser that opens the run's artifacts in the Prefect UI and clicks their links.
Everything started is stopped.  One stack and one run serve every test of the module."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from support.prefect_home import migrated_home

from sgs.config import PROJECT_ROOT
from sgs.jobs.prefect_stack import stack

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_prefect_e2e")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip
SECRET = "e2e-secret"
XLSX = "行政许可_2026年10月.xlsx"  # its 有效期至 「2026.10.07」 (Sheet1, row 3) cannot be read


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data_root: Path) -> tuple[subprocess.Popen, str]:
    """`sgs serve` on a free port over ``data_root``, once it answers."""
    port = _free_port()
    env = {**os.environ, "SGS_DATA_DIR": str(data_root), "SGS_WEB_PASSWORD": SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "sgs.cli.main", "serve", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "sgs serve exited early"
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/login")
            if conn.getresponse().status == 200:
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise AssertionError("sgs serve did not answer within 30 s")


@pytest.fixture(scope="module")
def daily(tmp_path_factory):
    """The daily deployment run once through a real worker, with `sgs serve` up at the
    address the artifacts link to; the stack stays up for the module's tests."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    tmp = tmp_path_factory.mktemp("e2e")
    root = tmp / "data"
    # one unit's files of the bundled landing zone (two uploads and a ledger): what runs here is
    # the worker and the deployment; scripts/run's test runs the whole landing zone
    unit = Path("111404000448224608")
    shutil.copytree(PROJECT_ROOT / "data" / "raw" / unit, root / "raw" / unit)
    # the same bytes sent by a second unit (issue 10, item 11): stored for each unit
    shared = root / "raw" / "111404000448224608" / "2026-10-09" / "行政许可_2026年9月.csv"
    copy = root / "raw" / "11140400041270234C" / "2026-10-09" / shared.name
    copy.parent.mkdir(parents=True)
    shutil.copy(shared, copy)
    server, site = _serve(root)
    extra = {"SGS_DATA_DIR": str(root), "PREFECT_WORKER_QUERY_SECONDS": "1",
             "PREFECT_WORKER_PREFETCH_SECONDS": "5", "TZ": "UTC", "SGS_PUBLIC_URL": site}  # fmt: skip
    try:
        home = migrated_home(tmp_path_factory, tmp / "prefect")
        with stack(home=home, extra_env=extra) as s:
            with temporary_settings({PREFECT_API_URL: s.api}):
                run = run_deployment("daily_monitor/daily", timeout=300)

                async def details():
                    async with get_client() as client:
                        deployments = await client.read_deployments()
                        flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
                        return deployments, await client.read_artifacts(artifact_filter=flt)

                deployments, artifacts = asyncio.run(details())
            yield {"run": run, "deployments": deployments, "site": site, "root": root,
                   "artifacts": {a.key: a for a in artifacts if a.key}, "ui": s.url,
                   "api": s.api}  # fmt: skip
            processes = list(s.processes)
    finally:
        server.terminate()
        server.wait(timeout=10)
    # everything the stack started has stopped
    assert all(p.poll() is not None for p in processes)


def test_daily_deployment_runs_through_a_real_worker(daily):
    run, deployments, data_root = daily["run"], daily["deployments"], daily["root"]
    assert run.state is not None and run.state.is_completed(), run.state
    names = {d.name for d in deployments}
    assert names == {"daily", "weekly", "monthly"}
    crons = {
        d.name: (d.schedules[0].schedule.cron, d.schedules[0].schedule.timezone)
        for d in deployments
    }
    assert crons == {
        "daily": ("0 6 * * *", "Asia/Shanghai"),
        "weekly": ("0 8 * * 1", "Asia/Shanghai"),
        "monthly": ("0 8 4 * *", "Asia/Shanghai"),
    }
    assert {"daily-files", "daily-rates", "daily-expectations", "data-docs"} <= set(
        daily["artifacts"]
    )
    # the flow ran in the checkout (pull step) and wrote the temporary data root
    with duckdb.connect(str(data_root / "curated" / "sgs.duckdb"), read_only=True) as con:
        # the unit's three files (2 uploads, 1 ledger) and the second unit's copy of an upload
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 4
        shared = con.execute(
            "SELECT unit_code FROM batches WHERE file_name = '行政许可_2026年9月.csv' ORDER BY 1"
        ).fetchall()
        assert shared == [("11140400041270234C",), ("111404000448224608",)]
        checked = "SELECT count(DISTINCT batch_id) FROM expectation_results"
        assert con.execute(checked).fetchone()[0] == 3  # every upload batch, not the ledger


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _batch_of(root: Path, file_name: str) -> int:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(
            "SELECT batch_id FROM batches WHERE file_name = ?", [file_name]
        ).fetchone()[0]


def test_an_artifact_link_in_the_prefect_ui_opens_the_data_docs_page(daily, browser):
    """In the Prefect UI, the expectations artifact links each batch to its Data Docs page on
    the download page; the click opens the login, and the login the page."""
    batch_id = _batch_of(daily["root"], XLSX)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    ui = context.new_page()
    artifact = daily["artifacts"]["daily-expectations"]
    ui.goto(f"{daily['ui']}/artifacts/artifact/{artifact.id}")
    link = ui.locator(f'a[href="{daily["site"]}/docs/batch/{batch_id}"]')
    link.wait_for(timeout=60_000)  # the UI is a single-page app: the link comes with its data
    assert link.inner_text() == str(batch_id)
    with context.expect_page() as opened:
        link.click()  # the UI opens links in a new tab
    page = opened.value
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "请登录"
    page.fill("#password", SECRET)
    page.click("button[type=submit]")
    page.wait_for_url(f"{daily['site']}/docs/batch/{batch_id}")
    assert page.locator("h1").inner_text() == f"批次 {batch_id}：{XLSX}"
    body = page.locator("body").inner_text()
    assert "工作表「Sheet1」第 3 行：无法解析（原值「2026.10.07」）" in body
    assert "NaT" not in body and "NaN" not in body
    # the link back to all batches works as served
    page.click("text=← 全部批次")
    page.wait_for_url(f"{daily['site']}/docs/")
    assert page.locator(f'a[href="/docs/batch/{batch_id}"]').count() == 1

    # the Data Docs link artifact opens the index in the same session
    ui.goto(f"{daily['ui']}/artifacts/artifact/{daily['artifacts']['data-docs'].id}")
    docs_link = ui.locator(f'a[href="{daily["site"]}/docs/"]')
    docs_link.wait_for(timeout=60_000)
    with context.expect_page() as opened:
        docs_link.click()
    index = opened.value
    index.wait_for_load_state()
    assert index.locator("h1").inner_text() == "数据质量检查（Great Expectations）"
    context.close()


def test_the_data_docs_on_disk_are_the_pages_served(daily, browser):
    """The same pages open from the folder the flow wrote, and their links work there too."""
    docs = daily["root"] / "curated" / "data_docs"
    batch_id = _batch_of(daily["root"], XLSX)
    context = browser.new_context()
    page = context.new_page()
    page.goto((docs / "index.html").as_uri())
    page.click(f'a[href="batch_{batch_id}.html"]')
    assert page.url == (docs / f"batch_{batch_id}.html").as_uri()
    assert "无法解析（原值「2026.10.07」）" in page.locator("body").inner_text()
    page.click("text=← 全部批次")
    assert page.url == (docs / "index.html").as_uri()
    context.close()


def test_a_hand_in_triggers_the_daily_deployment_at_once(daily):
    """With a server up, a handed-in file is ingested by a flow run created right away, and
    the unit's history shows it stored; a deployment the server lacks gives None, no error.
    (Last in the module: it adds a batch to the store the other tests count.)"""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from sgs.intake.handin import hand_in
    from sgs.jobs.trigger import trigger_ingest
    from sgs.store.handins import history

    root, unit = daily["root"], "11140400MB84708085"  # 长治市交通运输局: no file in the samples
    source = (
        PROJECT_ROOT
        / "data"
        / "raw"
        / "111404000448224608"
        / "2026-10-09"
        / "行政许可_2026年9月.csv"
    )
    receipt = hand_in(root, unit, "交通_行政许可.csv", source)
    assert [e["outcome"] for e in history(root, unit)] == ["pending"]
    with temporary_settings({PREFECT_API_URL: daily["api"]}):
        assert trigger_ingest("no_such_flow/none") is None
        run_id = trigger_ingest()
        assert run_id is not None

        async def final_state():
            async with get_client() as client:
                for _ in range(600):
                    run = await client.read_flow_run(run_id)
                    if run.state and run.state.is_final():
                        return run
                    await asyncio.sleep(0.5)
                raise AssertionError("the triggered run did not finish within 5 minutes")

        # In a thread of its own: an earlier browser test of this module may leave an event
        # loop running in this one (Playwright's sync API), where asyncio.run refuses.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            settings = contextvars.copy_context()  # the temporary API URL goes along
            run = pool.submit(settings.run, lambda: asyncio.run(final_state())).result()
    assert run.state.is_completed(), run.state
    assert "handin" in run.tags and run.deployment_id is not None
    [entry] = history(root, unit)
    assert (entry["file"], entry["path"]) == (receipt.file, receipt.path)
    assert entry["outcome"] in ("stored", "stored_with_errors") and entry["batch_id"] is not None
