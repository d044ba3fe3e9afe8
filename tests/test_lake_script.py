"""`scripts/lake` as a person runs it (issue 23, item 5): a local PostgreSQL started by the
script, the lake initialised, the daily flow run over a copy of the bundled landing zone into
it; then `scripts/lake env` points `sgs` at the same lake and `scripts/lake stop` stops it.

As for `scripts/run`, only the installer is replaced (a stand-in `uv` makes `scripts/setup` a
no-op); PostgreSQL is the real Debian one, started by the script itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from support.postgres import binaries, lake_query
from support.prefect_home import migrated_home

from sgs.config import PROJECT_ROOT

# PostgreSQL from Debian; one worker runs the module's tests (one run of the script)
pytestmark = [pytest.mark.system, pytest.mark.xdist_group("lake-script")]


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict:
    if binaries() is None:
        pytest.fail("PostgreSQL is not installed: scripts/test installs it")
    tmp = tmp_path_factory.mktemp("lake-script")
    data = tmp / "data"
    # one unit's files (two uploads, a ledger): the flow over the whole zone is scripts/run's test
    unit = "111404000448224608"
    shutil.copytree(PROJECT_ROOT / "data" / "raw" / unit, data / "raw" / unit)
    stub = tmp / "bin"
    stub.mkdir()
    (stub / "uv").write_text("#!/bin/sh\nexit 0\n")
    (stub / "uv").chmod(0o755)
    pg = Path(f"/tmp/sgs-lake-test-{os.getpid()}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SGS_"))}
    home = migrated_home(tmp_path_factory, tmp / "prefect")
    env |= {"PATH": f"{stub}:{env['PATH']}", "SGS_DATA_DIR": str(data), "SGS_LAKE_PG": str(pg),
            "PREFECT_HOME": str(home), "SGS_TODAY": "2026-12-05"}  # fmt: skip
    script = str(PROJECT_ROOT / "scripts" / "lake")
    try:
        done = subprocess.run([script], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        variables = subprocess.run([script, "env"], env=env, capture_output=True, text=True,
                                   timeout=60, check=True).stdout  # fmt: skip
        values = dict(line.removeprefix("export ").split("=", 1) for line in variables.splitlines())
        store = values["SGS_STORE"].strip("'")
        rates = subprocess.run(
            [str(PROJECT_ROOT / ".venv" / "bin" / "sgs"), "rates", "--period", "2026-10", "--json"],
            env=env | {"SGS_STORE": store, "SGS_LAKE_DATA": values["SGS_LAKE_DATA"].strip("'")},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        batches = lake_query(store.removeprefix("ducklake:postgres:"),
                             "SELECT kind, count(*) FROM lake.batches GROUP BY kind ORDER BY 1")  # fmt: skip
    finally:
        stopped = subprocess.run([script, "stop"], env=env, capture_output=True, text=True,
                                 timeout=120)  # fmt: skip
        shutil.rmtree(pg, ignore_errors=True)
    return {"stdout": done.stdout, "data": data, "store": store, "rates": rates,
            "batches": dict(batches), "stopped": stopped}  # fmt: skip


def test_the_daily_run_lands_in_the_lake(ran):
    assert ran["batches"] == {"ledger": 1, "permit": 2}
    assert "2026-10 三率" in ran["stdout"] and "长治市行政审批服务管理局" in ran["stdout"]
    assert list((ran["data"] / "lake").rglob("*.parquet"))
    assert not (ran["data"] / "curated" / "sgs.duckdb").exists()  # nothing went to the file


def test_scripts_lake_env_points_sgs_at_the_same_lake(ran):
    assert ran["store"].startswith("ducklake:postgres:host=/tmp/sgs-lake-test-")
    assert ran["rates"].returncode == 0, ran["rates"].stderr
    rows = json.loads(ran["rates"].stdout)
    approvals = [
        r for r in rows if r["unit_code"] == "111404000448224608" and r["kind"] == "permit"
    ]
    assert approvals and approvals[0]["uploaded"] == 30


def test_scripts_lake_stop_stops_the_cluster(ran):
    assert ran["stopped"].returncode == 0, ran["stopped"].stderr
