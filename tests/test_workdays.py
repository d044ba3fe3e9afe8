"""The workday calendar against its oracle, chinesecalendar, and the editable holidays files.

chinesecalendar covers 2004–2026 (1.11.0); 2027 is covered only by a file.  The 2027 schedule
written below is TEST-ONLY, invented to exercise the file path: it is not the 2027 notice.
"""

from __future__ import annotations

import functools
import random
import re
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar as cc
import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.holidays_2027 import TEST_2027, TEST_2027_HOLIDAYS, TEST_2027_MAKEUPS

from sgs.config import PROJECT_ROOT
from sgs.errors import CalendarGap, HolidayFileError
from sgs.reference import calendar as workdays
from sgs.reference.calendar import add_workdays, describe, is_workday, workdays_between
from sgs.reference.holidays import load_holiday_file

CJK = re.compile(r"[\u4e00-\u9fff]")
LIBRARY_FIRST, LIBRARY_LAST = date(2004, 1, 1), date(2026, 12, 31)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def oracle_is_workday(day: date, with_2027: bool = False) -> bool:
    """chinesecalendar (NotImplementedError outside 2004–2026), and if asked the TEST-ONLY
    schedule for 2027."""
    if with_2027 and day.year == 2027:
        if day in TEST_2027_MAKEUPS:
            return True
        if any(a <= day <= b for _, a, b in TEST_2027_HOLIDAYS):
            return False
        return day.weekday() < 5
    return cc.is_workday(day)


def oracle_add(day: date, n: int, with_2027: bool = False) -> date:
    """Step day by day: the nth workday strictly after ``day``."""
    while n:
        day += timedelta(days=1)
        if oracle_is_workday(day, with_2027):
            n -= 1
    return day


def oracle_add_or_none(day: date, n: int, with_2027: bool = False) -> date | None:
    try:
        return oracle_add(day, n, with_2027)
    except NotImplementedError:
        return None


@pytest.fixture
def holidays_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty holidays folder of the test's own (the calendar covers 2004–2026 only)."""
    folder = tmp_path / "holidays"
    folder.mkdir()
    monkeypatch.setenv(workdays.HOLIDAYS_DIR_ENV, str(folder))
    workdays.reset_cache()
    yield folder
    workdays.reset_cache()


