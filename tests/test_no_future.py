"""No future (issue 18, item 6): a received date after the office's today is refused.

``--received`` of ``sgs ingest`` and ``sgs ledger`` is a usage error, a manifest entry dated
ahead quarantines its file (``manifest_entry``), so does a landing folder named for a day still
to come (``received_future``, a configuration problem tried again daily), and a modification
time ahead makes the file received today, said in its result.  docs/policy.md section 4.

Every test runs the command line in a subprocess against a temporary data root, as a user
would; "today" is :func:`sgs.clock.office_today`, the only date besides 2099 they use.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from support import warm_sgs
from support.rates_builders import PERMIT, company, write_ledger

from sgs.clock import office_today
from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
UNIT = "111404000448224608"  # 长治市行政审批服务管理局
FUTURE = "2099-01-01"
FUTURE_NOON = datetime(2099, 1, 1, 4, 0, tzinfo=UTC).timestamp()  # 2099-01-01 in any zone ±12 h


@pytest.fixture(autouse=True)
def _office_settings(monkeypatch) -> None:
    """The test's office_today() reads the settings the commands read: no SGS_ overrides."""
    for name in [k for k in os.environ if k.startswith("SGS_")]:
        monkeypatch.delenv(name)


@pytest.fixture
def root(tmp_path) -> Path:
    return tmp_path / "data"


