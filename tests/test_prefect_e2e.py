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
    return root


def test_daily_deployment_runs_through_a_real_worker(tmp_path, data_root):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    extra = {"SGS_DATA_DIR": str(data_root), "PREFECT_WORKER_QUERY_SECONDS": "1",
             "PREFECT_WORKER_PREFETCH_SECONDS": "5"}  # fmt: skip
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
        assert con.execute("SELECT count(*) FROM batches").fetchone()[0] == 10
    # everything the stack started has stopped
    assert all(p.poll() is not None for p in processes)