@pytest.fixture
def with_2027(holidays_dir: Path) -> Path:
    (holidays_dir / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    workdays.reset_cache()
    return holidays_dir


# ---------------------------------------------------------------------------------------------
# Against chinesecalendar


def test_every_day_2022_to_2026_matches_chinesecalendar(holidays_dir: Path) -> None:
    mismatches = [
        d for d in days(date(2022, 1, 1), LIBRARY_LAST) if is_workday(d) != cc.is_workday(d)
    ]
    assert mismatches == []


def test_every_day_of_the_frame_matches_chinesecalendar(holidays_dir: Path) -> None:
    frame = workdays.calendar_frame()
    expected = [cc.is_workday(d) for d in days(LIBRARY_FIRST, LIBRARY_LAST)]
    assert frame["day"].to_list() == days(LIBRARY_FIRST, LIBRARY_LAST)
    assert frame["workday"].to_list() == expected
    assert set(frame["source"].unique()) == {"chinesecalendar"}


def test_every_day_of_the_frame_has_chinesecalendars_kind_and_whether_named(
    holidays_dir: Path,
) -> None:
    """The frame is built from the library's tables, not by asking it day by day (which
    costs a second); ``get_holiday_detail`` is asked here, for every day since 2004."""
    frame = workdays.calendar_frame()
    kinds, named = [], []
    for d in days(LIBRARY_FIRST, LIBRARY_LAST):
        rest, name = cc.get_holiday_detail(d)
        if name is None:
            kinds.append("周末" if rest else "工作日")
        else:
            kinds.append("法定节假日" if rest else "调休上班")
        named.append(name is not None)
    assert frame["kind"].to_list() == kinds
    assert frame["holiday"].is_not_null().to_list() == named


def test_holidays_2022_to_2026_are_days_off_with_their_names(holidays_dir: Path) -> None:
    checked = 0
    for d in days(date(2022, 1, 1), LIBRARY_LAST):
        rest, name = cc.get_holiday_detail(d)
        if rest and name is not None:
            info = describe(d)
            assert info == {
                "workday": False,
                "kind": "法定节假日",
                "holiday": workdays.HOLIDAY_NAMES[name],
                "source": "chinesecalendar",
            }, d
            checked += 1
    assert checked > 100
    assert describe(date(2022, 1, 31))["holiday"] == "春节"
    assert describe(date(2022, 10, 1))["holiday"] == "国庆节"
    assert describe(date(2022, 1, 1))["kind"] == "法定节假日"  # a Saturday inside a holiday
    assert describe(date(2025, 5, 31))["holiday"] == "端午节"


def test_makeup_weekends_2022_to_2026_are_workdays(holidays_dir: Path) -> None:
    makeups = []
    for d in days(date(2022, 1, 1), LIBRARY_LAST):
        rest, name = cc.get_holiday_detail(d)
        if not rest and name is not None:
            makeups.append(d)
            assert d.weekday() >= 5
            assert describe(d) == {
                "workday": True,
                "kind": "调休上班",
                "holiday": workdays.HOLIDAY_NAMES[name],
                "source": "chinesecalendar",
            }, d
    for d in ["2022-01-29", "2022-01-30", "2022-04-02", "2022-04-24", "2022-05-07"]:
        assert date.fromisoformat(d) in makeups
    assert {date(2022, 10, 8), date(2022, 10, 9), date(2026, 2, 14), date(2026, 2, 28)} <= set(
        makeups
    )
    assert len(makeups) >= 25


def test_ordinary_days(holidays_dir: Path) -> None:
    assert describe(date(2022, 1, 28)) == {
        "workday": True,
        "kind": "工作日",
        "holiday": None,
        "source": "chinesecalendar",
    }
    assert describe(date(2022, 1, 22))["kind"] == "周末"
    assert describe(date(2022, 1, 22))["holiday"] is None


def test_policy_example(holidays_dir: Path) -> None:
    assert add_workdays(date(2022, 1, 28), 7) == date(2022, 2, 11)
    assert oracle_add(date(2022, 1, 28), 7) == date(2022, 2, 11)
    assert add_workdays(date(2022, 1, 28), 1) == date(2022, 1, 29)  # a makeup Saturday
    assert add_workdays(date(2022, 1, 30), 1) == date(2022, 2, 7)  # over the Spring Festival


# The holidays folder is the same for every example: sharing the fixture is intended.
SHARED_FIXTURE = settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@settings(SHARED_FIXTURE, max_examples=500)
@given(day=st.dates(LIBRARY_FIRST, LIBRARY_LAST), n=st.integers(1, 30))
def test_add_workdays_matches_stepping(holidays_dir: Path, day: date, n: int) -> None:
    expected = oracle_add_or_none(day, n)
    if expected is None:  # past 2026: chinesecalendar has nothing
        with pytest.raises(CalendarGap):
            add_workdays(day, n)
    else:
        assert add_workdays(day, n) == expected


@functools.cache
def _library_details() -> list[tuple[date, tuple[bool, str | None]]]:
    """chinesecalendar's ``get_holiday_detail`` of every day it knows, asked once (each call
    scans every holiday of the library)."""
    return [(d, cc.get_holiday_detail(d)) for d in days(LIBRARY_FIRST, LIBRARY_LAST)]


def _holiday_starts(name: str) -> list[date]:
    """The first day of each run of ``name`` holidays in chinesecalendar's data, 2004–2026."""
    starts = []
    prev: tuple[bool, str | None] = (False, None)
    for d, (rest, this) in _library_details():
        if rest and this == name and prev != (True, name):
            starts.append(d)
        prev = (rest, this)
    return starts


@pytest.mark.parametrize("holiday", ["Spring Festival", "National Day"])
def test_add_workdays_across_long_holidays(holidays_dir: Path, holiday: str) -> None:
    starts = _holiday_starts(holiday)
    assert len(starts) >= 23
    for start in starts:
        for offset in (-3, -1, 0, 2):
            day = start + timedelta(days=offset)
            for n in range(1, 31):
                assert add_workdays(day, n) == oracle_add(day, n), (day, n)


@settings(SHARED_FIXTURE, max_examples=300)
@given(a=st.dates(LIBRARY_FIRST, LIBRARY_LAST), span=st.integers(-60, 60))
def test_workdays_between_matches_counting(holidays_dir: Path, a: date, span: int) -> None:
    b = a + timedelta(days=span)
    if b.year not in range(2004, 2027):
        with pytest.raises(CalendarGap):
            workdays_between(a, b)
        return
    lo, hi = min(a, b), max(a, b)
    count = sum(cc.is_workday(d) for d in days(lo + timedelta(days=1), hi))
    assert workdays_between(a, b) == (count if b >= a else -count)


def test_add_workdays_and_between_agree(holidays_dir: Path) -> None:
    rng = random.Random(7)
    for _ in range(300):
        day = LIBRARY_FIRST + timedelta(days=rng.randrange(8000))
        n = rng.randrange(1, 200)
        result = add_workdays(day, n)
        assert workdays_between(day, result) == n
        assert is_workday(result)


def test_n_must_be_positive(holidays_dir: Path) -> None:
    with pytest.raises(ValueError, match="不小于 1"):
        add_workdays(date(2022, 1, 28), 0)
    with pytest.raises(ValueError):
        add_workdays(date(2022, 1, 28), -1)
    with pytest.raises(TypeError):
        add_workdays(date(2022, 1, 28), 1.5)  # type: ignore[arg-type]


def test_frame_shape(holidays_dir: Path) -> None:
    frame = workdays.calendar_frame()
    assert frame.schema == pl.Schema(
        {
            "day": pl.Date,
            "workday": pl.Boolean,
            "kind": pl.String,
            "holiday": pl.String,
            "workday_no": pl.Int32,
            "source": pl.String,
        }
    )
    assert workdays.covered_years() == frozenset(range(2004, 2027))
    assert set(frame["kind"].unique()) == set(workdays.KINDS)
    assert frame.filter(
        pl.col("workday") != pl.col("kind").is_in(["工作日", "调休上班"])
    ).is_empty()
    # workday_no is the running count of workdays: each workday numbered once, 1, 2, 3, …
    numbers = frame.filter("workday")["workday_no"].to_list()
    assert numbers == list(range(1, len(numbers) + 1))
    assert (frame["workday_no"].diff().drop_nulls() >= 0).all()


def test_frame_is_a_copy(holidays_dir: Path) -> None:
    frame = workdays.calendar_frame()
    frame.insert_column(0, pl.Series("x", [0] * frame.height))
    assert "x" not in workdays.calendar_frame().columns


# ---------------------------------------------------------------------------------------------
# SQL


def test_sql_deadlines_equal_add_workdays(holidays_dir: Path) -> None:
    rng = random.Random(11)
    decisions = [LIBRARY_FIRST + timedelta(days=rng.randrange(8401)) for _ in range(2000)]
    decisions += [date(2022, 1, 28), date(2026, 12, 20), date(2026, 12, 28), date(2026, 12, 31)]
    con = duckdb.connect()
    con.execute("begin")
    assert workdays.write_calendar_table(con) == 8401
    assert workdays.write_calendar_table(con) == 8401  # replaces, in the same transaction
    con.execute("commit")
    con.execute("create table decisions (id integer, decision_date date)")
    con.executemany("insert into decisions values (?, ?)", list(enumerate(decisions)))
    rows = con.execute(
        """
        select d.id, d.decision_date,
               (select c2.day from calendar c2
                 where c2.workday and c2.workday_no = c1.workday_no + 7) as deadline
          from decisions d
          join calendar c1 on c1.day = d.decision_date
         order by d.id
        """
    ).fetchall()
    assert len(rows) == len(decisions)
    for _, decided, deadline in rows:
        expected = oracle_add_or_none(decided, 7)
        assert deadline == expected, decided
        if expected is not None:
            assert add_workdays(decided, 7) == deadline
    assert dict((r[1], r[2]) for r in rows)[date(2022, 1, 28)] == date(2022, 2, 11)
    assert dict((r[1], r[2]) for r in rows)[date(2026, 12, 28)] is None


def test_calendar_table_schema_and_replacement(holidays_dir: Path) -> None:
    con = duckdb.connect()
    con.execute("create table calendar (day date, other varchar)")  # an old shape: replaced
    workdays.write_calendar_table(con)
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'calendar' order by ordinal_position"
    ).fetchall()
    assert columns == list(workdays.CALENDAR_COLUMNS.items())
    # no key (the store's DDL is DuckLake's, which has none): each day once, rewritten or not
    once = "select count(*), count(distinct day) from calendar"
    assert con.execute(once).fetchone() == (8401, 8401)
    con.execute("begin")
    con.execute("delete from calendar where day < date '2010-01-01'")
    workdays.write_calendar_table(con)
    assert con.execute(once).fetchone() == (8401, 8401)
    con.execute("rollback")
    assert con.execute("select count(*) from calendar").fetchone() == (8401,)
    assert con.execute(
        "select workday, kind, holiday, source from calendar where day = date '2022-01-29'"
    ).fetchone() == (True, "调休上班", "春节", "chinesecalendar")


