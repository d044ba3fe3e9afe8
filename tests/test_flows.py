"""The real flows, run by Prefect's test harness on a temporary data root."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support import warm_sgs
from support.prefect_home import migrated_home

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_flows")

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

UNIT = "111404000448224608"  # 长治市行政审批服务管理局
MARKET = "11140400041270234C"  # 长治市市场监督管理局
TODAY = date(2026, 11, 10)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-home")
    os.environ["PREFECT_HOME"] = str(home)
    import prefect.testing.utilities as harnesses

    # The harness puts its database, prefect-test.db, in a folder of mkdtemp's: that folder
    # gets a copy of the session's migrated database, so the server starts without migrating.
    database = migrated_home(tmp_path_factory, tmp_path_factory.mktemp("prefect-db"))
    (database / "prefect.db").rename(database / "prefect-test.db")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(harnesses, "mkdtemp", lambda: str(database))
        with harnesses.prefect_test_harness(server_startup_timeout=120):
            yield


def load(entrypoint: str):
    from prefect.flows import load_flow_from_entrypoint

    return load_flow_from_entrypoint(str(PROJECT_ROOT / entrypoint))


def artifacts_of(state) -> dict[str, object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    async def read():
        async with get_client() as client:
            flt = ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
            return await client.read_artifacts(artifact_filter=flt)

    return {a.key: a for a in asyncio.run(read())}


def task_states(state) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read():
        async with get_client() as client:
            flt = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
            return await client.read_task_runs(flow_run_filter=flt)

    return {t.name: t.state.type.value for t in asyncio.run(read())}


@pytest.fixture
def landing(tmp_path) -> Path:
    """Two units' uploads: a clean file, a file with errors, a corrupt workbook and a ledger."""
    return land(tmp_path / "data")


@pytest.fixture(scope="module")
def monitored(harness, tmp_path_factory) -> Path:
    """:func:`landing` after the daily run of TODAY, once for the tests that start from there
    (each works on a copy: :func:`after_daily`)."""
    root = land(tmp_path_factory.mktemp("monitored") / "data")
    load("flows/daily_monitor.py:daily_monitor")(data_root=str(root), today=TODAY)
    return root