def sgs(root: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    return warm_sgs.run(
        [*args], env={**env, "TZ": "UTC", "SGS_DATA_DIR": str(root), **extra}, timeout=300
    )


def results(run: subprocess.CompletedProcess) -> dict[str, dict]:
    """The ``--json`` lines of a run by file name."""
    return {Path(o["path"]).name: o for o in map(json.loads, run.stdout.splitlines())}


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def permits(path: Path, seed: int) -> Path:
    return write_upload(
        generate("permit", 3, seed=seed, unit=UNIT, end=date(2026, 11, 1)).frame, path
    )


def ledger(path: Path) -> Path:
    rows = [[str(i), PERMIT, f"长审批许〔2026〕{i}号", *company(i), "2026-10-10"] for i in (1, 2)]
    return write_ledger(path, rows)


def future_words(today: date) -> str:
    return f"晚于今天（{today.isoformat()}），不能是将来的日期"


def nothing_written(root: Path) -> bool:
    return not (root / "curated").exists() and not (root / "quarantine").exists()


# ============================================================================ --received


@pytest.mark.parametrize(
    "command",
    [
        ["ingest", "{file}", "--unit", UNIT, "--json"],
        ["ledger", "{file}", "--unit", UNIT, "--period", "2026-10", "--json"],
        ["ledger", "--zero", "--unit", UNIT, "--period", "2026-10"],
    ],
    ids=["ingest", "ledger", "zero report"],
)
def test_received_option_after_today_is_a_usage_error(root, tmp_path, command):
    file = (
        ledger(tmp_path / "台账_2026-10.csv")
        if "ledger" in command
        else permits(tmp_path / "许可.csv", seed=1)
    )
    args = [str(file) if a == "{file}" else a for a in command]
    run = sgs(root, *args, "--received", FUTURE)
    today = office_today()
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert f"错误：--received 的取值有误：接收日期「{FUTURE}」{future_words(today)}。" in run.stderr
    assert nothing_written(root)

    tomorrow = (today + timedelta(days=1)).isoformat()
    assert sgs(root, *args, "--received", tomorrow).returncode == 2
    assert nothing_written(root)

    accepted = sgs(root, *args, "--received", today.isoformat())  # today itself is no future
    assert accepted.returncode == 0, accepted.stderr
    assert query(root, "SELECT received_date, received_from FROM batches") == [(today, "option")]


def test_received_option_is_checked_against_the_office_s_today_not_the_machine_s(
    root, tmp_path, monkeypatch
):
    """The commands run with ``TZ=UTC``; the office is in a zone whose date is not UTC's now."""
    zone = "Etc/GMT-14" if datetime.now(UTC).hour >= 11 else "Etc/GMT+12"
    monkeypatch.setenv("SGS_OFFICE_TIMEZONE", zone)
    today = office_today()
    assert today != datetime.now(UTC).date()
    file = permits(tmp_path / "许可.csv", seed=2)
    ahead = sgs(root, "ingest", str(file), "--unit", UNIT, "--received",
                (today + timedelta(days=1)).isoformat(), SGS_OFFICE_TIMEZONE=zone)  # fmt: skip
    assert ahead.returncode == 2 and future_words(today) in ahead.stderr, ahead.stderr
    assert nothing_written(root)
    run = sgs(root, "ingest", str(file), "--unit", UNIT, "--received", today.isoformat(),
              "--json", SGS_OFFICE_TIMEZONE=zone)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert results(run)["许可.csv"]["received"] == today.isoformat()


# ============================================================================ the landing zone


def test_manifest_entry_after_today_quarantines_its_file(root):
    today = office_today()
    day = root / "raw" / UNIT / "2026-11-05"
    ahead = permits(day / "a.csv", seed=3)
    also_ahead = permits(day / "b.csv", seed=4)
    permits(day / "c.csv", seed=5)
    manifest = {"files": {"a.csv": {"received": FUTURE},
                          "b.csv": {"received": f"{FUTURE}T09:30:00+08:00"},
                          "c.csv": {"received": today.isoformat()}}}  # fmt: skip
    (day / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 1, run.stderr  # files were quarantined
    got = results(run)
    assert {n: (r["status"], r["reason"]) for n, r in got.items()} == {
        "a.csv": ("quarantined", "manifest_entry"),
        "b.csv": ("quarantined", "manifest_entry"),
        "c.csv": ("stored", None),
    }
    assert f"接收日期 received「{FUTURE}」{future_words(today)}" in got["a.csv"]["message"]
    assert (
        f"接收日期 received「{FUTURE}T09:30:00+08:00」{future_words(today)}"
        in got["b.csv"]["message"]
    )
    assert query(root, "SELECT file_name, received_date, received_from FROM batches") == [
        ("c.csv", today, "manifest")
    ]
    rows = query(root, "SELECT source_path, reason_code, received_date, unit_code, message"
                       " FROM quarantine ORDER BY source_path")  # fmt: skip
    assert [r[:4] for r in rows] == [
        (str(ahead), "manifest_entry", None, UNIT),
        (str(also_ahead), "manifest_entry", None, UNIT),
    ]
    assert all("不能是将来的日期" in r[4] and "清单" in r[4] for r in rows)


def test_landing_folder_after_today_is_a_configuration_problem(root):
    today = office_today()
    ahead = permits(root / "raw" / UNIT / FUTURE / "许可.csv", seed=6)
    permits(root / "raw" / UNIT / today.isoformat() / "今天.csv", seed=7)

    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 1, run.stderr
    got = results(run)
    assert (got["许可.csv"]["status"], got["许可.csv"]["reason"]) == (
        "quarantined",
        "received_future",
    )
    assert f"落地目录日期「{FUTURE}」{future_words(today)}" in got["许可.csv"]["message"]
    assert got["今天.csv"]["status"] == "stored"
    assert query(root, "SELECT file_name, received_date, received_from FROM batches") == [
        ("今天.csv", today, "folder")
    ]
    rows = query(root, "SELECT source_path, reason_code, received_date, unit_code, stored_path"
                       " FROM quarantine")  # fmt: skip
    assert [r[:4] for r in rows] == [(str(ahead), "received_future", None, UNIT)]
    assert Path(rows[0][4]).parent == root / "quarantine" / "undated"

    # The text summary files it under what the office fixes: renamed, it goes in.
    again = sgs(root, "ingest", str(ahead))
    assert again.returncode == 1
    assert any(
        "配置问题" in line and "received_future" in line for line in again.stdout.splitlines()
    )
    assert len(query(root, "SELECT * FROM quarantine")) == 1  # logged once per file and reason


def test_a_manifest_date_wins_over_a_future_folder(root):
    """The folder's date is the received date only when nothing before it gives one."""
    day = root / "raw" / UNIT / FUTURE
    permits(day / "a.csv", seed=8)
    (day / "manifest.json").write_text(
        json.dumps({"files": {"a.csv": {"received": "2026-11-05"}}}), encoding="utf-8"
    )
    run = sgs(root, "ingest", str(root / "raw"), "--json")
    assert run.returncode == 0, run.stderr
    assert query(root, "SELECT received_date, received_from FROM batches") == [
        (date(2026, 11, 5), "manifest")
    ]


# ============================================================================ file times


def test_file_time_after_today_is_received_today_and_said(root, tmp_path):
    today = office_today()
    note = f"文件修改时间 {FUTURE} 晚于今天，接收日期按今天 {today.isoformat()} 计"
    file = permits(tmp_path / "许可.csv", seed=9)  # no date folder, no manifest: its file time
    os.utime(file, (FUTURE_NOON, FUTURE_NOON))

    run = sgs(root, "ingest", str(file), "--unit", UNIT)
    assert run.returncode == 0, run.stderr
    assert note in run.stdout and "[入库]" in run.stdout
    assert query(root, "SELECT received_date, received_from FROM batches") == [(today, "today")]
    again = sgs(root, "ingest", str(file), "--unit", UNIT, "--json")
    assert again.returncode == 0, again.stderr
    skipped = results(again)["许可.csv"]
    assert skipped["status"] == "skipped" and skipped["message"].endswith(f"；{note}")

    sheet = ledger(tmp_path / "台账_2026-10.csv")
    os.utime(sheet, (FUTURE_NOON, FUTURE_NOON))
    run = sgs(root, "ledger", str(sheet), "--unit", UNIT, "--period", "2026-10")
    assert run.returncode == 0, run.stderr
    assert note in run.stdout
    assert query(
        root, "SELECT received_date, received_from FROM batches WHERE kind = 'ledger'"
    ) == [(today, "today")]


def test_file_time_up_to_today_is_the_received_date_without_a_note(root, tmp_path):
    file = permits(tmp_path / "许可.csv", seed=10)
    stamp = datetime(2026, 11, 5, 4, 0, tzinfo=UTC).timestamp()  # 12:00 in Shanghai
    os.utime(file, (stamp, stamp))
    run = sgs(root, "ingest", str(file), "--unit", UNIT, "--json")
    assert run.returncode == 0, run.stderr
    assert "文件修改时间" not in results(run)["许可.csv"]["message"]
    assert query(root, "SELECT received_date, received_from FROM batches") == [
        (date(2026, 11, 5), "file time")
    ]