# ---------------------------------------------------------------------------------------------
# Uncovered years and the holidays files


def test_2027_is_not_covered(holidays_dir: Path) -> None:
    for call in (
        lambda: is_workday(date(2027, 1, 4)),
        lambda: describe(date(2027, 6, 1)),
        lambda: add_workdays(date(2027, 3, 1), 1),
        lambda: workdays_between(date(2026, 12, 1), date(2027, 1, 5)),
    ):
        with pytest.raises(CalendarGap) as info:
            call()
        assert info.value.year == 2027
        message = str(info.value)
        assert CJK.search(message)
        assert "2027" in message
        assert str(holidays_dir / "2027.toml") in message
        assert "国务院办公厅关于2027年部分节假日安排的通知" in message


def test_result_in_2027_is_a_gap(holidays_dir: Path) -> None:
    assert add_workdays(date(2026, 12, 28), 3) == date(2026, 12, 31)
    with pytest.raises(CalendarGap, match=r"2027\.toml") as info:
        add_workdays(date(2026, 12, 28), 7)
    assert info.value.year == 2027
    assert "2026-12-28" in str(info.value)


def test_before_2004_is_a_gap(holidays_dir: Path) -> None:
    with pytest.raises(CalendarGap, match="2004") as info:
        is_workday(date(2003, 12, 31))
    assert info.value.year == 2003