@pytest.fixture
def after_daily(monitored, tmp_path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(monitored, root)
    return root


def land(root: Path) -> Path:
    day = root / "raw" / UNIT / "2026-11-05"
    clean = generate(
        "permit", 12, seed=70, unit=UNIT, start=date(2026, 10, 20), end=date(2026, 11, 4)
    )
    write_upload(clean.frame, day / "许可_干净.csv")
    broken = generate("penalty", 15, seed=71, unit=MARKET, defect_rate=0.4,
                      start=date(2026, 10, 20), end=date(2026, 11, 4))  # fmt: skip
    write_upload(broken.frame, root / "raw" / MARKET / "2026-11-06" / "处罚_有问题.xlsx")
    (day / "损坏.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    ledger = clean.frame.select(
        pl.lit("行政许可").alias("类别"), pl.col("XK_WSH").alias("决定文书号"),
        pl.col("XK_XDR_MC").alias("行政相对人名称"), pl.col("XK_JDRQ").alias("决定日期"),
    )  # fmt: skip
    ledger_day = root / "raw" / UNIT / "2026-11-04"
    ledger_day.mkdir(parents=True)
    ledger.write_csv(ledger_day / "台账_2026-10.csv")
    return root


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_daily_monitor_stores_quarantines_checks_and_publishes(harness, landing):
    daily = load("flows/daily_monitor.py:daily_monitor")
    state = daily(data_root=str(landing), today=TODAY, return_state=True)
    assert state.is_completed(), state  # a bad file fails its task, not the run
    summary = state.result()
    assert (summary["files"], summary["stored"], summary["quarantined"]) == (4, 3, 1)
    assert "2026-11" in summary["periods"] and "2026-10" in summary["periods"]

    # the store: two upload batches and a ledger; the corrupt file quarantined with its reason
    kinds = query(landing, "SELECT kind, rows_read, rows_stored FROM batches ORDER BY kind")
    assert [k for k, *_ in kinds] == ["ledger", "penalty", "permit"]
    assert all(read == stored for _, read, stored in kinds)
    assert query(landing, "SELECT file_name, reason_code FROM quarantine") == [
        ("损坏.xlsx", "unreadable")
    ]
    # expectations ran on both upload batches and were kept
    checked = query(landing, "SELECT DISTINCT batch_id FROM expectation_results ORDER BY 1")
    assert len(checked) == 2
    # feedback lists for the affected units, Data Docs on disk
    for path in summary["feedback"]:
        assert Path(path).is_file() and Path(path).suffix == ".xlsx"
    assert {Path(p).parent.name for p in summary["feedback"]} == {UNIT, MARKET}
    assert Path(summary["data_docs"]).read_text(encoding="utf-8").count("batch_") >= 2
    assert (landing / "curated" / "rates" / "rates_2026-11.csv").is_file()

    # what engineers see in the UI
    tasks = task_states(state)
    assert all(name.isascii() for name in tasks), tasks  # the UI's timeline draws no Chinese
    failed = [name for name, s in tasks.items() if s == "FAILED"]
    assert len(failed) == 1 and failed[0].startswith(f"ingest-{UNIT}-20261105-")
    arts = artifacts_of(state)
    assert {"daily-files", "daily-rates", "daily-expectations", "data-docs"} <= set(arts)
    files = json.loads(arts["daily-files"].data)
    assert {row["结果"] for row in files} == {"已入库", "已隔离"}
    assert all(list(row)[:3] == ["结果", "入库", "不合规"] for row in files)  # outcome first
    assert any(row["文件"].endswith("处罚_有问题.xlsx") and row["不合规"] > 0 for row in files)
    corrupt = next(row for row in files if row["文件"].endswith("损坏.xlsx"))
    assert corrupt["任务"] == failed[0]  # the table names the task of each file
    assert {row["任务"] for row in files} == set(tasks) & {row["任务"] for row in files}
    market = next(row for row in files if row["任务"].startswith(f"ingest-{MARKET}-"))
    assert market["单位"] == "长治市市场监督管理局"
    # why a file was quarantined: a list of its own, which the UI wraps
    assert arts["daily-quarantine"].data.startswith(f"- **{UNIT}/2026-11-05/损坏.xlsx**（任务 ")
    assert "2026-11" in arts["daily-rates"].description
    rates = json.loads(arts["daily-rates"].data)
    assert {(r["单位"], r["单位代码"]) for r in rates} >= {("长治市市场监督管理局", MARKET)}
    # links a browser opens: the download page at public_url (default), never file://
    assert arts["data-docs"].data == "[数据质量检查报告（Data Docs）](http://127.0.0.1:8000/docs/)"
    batches = [b for (b,) in checked]
    for batch_id in batches:
        assert f"[{batch_id}](http://127.0.0.1:8000/docs/batch/{batch_id})" in (
            arts["daily-expectations"].data
        )
    # the calendar's horizon heads it when next year's holidays file is missing on TODAY
    from sgs.reference.horizon import horizon_warning

    warned = arts["daily-expectations"].data.startswith("> **工作日历提醒**")
    assert warned == (horizon_warning(TODAY) is not None)
    assert sorted(arts["daily-feedback"].data.splitlines()) == sorted(
        f"- [{name}（{code}）](http://127.0.0.1:8000/download/feedback/{code}.xlsx)"
        f"：反馈清单\\_{TODAY}.xlsx"
        for code, name in ((UNIT, "长治市行政审批服务管理局"), (MARKET, "长治市市场监督管理局"))
    )
    assert "file://" not in json.dumps({k: a.data for k, a in arts.items()}, ensure_ascii=False)

    # a second run finds nothing new and changes nothing
    again = daily(data_root=str(landing), today=TODAY)
    assert (again["files"], again["stored"], again["checked"]) == (0, 0, [])
    assert len(query(landing, "SELECT * FROM batches")) == 3


def test_a_batch_stored_by_sgs_ingest_reaches_the_data_docs(harness, landing):
    """Issue 21: a file stored with `sgs ingest` (which runs no expectation suite) is checked by
    the next daily run, although that run did not ingest it, and its page is written; a run
    after that checks nothing again."""
    clean = landing / "raw" / UNIT / "2026-11-05" / "许可_干净.csv"
    env = {**os.environ, "SGS_DATA_DIR": str(landing)}
    done = warm_sgs.run(["ingest", str(clean), "--json"], env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    batch_id = json.loads(done.stdout)["batch_id"]
    assert not (landing / "curated" / "data_docs").exists()

    daily = load("flows/daily_monitor.py:daily_monitor")
    state = daily(data_root=str(landing), today=TODAY, return_state=True)
    summary = state.result()
    assert summary["files"] == 3  # the three other files: the stored one is not new
    assert batch_id in summary["checked"]
    checked = "SELECT DISTINCT batch_id FROM expectation_results ORDER BY 1"
    assert (batch_id,) in query(landing, checked)
    page = landing / "curated" / "data_docs" / f"batch_{batch_id}.html"
    assert f"批次 {batch_id}：许可_干净.csv" in page.read_text(encoding="utf-8")
    index = Path(summary["data_docs"]).read_text(encoding="utf-8")
    assert f'href="batch_{batch_id}.html"' in index
    link = f"[{batch_id}](http://127.0.0.1:8000/docs/batch/{batch_id})"
    assert link in artifacts_of(state)["daily-expectations"].data

    kept = query(landing, "SELECT * FROM expectation_results ORDER BY ALL")
    pages = sorted(p.name for p in page.parent.iterdir())
    again = daily(data_root=str(landing), today=TODAY)
    assert (again["files"], again["checked"]) == (0, [])
    assert query(landing, "SELECT * FROM expectation_results ORDER BY ALL") == kept
    assert sorted(p.name for p in page.parent.iterdir()) == pages


def test_weekly_reminder_lists_overdue_missing_and_low(harness, after_daily):
    landing = after_daily
    weekly = load("flows/weekly_reminder.py:weekly_reminder")
    # Monday 2026-11-23: errors reported 2026-11-06 were due 5 workdays later (2026-11-13)
    state = weekly(data_root=str(landing), today=date(2026, 11, 23), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert Path(result["file"]).is_file() and result["period"] == "2026-10"
    arts = artifacts_of(state)
    text = arts["weekly-reminder"].data
    assert "长治市市场监督管理局" in text  # its penalty file has errors past their deadline
    assert "台账未报送" in text  # most units sent no October ledger by the 3rd workday
    assert {"weekly-reminder", "weekly-reminder-table", "weekly-reminder-file"} <= set(arts)
    assert result["file"] in arts["weekly-reminder-file"].data  # the path, as text
    rows = json.loads(arts["weekly-reminder-table"].data)
    market = [r for r in rows if r["单位代码"] == MARKET]
    assert market and {r["单位"] for r in market} == {"长治市市场监督管理局"}
    assert not any(c in r["说明"] for r in rows for c in ("_rate", "permit", "penalty"))
    assert "file://" not in arts["weekly-reminder-file"].data


def test_monthly_bulletin_publishes_rates_and_a_link(harness, after_daily, monkeypatch):
    landing = after_daily
    monthly = load("flows/monthly_bulletin.py:monthly_bulletin")
    state = monthly(data_root=str(landing), period="2026-11", return_state=True)
    assert state.is_completed()
    result = state.result()
    assert Path(result["file"]).is_file()
    arts = artifacts_of(state)
    # a markdown link to the workbook on the download page
    assert arts["monthly-bulletin"].data == (
        "[2026-11 月通报](http://127.0.0.1:8000/download/bulletin/2026-11.xlsx)"
    )
    rows = json.loads(arts["monthly-rates"].data)
    assert any(row["单位"] == "长治市行政审批服务管理局" for row in rows)
    # the month is published on the schedule (revision 1, by the flow) ...
    assert result["revision"] == 1
    assert arts["monthly-publication"].data.startswith("2026-11 已发布第 1 版")
    stored = "SELECT revision, published_by FROM publications WHERE period = '2026-11'"
    assert query(landing, stored) == [(1, "monthly_bulletin")]
    # the bulletin the office downloads is the stored revision, byte for byte
    ((stored_bytes,),) = query(landing, "SELECT bulletin FROM publications WHERE revision = 1")
    assert Path(result["file"]).read_bytes() == bytes(stored_bytes)
    # ... unless the setting turns that off
    monkeypatch.setenv("SGS_PUBLISH_MONTHLY", "false")
    again = monthly(data_root=str(landing), period="2026-11")
    assert again["revision"] is None and Path(again["file"]).is_file()
    assert query(landing, stored) == [(1, "monthly_bulletin")]


def test_flows_are_importable_as_prefect_entrypoints():
    for entry in ("flows/daily_monitor.py:daily_monitor", "flows/weekly_reminder.py:weekly_reminder",
                  "flows/monthly_bulletin.py:monthly_bulletin"):  # fmt: skip
        assert load(entry).name in entry


def test_daily_monitor_deduplicates_per_unit_and_retries_configuration(
    harness, tmp_path, monkeypatch
):
    """Item 11: the same bytes sent later by another unit are stored for it; a file quarantined
    for configuration (unknown unit, manifest) is tried by every run until it goes in; one
    quarantined for its content is not tried again."""
    root = tmp_path / "data"
    units = tmp_path / "units.csv"
    shutil.copy(PROJECT_ROOT / "config" / "units.csv", units)
    monkeypatch.setenv("SGS_UNITS_FILE", str(units))
    daily = load("flows/daily_monitor.py:daily_monitor")
    frame = generate("permit", 5, seed=80, unit=UNIT, start=date(2026, 10, 20),
                     end=date(2026, 11, 4)).frame  # fmt: skip
    first = write_upload(frame, root / "raw" / UNIT / "2026-11-05" / "许可.csv")
    newcomer = "91140400MA0TEST01X"
    write_upload(frame.head(3), root / "raw" / newcomer / "2026-11-05" / "许可.csv")
    mislabelled = write_upload(frame.tail(2), root / "raw" / UNIT / "2026-11-06" / "补报.csv")
    manifest = mislabelled.parent / "manifest.json"
    manifest.write_text(json.dumps({"files": {"补报.csv": {"kind": "许可"}}}), encoding="utf-8")
    (first.parent / "损坏.xlsx").write_bytes(b"PK\x03\x04 not a workbook")

    one = daily(data_root=str(root), today=TODAY)
    assert (one["files"], one["stored"], one["quarantined"]) == (4, 1, 3)
    reasons = {q["reason"] for q in one["quarantined_files"]}
    assert reasons == {"unknown_unit", "manifest_entry", "unreadable"}

    # the same bytes arrive from another unit: new for that unit
    copy = root / "raw" / MARKET / "2026-11-07" / "许可.csv"
    copy.parent.mkdir(parents=True)
    shutil.copy(first, copy)
    two = daily(data_root=str(root), today=TODAY)
    assert (two["files"], two["stored"], two["quarantined"]) == (3, 1, 2)
    assert {q["reason"] for q in two["quarantined_files"]} == {"unknown_unit", "manifest_entry"}
    assert query(root, "SELECT unit_code, rows_stored FROM batches ORDER BY unit_code") == [
        (MARKET, 5), (UNIT, 5),
    ]  # fmt: skip

    # the office fixes the registry and the manifest: both go in; the corrupt file stays out
    with units.open("a", encoding="utf-8") as fh:
        fh.write(f"{newcomer},长治市测试新增局,department,\n")
    manifest.write_text(json.dumps({"files": {"补报.csv": {"kind": "permit"}}}), encoding="utf-8")
    three = daily(data_root=str(root), today=TODAY)
    assert (three["files"], three["stored"], three["quarantined"]) == (2, 2, 0)
    four = daily(data_root=str(root), today=TODAY)
    assert (four["files"], four["stored"], four["quarantined"]) == (0, 0, 0)
    assert query(root, "SELECT count(*) FROM batches") == [(4,)]
    assert query(root, "SELECT count(*) FROM quarantine") == [(3,)]


def test_a_rebuilt_store_gets_its_expectation_results_again(harness, after_daily):
    """Item 12: the office re-ingests into a new store at the same path; the expectations run
    again and are stored (no cached result stands in for the write), and Data Docs show them."""
    landing = after_daily
    daily = load("flows/daily_monitor.py:daily_monitor")
    batches = "SELECT DISTINCT batch_id FROM expectation_results ORDER BY 1"
    before = query(landing, batches)
    assert len(before) == 2
    shutil.rmtree(landing / "curated")
    summary = daily(data_root=str(landing), today=TODAY)
    assert summary["stored"] == 3
    assert query(landing, batches) == before
    assert Path(summary["data_docs"]).read_text(encoding="utf-8").count("batch_") >= 2


def test_daily_monitor_lists_files_left_by_name(harness, landing):
    """Item 10: lock files and partial downloads are not ingested, and the run says so."""
    day = landing / "raw" / UNIT / "2026-11-05"
    shutil.copy(day / "许可_干净.csv", day / "~$许可_干净.csv")
    (day / "上传中.xlsx.part").write_bytes(b"partial")
    daily = load("flows/daily_monitor.py:daily_monitor")
    state = daily(data_root=str(landing), today=TODAY, return_state=True)
    summary = state.result()
    assert summary["files"] == 4
    assert sorted(Path(p).name for p in summary["ignored"]) == [
        "~$许可_干净.csv",
        "上传中.xlsx.part",
    ]
    files = json.loads(artifacts_of(state)["daily-files"].data)
    assert [r["结果"] for r in files if r["文件"].endswith(".part")] == ["已忽略"]
    assert query(landing, "SELECT count(*) FROM quarantine") == [(1,)]


def test_daily_monitor_computes_the_rates_as_of_yesterday(harness, landing):
    """Issue 18: the 06:00 run computes the rates of the day that has ended.  Run on 11-06, the
    market's file received that day is stored but not counted; the permits received the day
    before (11-05) are.  The feedback lists use today's date: the market's holds that file's
    problems at once (docs/policy.md section 6)."""
    import openpyxl

    today = date(2026, 11, 6)
    daily = load("flows/daily_monitor.py:daily_monitor")
    state = daily(data_root=str(landing), today=today, return_state=True)
    summary = state.result()
    assert summary["stored"] == 3 and "2026-11" in summary["periods"]
    arts = artifacts_of(state)
    assert "截至 2026-11-05（昨日）" in arts["daily-rates"].description
    shown = {
        (r["月份"], r["单位代码"], r["类别"]): r["上报"]
        for r in json.loads(arts["daily-rates"].data)
    }
    assert shown[("2026-11", UNIT, "行政许可")] == 12  # received yesterday
    assert not any(code == MARKET for _, code, _ in shown)  # received today
    kept = pl.read_csv(landing / "curated" / "rates" / "rates_2026-11.csv")
    market = kept.filter((pl.col("unit_code") == MARKET) & (pl.col("kind") == "penalty"))
    assert market["uploaded"].to_list() == [0]
    assert query(landing, f"SELECT count(*) FROM batches WHERE unit_code = '{MARKET}'") == [(1,)]
    (feedback,) = [p for p in summary["feedback"] if Path(p).parent.name == MARKET]
    assert Path(feedback).name == f"反馈清单_{today}.xlsx"
    cells = [c for r in openpyxl.load_workbook(feedback).active.iter_rows(values_only=True)
             for c in r]  # fmt: skip
    assert any(str(c).startswith("处罚_有问题.xlsx") for c in cells)  # with its sheet
