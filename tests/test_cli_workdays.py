"""``sgs workdays add|is`` run as a user runs them: the installed executable.

Exit codes: ``add`` 0 on success; ``is`` 0 for a workday, 1 otherwise; both 2 for a date (or
result) in a year without holiday data, a malformed holidays file, or a malformed argument.
Every run gets an empty holidays folder of its own (``$SGS_HOLIDAYS_DIR``), so the calendar
covers exactly chinesecalendar's 2004–2026 whatever files the checkout ships.  Tests that compare
stderr or the JSON object exactly get a folder reaching the year after today instead, so that no
horizon warning joins them whatever the real date (the warning: test_calendar_horizon.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import warm_sgs
from support.holidays_2027 import TEST_2027
from support.holidays_ahead import cover_next_year

from sgs.clock import office_today

SGS = Path(sys.executable).with_name("sgs")
if not SGS.exists():  # pragma: no cover - running outside the project's venv
    SGS = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sgs"

CJK = re.compile(r"[\u4e00-\u9fff]")


def workdays(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SGS_HOLIDAYS_DIR": str(folder)}
    return warm_sgs.run(["workdays", *args], env=env, timeout=60)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def covered(tmp_path: Path) -> Path:
    """A holidays folder reaching the year after today: no horizon warning is due."""
    return cover_next_year(tmp_path / "covered", office_today())


def test_add_policy_example(covered: Path) -> None:
    run = workdays(covered, "add", "2022-01-28", "7")
    assert (run.returncode, run.stdout, run.stderr) == (0, "2022-02-11\n", "")


def test_add_json(covered: Path) -> None:
    run = workdays(covered, "add", "--json", "2022-09-30", "1")
    assert run.returncode == 0
    assert json.loads(run.stdout) == {
        "date": "2022-09-30",
        "n": 1,
        "result": "2022-10-08",
        "horizon_warning": None,
    }


@pytest.mark.parametrize(
    ("day", "code", "line"),
    [
        ("2022-01-29", 0, "2022-01-29 是工作日（调休上班）"),
        ("2022-01-28", 0, "2022-01-28 是工作日"),
        ("2022-01-31", 1, "2022-01-31 不是工作日（法定节假日：春节）"),
        ("2022-01-22", 1, "2022-01-22 不是工作日（周末）"),
        ("2022-10-01", 1, "2022-10-01 不是工作日（法定节假日：国庆节）"),
    ],
)
def test_is(covered: Path, day: str, code: int, line: str) -> None:
    run = workdays(covered, "is", day)
    assert (run.returncode, run.stdout, run.stderr) == (code, line + "\n", "")


def test_is_json(covered: Path) -> None:
    run = workdays(covered, "is", "--json", "2022-01-31")
    assert run.returncode == 1
    assert json.loads(run.stdout) == {
        "date": "2022-01-31",
        "workday": False,
        "kind": "法定节假日",
        "holiday": "春节",
        "source": "chinesecalendar",
        "horizon_warning": None,
    }
    run = workdays(covered, "is", "--json", "2022-01-30")
    assert run.returncode == 0
    assert json.loads(run.stdout)["kind"] == "调休上班"


@pytest.mark.parametrize(
    "args", [("is", "2027-01-04"), ("add", "2027-03-01", "1"), ("add", "2026-12-28", "7")]
)
def test_uncovered_year(folder: Path, args: tuple[str, ...]) -> None:
    run = workdays(folder, *args)
    assert run.returncode == 2
    assert run.stdout == ""
    assert CJK.search(run.stderr)
    assert "2027.toml" in run.stderr


@pytest.mark.parametrize(
    "args", [("is", "2022-13-01"), ("add", "2022/01/28", "7"), ("add", "2022-01-28", "0")]
)
def test_malformed_arguments(folder: Path, args: tuple[str, ...]) -> None:
    run = workdays(folder, *args)
    assert run.returncode == 2
    assert run.stdout == ""


def test_a_2027_file_makes_2027_computable(folder: Path) -> None:
    (folder / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    run = workdays(folder, "add", "2026-12-28", "7")
    assert (run.returncode, run.stdout) == (0, "2027-01-07\n")
    run = workdays(folder, "is", "--json", "2027-02-20")
    assert run.returncode == 0
    assert json.loads(run.stdout)["source"] == "2027.toml"


def test_a_malformed_file_is_reported(folder: Path) -> None:
    (folder / "2027.toml").write_text(
        TEST_2027.replace("date = 2027-02-20", "date = 2027-02-17"), encoding="utf-8"
    )
    run = workdays(folder, "is", "2022-01-28")
    assert run.returncode == 2
    assert "2027.toml" in run.stderr
    assert "星期三" in run.stderr
