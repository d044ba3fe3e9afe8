"""The office's clock (issue 10, item 13): dates of the office are in ``office_timezone``,
whatever the machine's zone.

The commands and the daily flow run in subprocesses with ``TZ=UTC``, as on the servers.  The
cases hold around the clock: a file time whose date differs between Shanghai and UTC, and for
"today" an office zone chosen so that, at the moment the test runs, its date is not UTC's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from support import warm_sgs
from support.prefect_home import migrated_home

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

UNIT = "111404000448224608"  # 长治市行政审批服务管理局
EVENING_UTC = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 2026-12-01 04:00 in Shanghai


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    return {**env, "TZ": "UTC", "SGS_DATA_DIR": str(root), **extra}


def _far_zone() -> str:
    """A zone whose date differs from UTC's right now (and for at least the next hour)."""
    return "Etc/GMT-14" if datetime.now(UTC).hour >= 11 else "Etc/GMT+12"


def _today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


def test_no_module_reads_the_machine_clock_for_an_office_date() -> None:
    """Every date and time of the office comes from sgs.clock."""
    pattern = re.compile(r"date\.today\(|datetime\.now\(|fromtimestamp\(|time\.localtime\(")
    offenders = [
        str(p.relative_to(PROJECT_ROOT))
        for p in [*(PROJECT_ROOT / "src").rglob("*.py"), *(PROJECT_ROOT / "flows").glob("*.py")]
        if p.name != "clock.py" and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("zone", "expected"), [(None, "2026-12-01"), ("UTC", "2026-11-30"), ("Asia/Shanghai", "2026-12-01")]
)  # fmt: skip
def test_a_file_time_is_a_received_date_of_the_office(tmp_path, zone, expected) -> None:
    """A file without a date folder gets its modification time's date in the office's zone."""
    root = tmp_path / "data"
    path = write_upload(
        generate("permit", 3, seed=90, unit=UNIT).frame, root / "raw" / UNIT / "许可.csv"
    )
    stamp = EVENING_UTC.timestamp()
    os.utime(path, (stamp, stamp))
    extra = {"SGS_OFFICE_TIMEZONE": zone} if zone else {}
    run = warm_sgs.run(["ingest", str(path), "--json"], env=_env(root, **extra))
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[0])
    assert (result["status"], result["received"]) == ("stored", expected)
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        row = con.execute("SELECT received_date, received_from FROM batches").fetchone()
    assert row == (date.fromisoformat(expected), "file time")


def test_today_is_the_office_s_date(tmp_path) -> None:
    """``sgs validate`` checks against today's date at the office, not the machine's."""
    zone = _far_zone()
    path = write_upload(generate("permit", 2, seed=91, unit=UNIT).frame, tmp_path / "许可.csv")
    before = _today_in(zone)
    run = warm_sgs.run(["validate", str(path), "--json"],
                       env=_env(tmp_path, SGS_OFFICE_TIMEZONE=zone))  # fmt: skip
    after = _today_in(zone)
    assert run.returncode in (0, 1), run.stderr
    assert json.loads(run.stdout)["received"] in {before.isoformat(), after.isoformat()}
    assert before != datetime.now(UTC).date() or after != datetime.now(UTC).date()


def test_an_unknown_zone_stops_with_a_message(tmp_path) -> None:
    path = write_upload(generate("permit", 2, seed=92, unit=UNIT).frame, tmp_path / "许可.csv")
    run = warm_sgs.run(["validate", str(path)],
                       env=_env(tmp_path, SGS_OFFICE_TIMEZONE="Mars/Olympus"))  # fmt: skip
    assert run.returncode == 2
    assert "office_timezone" in run.stderr and "Traceback" not in run.stderr


def test_the_daily_flow_runs_on_the_office_s_date(tmp_path, tmp_path_factory) -> None:
    """The daily flow, run as ``scripts/run`` runs it (ephemeral Prefect) with ``TZ=UTC``:
    today's landing folder of the office is not "in the future", and the feedback lists are
    dated today at the office."""
    zone = _far_zone()
    root = tmp_path / "data"
    today = _today_in(zone)
    frame = generate("permit", 6, seed=93, unit=UNIT, defect_rate=0.5,
                     start=date(2026, 10, 1), end=date(2026, 10, 31)).frame  # fmt: skip
    write_upload(frame, root / "raw" / UNIT / today.isoformat() / "许可.csv")
    env = _env(
        root, SGS_OFFICE_TIMEZONE=zone,
        PREFECT_HOME=str(migrated_home(tmp_path_factory, tmp_path / "prefect")),
        PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "flows" / "daily_monitor.py")], env=env,
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    after = _today_in(zone)
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        future = con.execute(
            "SELECT success FROM expectation_results WHERE expectation ="
            " 'expect_column_max_to_be_between' AND column_name = 'received_date'"
        ).fetchall()
    assert future == [(True,)]
    names = [p.name for p in (root / "curated" / "feedback" / UNIT).iterdir()]
    assert names in ([f"反馈清单_{today}.xlsx"], [f"反馈清单_{after}.xlsx"])
