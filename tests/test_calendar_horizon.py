"""The calendar's horizon (issue 18, item 7): from ``calendar_warning_from`` on, a calendar that
does not reach next year is warned about — in ``sgs workdays``, the daily run's markdown and the
office's month page.

The core function takes ``today``, so its tests name their dates.  The command and the page read
the real clock, so their tests decide the outcome by the settings and the holidays folder alone:
an empty folder (the calendar ends with 2026, which no real date of these tests is before) with
``SGS_CALENDAR_WARNING_FROM=01-01`` always warns; a folder reaching the year after today never
does.

Hand-worked facts (chinesecalendar 2026, no holidays in late December; 2026-12-31 is a
Thursday): the last workdays of 2026 are 12-31, 30, 29, 28, 25, 24, 23, 22, 21, 18.  The 7th
workday after 12-22 is 12-31; after 12-23 it is in 2027.  So with the calendar ending 2026 the
first undecided decision date is **2026-12-23** for 7 workdays, **2026-12-18** for 10 (the 10th
workday counted back from 12-31), and 2026-12-31 itself for 1.  With the invented 2027 file
(no December holidays, 2027-12-31 a Friday) the 7th workday back from 2027-12-31 is
**2027-12-23**.
"""

from __future__ import annotations

import json
import os
import subprocess
import warnings
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from support import warm_sgs
from support.holidays_2027 import TEST_2027
from support.holidays_ahead import cover_next_year
from support.web_login import login, token_for

from sgs.clock import office_today
from sgs.errors import CalendarGap, SettingsError
from sgs.jobs import artifacts
from sgs.reference.calendar import add_workdays, first_start_beyond, last_covered_year
from sgs.reference.horizon import horizon_warning, warning_starts
from sgs.reference.settings import load_settings
from sgs.web import app as web

with warnings.catch_warnings():  # starlette asks for httpx2, which the lock file does not have
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient


SECRET = "horizon-office-secret"
LUZHOU = "11140403MB6028813E"  # 长治市潞州区人民政府
LAST_2026 = date(2026, 12, 31)


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty holidays folder in force: the calendar is chinesecalendar's, ending with 2026."""
    folder = tmp_path / "holidays"
    folder.mkdir()
    monkeypatch.setenv("SGS_HOLIDAYS_DIR", str(folder))
    monkeypatch.delenv("SGS_CALENDAR_WARNING_FROM", raising=False)
    monkeypatch.delenv("SGS_DEADLINE_WORKDAYS", raising=False)
    monkeypatch.delenv("SGS_SETTINGS_FILE", raising=False)
    return folder


def oracle_first_undecided(n: int) -> date:
    """The first day of December 2026 with fewer than ``n`` workdays after it up to 2026-12-31,
    counted day by day with chinesecalendar itself (not our calendar's index arithmetic)."""
    day = date(2026, 12, 1)
    while True:
        after = [day + timedelta(days=i) for i in range(1, (LAST_2026 - day).days + 1)]
        if sum(chinese_calendar.is_workday(d) for d in after) < n:
            return day
        day += timedelta(days=1)


# --------------------------------------------------------------------------- the core function


def test_the_calendar_ends_with_2026_without_files(empty: Path) -> None:
    assert last_covered_year() == 2026


@pytest.mark.parametrize(
    ("n", "first"), [(7, date(2026, 12, 23)), (10, date(2026, 12, 18)), (1, LAST_2026)]
)
def test_first_undecided_decision_hand_worked(empty: Path, n: int, first: date) -> None:
    assert first_start_beyond(n) == first
    assert oracle_first_undecided(n) == first  # chinesecalendar agrees with the hand count
    # the boundary, by the calendar's own add_workdays: the day before still has a deadline
    assert add_workdays(first - timedelta(days=1), n) <= LAST_2026
    with pytest.raises(CalendarGap):
        add_workdays(first, n)


def test_seven_workdays_after_the_boundary_days(empty: Path) -> None:
    assert add_workdays(date(2026, 12, 22), 7) == LAST_2026
    with pytest.raises(CalendarGap) as gap:
        add_workdays(date(2026, 12, 23), 7)
    assert gap.value.year == 2027


def test_n_must_be_a_positive_integer(empty: Path) -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError):
            first_start_beyond(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("today", "warned"),
    [
        (date(2025, 12, 20), False),  # 2026 is covered: next year is there
        (date(2026, 1, 2), False),
        (date(2026, 10, 31), False),  # the day before calendar_warning_from
        (date(2026, 11, 1), True),  # from 11-01 on
        (date(2026, 12, 31), True),
        (date(2027, 3, 1), True),  # past the calendar's end: all year
        (date(2028, 10, 1), True),
    ],
)
def test_when_the_warning_is_due(empty: Path, today: date, warned: bool) -> None:
    assert (horizon_warning(today) is not None) is warned