def test_2027_from_a_file(with_2027: Path) -> None:
    assert workdays.covered_years() == frozenset(range(2004, 2028))
    for d in days(date(2027, 1, 1), date(2027, 12, 31)):
        assert is_workday(d) == oracle_is_workday(d, with_2027=True), d
        assert describe(d)["source"] == "2027.toml"
    assert describe(date(2027, 2, 20)) == {
        "workday": True,
        "kind": "调休上班",
        "holiday": "春节",
        "source": "2027.toml",
    }
    assert describe(date(2027, 2, 8)) == {
        "workday": False,
        "kind": "法定节假日",
        "holiday": "春节",
        "source": "2027.toml",
    }
    assert describe(date(2027, 6, 9))["holiday"] == "端午节"  # a one-day holiday, no `to`
    assert describe(date(2027, 6, 10))["kind"] == "工作日"
    assert describe(date(2027, 1, 9))["kind"] == "周末"
    # Across the year boundary: 12-29, 12-30, 12-31, then 2027-01-04 …
    assert add_workdays(date(2026, 12, 28), 7) == date(2027, 1, 7)
    # Holidays don't count, makeup days do.
    assert add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 15)
    assert add_workdays(date(2027, 2, 19), 1) == date(2027, 2, 20)
    assert workdays_between(date(2027, 2, 5), date(2027, 2, 21)) == 6  # 15–19 and Sat 20
    assert add_workdays(date(2027, 4, 30), 1) == date(2027, 5, 6)
    assert add_workdays(date(2027, 4, 24), 1) == date(2027, 4, 25)
    rng = random.Random(3)
    for _ in range(300):
        day = date(2026, 11, 1) + timedelta(days=rng.randrange(400))
        n = rng.randrange(1, 31)
        expected = oracle_add_or_none(day, n, with_2027=True)
        if expected is None:
            with pytest.raises(CalendarGap, match="2028"):
                add_workdays(day, n)
        else:
            assert add_workdays(day, n) == expected, (day, n)
    with pytest.raises(CalendarGap, match=r"2028\.toml"):
        is_workday(date(2028, 1, 3))


