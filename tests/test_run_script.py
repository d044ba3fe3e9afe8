"""`scripts/run` as a person runs it, on a copy of the bundled landing zone: the flow run it
starts keeps its logs in the Prefect database (the Prefect UI once said "This run didn't
generate logs"), its task runs have names the UI's timeline can draw, and its artifacts link
to `sgs serve` instead of `file://`.

Only the installer is replaced: a stand-in `uv` on PATH makes `scripts/setup` a no-op (the
environment is installed already, and a test must not reach the package registry).  The
Prefect database is read afterwards: what the Prefect UI shows of a run is what it keeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.prefect_home import migrated_home

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_run_script")


def read_runs(database: Path) -> list[dict]:
    """Each flow run with its logs, task runs and artifacts, as Prefect's database keeps them
    (what the Prefect UI shows is read from there; an artifact's data is stored as JSON)."""
    con = sqlite3.connect(database)
    runs = []
    for run_id, name, state in con.execute("SELECT id, name, state_type FROM flow_run"):
        logs = con.execute("SELECT task_run_id, message FROM log WHERE flow_run_id = ?"
                           " ORDER BY timestamp", (run_id,)).fetchall()  # fmt: skip
        tasks = con.execute("SELECT id, name FROM task_run WHERE flow_run_id = ?", (run_id,))
        artifacts = con.execute("SELECT key, data FROM artifact WHERE flow_run_id = ?"
                                " AND key IS NOT NULL", (run_id,)).fetchall()  # fmt: skip
        runs.append({
            "flow": name, "state": state,
            "logs": [{"task": task, "message": message} for task, message in logs],
            "tasks": dict(tasks.fetchall()),
            "artifacts": {key: json.loads(data) for key, data in artifacts},
        })  # fmt: skip
    con.close()
    return runs


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("run-script")
    data = tmp / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", data / "raw")
    stub = tmp / "bin"
    stub.mkdir()
    (stub / "uv").write_text("#!/bin/sh\nexit 0\n")
    (stub / "uv").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SGS_"))}
    # a Prefect home migrated already: the first start's migrations are the loaded-machine
    # test's below
    home = migrated_home(tmp_path_factory, tmp / "prefect")
    env |= {"PATH": f"{stub}:{env['PATH']}", "SGS_DATA_DIR": str(data),
            "PREFECT_HOME": str(home), "SGS_PUBLIC_URL": "http://xyb.example:8000/"}  # fmt: skip
    done = subprocess.run([str(PROJECT_ROOT / "scripts" / "run")], env=env, capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    runs = read_runs(home / "prefect.db")
    assert len(runs) == 1, runs
    return {"run": runs[0], "stdout": done.stdout, "stderr": done.stderr, "data": data}


def test_the_run_completes_and_keeps_its_logs(ran):
    run = ran["run"]
    assert run["state"] == "COMPLETED"
    flow_logs = [log["message"] for log in run["logs"] if log["task"] is None]
    assert any(m.startswith("完成：") for m in flow_logs), flow_logs
    assert any("新到文件 11 个" in m for m in flow_logs), flow_logs
    # each file's task logs the Chinese file name
    by_task: dict[str, list[str]] = {}
    for log in run["logs"]:
        if log["task"]:
            by_task.setdefault(run["tasks"][log["task"]], []).append(log["message"])
    ingests = {name: logs for name, logs in by_task.items() if name.startswith("ingest-")}
    assert len(ingests) == 11
    wanted = "文件：111404000448224608/2026-11-05/行政许可_2026年10月.xlsx"
    assert any(wanted in logs for logs in ingests.values()), ingests
    # the console stays quiet: the INFO lines went to the database only
    assert "新到文件 11 个" not in ran["stderr"]


def test_task_run_names_are_ascii_with_unit_date_and_index(ran):
    names = sorted(ran["run"]["tasks"].values())
    assert all(name.isascii() for name in names), names
    ingests = sorted(n for n in names if n.startswith("ingest-"))
    assert [n.rsplit("-", 1)[1] for n in ingests] == [f"{i:02d}" for i in range(1, 12)]
    assert "ingest-111404000448224608-20261105-" in " ".join(ingests)
    assert "ingest-11140403MB6028813E-20261020-" in " ".join(ingests)


def test_artifacts_link_to_the_download_page_not_to_files(ran):
    artifacts = ran["run"]["artifacts"]
    text = json.dumps(artifacts, ensure_ascii=False)
    assert "file://" not in text
    assert (
        artifacts["data-docs"] == "[数据质量检查报告（Data Docs）](http://xyb.example:8000/docs/)"
    )
    expectations = artifacts["daily-expectations"]
    assert "(http://xyb.example:8000/docs/batch/" in expectations
    feedback = artifacts["daily-feedback"]
    assert (
        "[长治市行政审批服务管理局（111404000448224608）]"
        "(http://xyb.example:8000/download/feedback/111404000448224608.xlsx)"
    ) in feedback
    files = json.loads(artifacts["daily-files"])
    row = next(r for r in files if r["文件"].endswith("行政许可_2026年10月.xlsx"))
    assert row["单位"] == "长治市行政审批服务管理局"
    assert row["任务"].startswith("ingest-111404000448224608-20261105-")  # holds the unit's code
    assert row["任务"] in ran["run"]["tasks"].values()


SETTINGS_OF_A_FLOW = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("flow", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from prefect.settings import get_current_settings
s = get_current_settings()
print(json.dumps([s.server.ephemeral.startup_timeout_seconds, str(s.home), s.server.analytics_enabled]))
"""


@pytest.mark.parametrize("flow", ["daily_monitor", "weekly_reminder", "monthly_bulletin"])
def test_a_flow_file_starts_prefect_as_the_main_command_does(flow):
    """Imported (or run) on its own, a flow file gives Prefect the project's home and time to
    start its ephemeral server; a value in the environment still wins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SGS_"))}
    path = str(PROJECT_ROOT / "flows" / f"{flow}.py")
    run = subprocess.run([sys.executable, "-c", SETTINGS_OF_A_FLOW, path], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [300, str(PROJECT_ROOT / ".prefect"), False]
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "45"
    run = subprocess.run([sys.executable, "-c", SETTINGS_OF_A_FLOW, path], env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert json.loads(run.stdout)[0] == 45


def _flow_run_recorded(database: Path) -> bool:
    """Whether the flow's run is in Prefect's database: the server answered the flow."""
    if not database.exists():
        return False
    try:
        con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.1)
        try:
            return bool(con.execute("SELECT count(*) FROM flow_run").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:  # not created or migrated yet
        return False


#: How long the test keeps the flow's ephemeral API server from answering: longer than the
#: 20 s Prefect itself waits, which failed twice in one day on a loaded 2-core machine.
SERVER_HELD_S = 22


def _ephemeral_server(flow_pid: int) -> int | None:
    """The pid of the flow's ephemeral API server once it exists (Prefect starts it as a child
    process, ``python -m uvicorn … prefect.server.api.server:create_app``)."""
    for task in Path(f"/proc/{flow_pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:  # the thread ended meanwhile
            continue
        for child in children:
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"uvicorn" in command and b"prefect.server" in command:
                return int(child)
    return None


def test_the_daily_flow_run_directly_waits_for_a_slow_server(tmp_path):
    """``python flows/daily_monitor.py`` with no Prefect settings of its own, on a new machine
    (an empty Prefect home: the server migrates its database first), whose ephemeral API server
    cannot answer for 22 s — on a loaded machine it once took 35 s: the flow waits for it and
    finishes.  The server is held with SIGSTOP from its first moments (before it listens, so
    the flow's client sees refused connections, as it does from a slow server) and let go after
    ``SERVER_HELD_S``; the wait is then longer than Prefect's own 20 s whatever the machine's
    speed, and costs no CPU.  With ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=20`` the
    flow fails here ("Timed out while attempting to connect to ephemeral Prefect API
    server"); one small file is enough (the whole landing zone is ``scripts/run``'s, above)."""
    data = tmp_path / "data"
    one = Path("11140403MB6028813E") / "2026-10-20" / "luzhou_xzxk_20261020.csv"
    (data / "raw" / one.parent).mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "data" / "raw" / one, data / "raw" / one)
    home = tmp_path / "prefect"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SGS_"))}
    env |= {"SGS_DATA_DIR": str(data), "PREFECT_HOME": str(home)}
    flow = subprocess.Popen([sys.executable, str(PROJECT_ROOT / "flows" / "daily_monitor.py")],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)  # fmt: skip
    server = None
    try:
        deadline = time.monotonic() + 300
        while (server := _ephemeral_server(flow.pid)) is None:
            assert flow.poll() is None, flow.communicate()
            assert time.monotonic() < deadline, "the flow started no server"
            time.sleep(0.02)
        os.kill(server, signal.SIGSTOP)
        try:
            answered_before = _flow_run_recorded(home / "prefect.db")
            time.sleep(SERVER_HELD_S)
            waited = flow.poll() is None
        finally:
            os.kill(server, signal.SIGCONT)
        stdout, stderr = flow.communicate(timeout=600)
    finally:
        if flow.poll() is None:  # the test failed before the flow ended: stop it and its server
            flow.kill()
            flow.communicate()
            if server is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(server, signal.SIGKILL)
    assert not answered_before and waited, stdout[-2000:] + stderr[-2000:]
    assert flow.returncode == 0, stdout[-2000:] + stderr[-2000:]
    assert "日监测完成：新到文件 1 个" in stdout
    assert _flow_run_recorded(home / "prefect.db")
