"""Take the README's screenshots with headless Chromium (Debian's package, no browser download).

Run:  .venv/bin/python scripts/screenshots.py

Starts the local Prefect stack on a free port with a copy of the bundled landing zone, runs the
daily deployment through the real worker, and photographs the flow run page of the Prefect UI
and the Data Docs (index and a batch with failures) into docs/img/.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sgs.clock import office_zone
from sgs.config import PROJECT_ROOT
from sgs.jobs.prefect_stack import stack

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]  # fmt: skip
OUT = PROJECT_ROOT / "docs" / "img"


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
                docs = data / "curated" / "data_docs"
                page.set_viewport_size({"width": 1280, "height": 720})
                page.goto((docs / "index.html").as_uri())
                page.screenshot(path=str(OUT / "data-docs-index.png"), full_page=True)
                # the batch whose 有效期至 「2026.10.07」 cannot be read, among other failures
                failing = page.locator(
                    "tr:has-text('行政许可_2026年10月.xlsx') a"
                ).first.get_attribute("href")
                page.goto((docs / str(failing)).as_uri())
                page.screenshot(path=str(OUT / "data-docs-batch.png"), full_page=True)
                browser.close()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(PROJECT_ROOT))


if __name__ == "__main__":
    main()
