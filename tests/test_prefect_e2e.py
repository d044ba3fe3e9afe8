"""End to end: a real Prefect server on a free local port, the process pool, prefect.yaml
deployed, the daily deployment run by a real worker; everything started is stopped."""

from __future__ import annotations

import asyncio
import shutil

import duckdb
import pytest

from sgs.config import PROJECT_ROOT
from sgs.jobs.prefect_stack import stack


@pytest.fixture
def data_root(tmp_path):
    root = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    # the same bytes sent by a second unit (issue 10, item 11): stored for each unit
    shared = root / "raw" / "111404000448224608" / "2026-10-09" / "行政许可_2026年9月.csv"
    copy = root / "raw" / "11140400041270234C" / "2026-10-09" / shared.name
    copy.parent.mkdir(parents=True)
    shutil.copy(shared, copy)
    return root


def test_daily_deployment_runs_through_a_real_worker(tmp_path, data_root):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    extra = {"SGS_DATA_DIR": str(data_root), "PREFECT_WORKER_QUERY_SECONDS": "1",
             "PREFECT_WORKER_PREFETCH_SECONDS": "5", "TZ": "UTC"}  # fmt: skip
    with stack(home=tmp_path / "prefect", extra_env=extra) as s:
        with temporary_settings({PREFECT_API_URL: s.api}):
            run = run_deployment("daily_monitor/daily", timeout=300)
            assert run.state is not None and run.state.is_completed(), run.state

            async def details():
                async with get_client() as client:
                    deployments = await client.read_deployments()
                    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
                    return deployments, await client.read_artifacts(artifact_filter=flt)

            deployments, artifacts = asyncio.run(details())
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
        assert {"daily-files", "daily-rates", "daily-expectations", "data-docs"} <= {
            a.key for a in artifacts
        }
        processes = list(s.processes)
    # the flow ran in the checkout (pull step) and wrote the temporary data root
    with duckdb.connect(str(data_root / "curated" / "sgs.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 11
        shared = con.execute(
            "SELECT unit_code FROM batches WHERE file_name = '行政许可_2026年9月.csv' ORDER BY 1"
        ).fetchall()
        assert shared == [("11140400041270234C",), ("111404000448224608",)]
        checked = "SELECT count(DISTINCT batch_id) FROM expectation_results"
        assert con.execute(checked).fetchone()[0] == 8  # every upload batch, not the ledgers
    # everything the stack started has stopped
    assert all(p.poll() is not None for p in processes)