def test_2027_in_sql(with_2027: Path) -> None:
    con = duckdb.connect()
    workdays.write_calendar_table(con)
    assert con.execute(
        "select c2.day from calendar c1 join calendar c2 "
        "on c2.workday and c2.workday_no = c1.workday_no + 7 where c1.day = date '2026-12-28'"
    ).fetchone() == (date(2027, 1, 7),)
    assert con.execute(
        "select source, kind from calendar where day = date '2027-02-20'"
    ).fetchone() == ("2027.toml", "调休上班")


def test_a_gap_year_makes_later_files_unusable(with_2027: Path) -> None:
    (with_2027 / "2029.toml").write_text(TEST_2027.replace("2027", "2029"), encoding="utf-8")
    (with_2027 / "2029年.toml").write_text("", encoding="utf-8")
    workdays.reset_cache()
    assert max(workdays.covered_years()) == 2027
    unusable = {path.name: reason for path, reason in workdays.unusable_files()}
    assert set(unusable) == {"2029.toml", "2029年.toml"}
    assert "2028" in unusable["2029.toml"]
    with pytest.raises(CalendarGap) as info:
        is_workday(date(2029, 3, 1))
    assert str(with_2027 / "2028.toml") in str(info.value)
    assert str(with_2027 / "2029.toml") not in str(info.value)  # it exists: not to be added
    assert "逐年连续" in str(info.value)


def test_the_default_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(workdays.HOLIDAYS_DIR_ENV, raising=False)
    assert workdays.holidays_dir() == PROJECT_ROOT / "config" / "holidays"
    assert (workdays.holidays_dir() / "README.md").is_file()
    # Every shipped file is valid (there is none for 2027: its notice is not published).
    for path in workdays.holidays_dir().glob("[0-9][0-9][0-9][0-9].toml"):
        load_holiday_file(path)