def test_the_warning_names_the_file_and_the_first_undecided_decision(empty: Path) -> None:
    found = horizon_warning(date(2026, 11, 1))
    assert found is not None
    assert (found.year, found.last_covered_year, found.deadline_workdays) == (2027, 2026, 7)
    assert found.file == empty.resolve() / "2027.toml"
    assert found.first_undecided_decision == date(2026, 12, 23)
    assert str(found.file) in found.message
    assert "2026-12-23" in found.message and "第 7 个工作日" in found.message
    assert "《国务院办公厅关于2027年部分节假日安排的通知》" in found.message
    assert found.as_json() == {
        "message": found.message,
        "file": str(empty.resolve() / "2027.toml"),
        "year": 2027,
        "last_covered_year": 2026,
        "first_undecided_decision": "2026-12-23",
        "deadline_workdays": 7,
    }


def test_past_the_end_the_message_says_today_is_outside(empty: Path) -> None:
    found = horizon_warning(date(2028, 2, 1))
    assert found is not None
    assert found.year == 2027  # years are contiguous: 2027 first, even in 2028
    assert "今天（2028-02-01）已超出工作日历范围" in found.message
    assert str(empty.resolve() / "2027.toml") in found.message


def test_the_setting_moves_the_start(empty: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SGS_CALENDAR_WARNING_FROM", "12-01")
    assert warning_starts(2026) == date(2026, 12, 1)
    assert horizon_warning(date(2026, 11, 30)) is None
    assert horizon_warning(date(2026, 12, 1)) is not None
    monkeypatch.setenv("SGS_CALENDAR_WARNING_FROM", "01-01")
    assert horizon_warning(date(2026, 1, 1)) is not None


def test_the_deadline_setting_moves_the_first_undecided_decision(
    empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SGS_DEADLINE_WORKDAYS", "10")
    found = horizon_warning(date(2026, 11, 15))
    assert found is not None
    assert (found.first_undecided_decision, found.deadline_workdays) == (date(2026, 12, 18), 10)
    assert "第 10 个工作日" in found.message


def test_a_file_for_next_year_ends_the_warning_at_once(empty: Path) -> None:
    """The month page runs for weeks: the file added counts without a restart."""
    assert horizon_warning(date(2026, 11, 15)) is not None
    (empty / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    assert horizon_warning(date(2026, 11, 15)) is None
    assert horizon_warning(date(2027, 10, 31)) is None
    found = horizon_warning(date(2027, 11, 1))  # and next autumn, 2028 is missing
    assert found is not None
    assert (found.year, found.file.name) == (2028, "2028.toml")
    assert found.first_undecided_decision == date(2027, 12, 23)


def test_a_later_file_after_a_gap_does_not_count(empty: Path) -> None:
    (empty / "2028.toml").write_text(TEST_2027.replace("2027", "2028"), encoding="utf-8")
    found = horizon_warning(date(2026, 11, 15))
    assert found is not None and found.file.name == "2027.toml"


@pytest.mark.parametrize("bad", ["11-1", "1101", "13-01", "02-29", "11-31", "", "next"])
def test_a_bad_month_day_is_refused(empty: Path, monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("SGS_CALENDAR_WARNING_FROM", bad)
    with pytest.raises(SettingsError, match="calendar_warning_from"):
        load_settings()
    monkeypatch.delenv("SGS_CALENDAR_WARNING_FROM")
    monkeypatch.setenv("SGS_DIRECTORY_DUE", bad)  # the other month-days are checked alike
    with pytest.raises(SettingsError, match="directory_due"):
        load_settings()


def test_the_default_is_november_first(empty: Path) -> None:
    assert load_settings().calendar_warning_from == "11-01"


# --------------------------------------------------------------------------- sgs workdays


def workdays(folder: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SGS_HOLIDAYS_DIR": str(folder), **settings}
    for name in ("SGS_CALENDAR_WARNING_FROM", "SGS_DEADLINE_WORKDAYS", "SGS_SETTINGS_FILE"):
        if name not in settings:
            env.pop(name, None)
    return warm_sgs.run(["workdays", *args], env=env, timeout=60)


ALWAYS = {"SGS_CALENDAR_WARNING_FROM": "01-01"}


def test_cli_warns_on_stderr_and_in_json(empty: Path) -> None:
    run = workdays(empty, "add", "--json", "2022-01-28", "7", **ALWAYS)
    assert run.returncode == 0
    payload = json.loads(run.stdout)
    assert payload["result"] == "2022-02-11"
    warning = payload["horizon_warning"]
    assert {k: v for k, v in warning.items() if k != "message"} == {
        "file": str(empty.resolve() / "2027.toml"),
        "year": 2027,
        "last_covered_year": 2026,
        "first_undecided_decision": "2026-12-23",
        "deadline_workdays": 7,
    }
    assert run.stderr == f"提醒：{warning['message']}\n"
    assert str(empty.resolve() / "2027.toml") in warning["message"]


def test_cli_exit_codes_are_unchanged_by_the_warning(empty: Path) -> None:
    run = workdays(empty, "add", "2022-01-28", "7", **ALWAYS)
    assert (run.returncode, run.stdout) == (0, "2022-02-11\n")
    assert run.stderr.startswith("提醒：") and "2026-12-23" in run.stderr
    run = workdays(empty, "is", "2022-01-22", **ALWAYS)  # a Saturday
    assert (run.returncode, run.stdout) == (1, "2022-01-22 不是工作日（周末）\n")
    assert run.stderr.startswith("提醒：")
    run = workdays(empty, "is", "--json", "2022-01-24", **ALWAYS)
    assert run.returncode == 0 and json.loads(run.stdout)["horizon_warning"]["year"] == 2027
    run = workdays(empty, "add", "2026-12-23", "7", **ALWAYS)  # the first undecided decision
    assert (run.returncode, run.stdout) == (2, "")
    lines = run.stderr.splitlines()
    assert lines[0].startswith("无法计算工作日") and lines[-1].startswith("提醒：")


def test_cli_uses_the_deadline_setting(empty: Path) -> None:
    run = workdays(empty, "is", "--json", "2022-01-24", SGS_DEADLINE_WORKDAYS="10", **ALWAYS)
    assert json.loads(run.stdout)["horizon_warning"]["first_undecided_decision"] == "2026-12-18"


def test_cli_is_quiet_when_next_year_is_covered(tmp_path: Path) -> None:
    folder = cover_next_year(tmp_path / "covered", office_today())
    run = workdays(folder, "add", "--json", "2022-01-28", "7", **ALWAYS)
    assert run.returncode == 0 and run.stderr == ""
    assert json.loads(run.stdout)["horizon_warning"] is None
    run = workdays(folder, "is", "2022-01-28", **ALWAYS)
    assert (run.returncode, run.stdout, run.stderr) == (0, "2022-01-28 是工作日\n", "")


def test_cli_refuses_a_bad_setting(empty: Path) -> None:
    run = workdays(empty, "is", "2022-01-28", SGS_CALENDAR_WARNING_FROM="11-31")
    assert (run.returncode, run.stdout) == (2, "")
    assert "calendar_warning_from" in run.stderr and "MM-DD" in run.stderr


# --------------------------------------------------------------------------- the daily artifact


def test_artifact_markdown_heads_with_the_warning(empty: Path) -> None:
    text = artifacts.horizon_markdown(date(2026, 11, 2))
    assert text.startswith("> **工作日历提醒**：") and text.endswith("\n\n")
    assert "2027.toml" in text and "2026-12-23" in text
    assert "\n" not in text.strip()  # one quoted line above the batches table
    assert artifacts.horizon_markdown(date(2026, 10, 31)) == ""


def test_artifact_markdown_is_empty_once_the_file_exists(empty: Path) -> None:
    (empty / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    assert artifacts.horizon_markdown(date(2026, 11, 2)) == ""


def test_artifact_markdown_shows_a_malformed_file(empty: Path) -> None:
    (empty / "2027.toml").write_text(
        TEST_2027.replace("date = 2027-02-20", "date = 2027-02-17"), encoding="utf-8"
    )
    text = artifacts.horizon_markdown(date(2026, 11, 2))
    assert text.startswith("> **节假日文件有误**：") and "2027.toml" in text


# --------------------------------------------------------------------------- the month page


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    return tmp_path / "data"


def office_client(root: Path) -> TestClient:
    client = TestClient(web.create_app(root, SECRET))
    assert login(client, SECRET).status_code == 303
    return client


def test_the_office_page_shows_the_banner(
    empty: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SGS_CALENDAR_WARNING_FROM", "01-01")
    page = office_client(data_root).get("/")
    assert page.status_code == 200
    assert 'id="calendar-horizon"' in page.text
    assert str(empty.resolve() / "2027.toml") in page.text and "2026-12-23" in page.text


def test_the_office_page_has_no_banner_when_next_year_is_covered(
    empty: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SGS_CALENDAR_WARNING_FROM", "01-01")
    cover_next_year(empty, office_today())
    page = office_client(data_root).get("/")
    assert page.status_code == 200
    assert 'id="calendar-horizon"' not in page.text
    assert "工作日历提醒" not in page.text


def test_a_units_page_has_no_banner(
    empty: Path, data_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SGS_CALENDAR_WARNING_FROM", "01-01")
    token = token_for(data_root, LUZHOU)
    client = TestClient(web.create_app(data_root, SECRET))
    assert login(client, token).status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    assert "长治市潞州区人民政府" in page.text  # the unit's own start page
    assert 'id="calendar-horizon"' not in page.text and "2027.toml" not in page.text