def readme_example() -> str:
    text = (PROJECT_ROOT / "config" / "holidays" / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_readme_example_is_the_2026_notice(holidays_dir: Path) -> None:
    (holidays_dir / "2026.toml").write_text(readme_example(), encoding="utf-8")
    parsed = load_holiday_file(holidays_dir / "2026.toml")
    assert parsed.year == 2026
    assert len(parsed.holidays) == 7
    assert workdays.file_disagreements() == []
    # chinesecalendar covers 2026, so it wins over the file
    assert describe(date(2026, 2, 14))["source"] == "chinesecalendar"


def test_disagreement_with_chinesecalendar_is_reported(holidays_dir: Path) -> None:
    text = readme_example().replace("date = 2026-02-28", "date = 2026-03-01")
    text = text.replace('name = "清明节"', 'name = "清明"')  # a shorter name is no disagreement
    (holidays_dir / "2026.toml").write_text(text, encoding="utf-8")
    workdays.reset_cache()
    found = workdays.file_disagreements()
    assert [(d.day, d.library_kind, d.file_kind) for d in found] == [
        (date(2026, 2, 28), "调休上班", "周末"),
        (date(2026, 3, 1), "周末", "调休上班"),
    ]
    assert "2026.toml" in found[0].message and "chinesecalendar" in found[0].message
    assert is_workday(date(2026, 2, 28))  # chinesecalendar wins
    assert not is_workday(date(2026, 3, 1))


MALFORMED = {
    "makeup on a Wednesday": (
        TEST_2027.replace("date = 2027-02-20", "date = 2027-02-17"),
        ["2027-02-17", "星期三", "星期六或星期日"],
    ),
    "holiday outside the year": (
        TEST_2027.replace("from = 2027-01-01", "from = 2026-12-31"),
        ["2026-12-31", "不在 2027 年内"],
    ),
    "overlapping holidays": (
        TEST_2027 + '\n[[holiday]]\nname = "春节延长"\nfrom = 2027-02-13\nto = 2027-02-16\n',
        ["重叠", "春节（2027-02-06 至 2027-02-14）", "春节延长"],
    ),
    "makeup inside a holiday": (
        TEST_2027.replace("date = 2027-02-20", "date = 2027-02-13"),
        ["2027-02-13", "放假期间", "春节"],
    ),
    "end before start": (
        TEST_2027.replace("to = 2027-10-07", "to = 2027-09-30"),
        ["国庆节", "早于"],
    ),
    "too long": (
        TEST_2027.replace("to = 2027-10-07", "to = 2027-10-31"),
        ["国庆节", "31 天"],
    ),
    "misspelt key": (TEST_2027.replace("[[makeup]]", "[[makeups]]", 1), ["makeups"]),
    "no source": (TEST_2027.split("\n", 1)[1], ["source"]),
    "no name": (TEST_2027.replace('name = "端午节"\n', ""), ["name"]),
    "bad date": (
        TEST_2027.replace('from = "2027-09-15"', 'from = "2027年9月15日"'),
        ["2027年9月15日", "YYYY-MM-DD"],
    ),
    "not TOML": (TEST_2027.replace('name = "元旦"', "name = 元旦"), ["TOML"]),
    "duplicate makeup": (
        TEST_2027 + '\n[[makeup]]\ndate = 2027-02-20\nname = "春节"\n',
        ["2027-02-20", "重复"],
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_file(holidays_dir: Path, case: str) -> None:
    text, words = MALFORMED[case]
    path = holidays_dir / "2027.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HolidayFileError) as info:
        load_holiday_file(path)
    message = str(info.value)
    assert str(path) in message
    assert CJK.search(message)
    for word in words:
        assert word in message, (word, message)
    # The calendar refuses it too, visibly: no silent fallback to Monday–Friday.
    workdays.reset_cache()
    with pytest.raises(HolidayFileError):
        is_workday(date(2022, 1, 28))


def test_every_problem_is_listed(holidays_dir: Path) -> None:
    text = TEST_2027.replace("date = 2027-02-20", "date = 2027-02-17").replace(
        "from = 2027-01-01", "from = 2026-12-31"
    )
    path = holidays_dir / "2027.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HolidayFileError) as info:
        load_holiday_file(path)
    assert len(info.value.problems) == 2


def test_fingerprint_follows_the_files(holidays_dir: Path) -> None:
    empty = workdays.fingerprint()
    assert workdays.sources_fingerprint() == empty
    assert empty.startswith("chinesecalendar 1.")
    assert workdays.fingerprint() == empty
    (holidays_dir / "README.md").write_text("不是节假日文件", encoding="utf-8")
    assert workdays.fingerprint() == empty
    (holidays_dir / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    with_file = workdays.fingerprint()  # no reset_cache(): the change is noticed
    assert workdays.sources_fingerprint() == with_file
    assert with_file != empty
    con = duckdb.connect()
    workdays.write_calendar_table(con)
    assert con.execute("select max(day) from calendar").fetchone() == (date(2027, 12, 31),)
    (holidays_dir / "2027.toml").write_text(
        TEST_2027.replace("date = 2027-02-20", "date = 2027-02-21"), encoding="utf-8"
    )
    assert workdays.fingerprint() not in (empty, with_file)
    assert workdays.sources_fingerprint() == workdays.fingerprint()
    workdays.write_calendar_table(con)
    assert con.execute(
        "select day from calendar where kind = '调休上班' and day between date '2027-01-01' and date '2027-03-01'"
    ).fetchall() == [(date(2027, 2, 21),)]
