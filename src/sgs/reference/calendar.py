"""The mainland-China workday calendar: Monday–Friday, minus statutory holidays, plus the weekend
days that the State Council's yearly notice turns into working days (调休上班).

Sources, year by year from 2004 upward:

* ``chinesecalendar`` for the years it covers (2004–2026 in 1.11.0; it raises
  ``NotImplementedError`` outside them, and a year is only taken from it if it names at least one
  holiday in that year, so a library that fell back to Monday–Friday would not be trusted);
* otherwise an editable file ``<YYYY>.toml`` in the holidays folder (``$SGS_HOLIDAYS_DIR``, else
  ``config/holidays`` of the checkout), filled in from the notice 国务院办公厅关于YYYY年部分节假日
  安排的通知; its format and strict parser are in :mod:`sgs.reference.holidays` (for its editors:
  ``config/holidays/README.md``).  This module only builds days from what that parser returns.

The covered years are contiguous: the first year that neither source covers ends the calendar, and
files for later years are reported by :func:`unusable_files` until the gap is filled.  When both
cover a year, chinesecalendar wins and :func:`file_disagreements` lists where the file differs.

The calendar is one row per day (:func:`calendar_frame`): ``day``, ``workday``, ``kind``
(工作日 | 周末 | 法定节假日 | 调休上班), ``holiday`` (the holiday's name, also on its makeup
working days), ``workday_no`` and ``source`` (``chinesecalendar`` or the file name).
``workday_no`` is the running count of workdays up to and including the day, so the Nth workday
strictly after D is *the workday whose workday_no is workday_no(D) + N*, and the number of workdays
in (A, B] is ``workday_no(B) - workday_no(A)``: workday arithmetic is index arithmetic, with no loop
over days, in Python (:func:`add_workdays`, :func:`workdays_between`) as in SQL
(:func:`write_calendar_table`).

Every date, and every result, outside the covered years raises :class:`CalendarGap`, whose Chinese
message names the year and the file to add: never a silent guess (docs/policy.md, "Workdays").
The calendar is built once per process and holidays folder; :func:`reset_cache` forgets it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sgs.config import CONFIG_DIR, env, holidays_dir
from sgs.errors import CalendarGap
from sgs.reference.holidays import YEAR_FILE_NAME, HolidayFile, load_holiday_file, year_files

if TYPE_CHECKING:
    import duckdb
    import polars as pl

FIRST_YEAR = 2004
LIBRARY_SOURCE = "chinesecalendar"
HOLIDAYS_DIR_ENV = "SGS_HOLIDAYS_DIR"
DEFAULT_HOLIDAYS_DIR = CONFIG_DIR / "holidays"

WORKDAY, WEEKEND, HOLIDAY, MAKEUP = "工作日", "周末", "法定节假日", "调休上班"
KINDS = (WORKDAY, WEEKEND, HOLIDAY, MAKEUP)

#: chinesecalendar's (English) holiday names, in the words of the State Council notices.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

CALENDAR_COLUMNS = {
    "day": "DATE",
    "workday": "BOOLEAN",
    "kind": "VARCHAR",
    "holiday": "VARCHAR",
    "workday_no": "INTEGER",
    "source": "VARCHAR",
}

#: Bumped when the calendar built from the same sources would change (names, kinds, columns).
CALENDAR_VERSION = 1

# One day of the calendar: (day, workday, kind, holiday, source).
_Row = tuple[date, bool, str, str | None, str]


# ---------------------------------------------------------------------------------------------
# The editable files (parsed by sgs.reference.holidays)


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def _file_rows(parsed: HolidayFile) -> list[_Row]:
    """Every day of a holidays file's year, classified."""
    named: dict[date, tuple[bool, str, str]] = {}
    for h in parsed.holidays:
        for i in range((h.end - h.start).days + 1):
            named[h.start + timedelta(days=i)] = (False, HOLIDAY, h.name)
    for m in parsed.makeups:
        named[m.day] = (True, MAKEUP, m.name)
    rows: list[_Row] = []
    for day in _days_of(parsed.year):
        if day in named:
            workday, kind, name = named[day]
            rows.append((day, workday, kind, name, parsed.path.name))
        else:
            weekday = day.weekday() < 5
            rows.append((day, weekday, WORKDAY if weekday else WEEKEND, None, parsed.path.name))
    return rows


# ---------------------------------------------------------------------------------------------
# chinesecalendar


@cache
def _library_rows(year: int) -> tuple[_Row, ...] | None:
    """Every day of ``year`` from chinesecalendar, or None if it does not cover the year.

    Read from the library's own tables (``holidays``, ``workdays``) with the rule of its
    ``get_holiday_detail`` — a named workday, else a named holiday, else the weekend rests —
    because that function checks its range with ``min``/``max`` over every known holiday on
    each call: a second per process for the 8,000 days since 2004, paid by every command that
    needs workdays.  The tests compare the result with ``get_holiday_detail`` day by day."""
    import chinese_calendar

    holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
    if not holidays or not min(holidays).year <= year <= max(holidays).year:
        return None
    rows: list[_Row] = []
    named = False
    for day in _days_of(year):
        if day in workdays:
            rest, name = False, workdays[day]
        elif day in holidays:
            rest, name = True, holidays[day]
        else:
            rest, name = day.weekday() > 4, None
        if name is None:
            kind = WEEKEND if rest else WORKDAY
        else:
            named = True
            kind = HOLIDAY if rest else MAKEUP
        label = HOLIDAY_NAMES.get(name, name) if name else None
        rows.append((day, not rest, kind, label, LIBRARY_SOURCE))
    # A year without a single named holiday is not data but a fallback: never trust it.
    return tuple(rows) if named else None


# ---------------------------------------------------------------------------------------------
# The calendar


@dataclass(frozen=True)
class _Calendar:
    frame: pl.DataFrame
    folder: Path
    years: frozenset[int]
    first_ordinal: int  # the ordinal of the first day (2004-01-01)
    workday_no: list[int]  # by day index
    workday_index: list[int]  # day index of workday k (1-based) at [k - 1]
    kind: list[str]
    holiday: list[str | None]
    source: list[str]
    unusable: tuple[tuple[Path, str], ...]
    stamp: str  # fingerprint of the sources, taken before they were read

    @property
    def last_year(self) -> int:
        return max(self.years) if self.years else FIRST_YEAR - 1

    def index(self, day: date) -> int:
        day = _as_date(day)
        i = day.toordinal() - self.first_ordinal
        if not self.years or day.year not in self.years:
            raise CalendarGap(self.gap_message(day), day.year)
        return i

    def day(self, index: int) -> date:
        return date.fromordinal(self.first_ordinal + index)

    def file_for(self, year: int) -> Path:
        return self.folder / f"{year}.toml"

    def span(self) -> str:
        if not self.years:
            return "目前没有任何年份的数据"
        return f"现有 {min(self.years)}–{max(self.years)} 年"

    def gap_message(self, day: date) -> str:
        year = day.year
        if year < FIRST_YEAR:
            return f"{day} 在 {year} 年：工作日历从 {FIRST_YEAR} 年开始，不计算更早的工作日。"
        return f"{day} 在 {year} 年，不在工作日历范围内（{self.span()}）。{self.howto(year)}"

    def howto(self, year: int) -> str:
        first_missing = self.last_year + 1
        where = f"（格式见 {self.folder / 'README.md'}；目录可用环境变量 {HOLIDAYS_DIR_ENV} 指定）"
        if year == first_missing:
            return (
                f"chinesecalendar 没有 {year} 年的节假日数据，节假日目录中也没有 {year}.toml。"
                f"请按《国务院办公厅关于{year}年部分节假日安排的通知》填写 "
                f"{self.file_for(year)}{where}，或升级 chinesecalendar。"
            )
        missing = [y for y in range(first_missing, year + 1) if not self.file_for(y).is_file()]
        files = "、".join(str(self.file_for(y)) for y in missing)
        return (
            f"工作日历必须逐年连续，现缺少 {first_missing} 年的节假日安排：请按各年的"
            f"《国务院办公厅关于××××年部分节假日安排的通知》填写 {files}{where}，"
            "或升级 chinesecalendar。"
        )


def _as_date(day: date) -> date:
    if isinstance(day, datetime):
        return day.date()
    if not isinstance(day, date):
        raise TypeError(f"应为 datetime.date，而不是 {type(day).__name__}：{day!r}")
    return day


@lru_cache(maxsize=8)
def _calendar_for(folder_env: str | None) -> _Calendar:
    """The calendar for one value of ``$SGS_HOLIDAYS_DIR`` (keyed by the variable, not the
    resolved folder, so that a scalar call costs no file-system access)."""
    import polars as pl

    folder = (Path(folder_env) if folder_env else DEFAULT_HOLIDAYS_DIR).resolve()
    stamp = _sources_stamp(folder)
    files = year_files(folder)
    rows: list[_Row] = []
    years: list[int] = []
    year = FIRST_YEAR
    while True:
        library = _library_rows(year)
        if library is not None:
            rows.extend(library)
        elif year in files:
            rows.extend(_file_rows(load_holiday_file(files[year])))
        else:
            break
        years.append(year)
        year += 1
    gap = year
    unusable = tuple(
        (path, f"缺少 {gap} 年的节假日安排，{path.name} 暂不能使用（工作日历必须逐年连续）")
        for y, path in sorted(files.items())
        if y > gap
    ) + tuple(
        (path, f"{path.name} 早于工作日历的起始年份 {FIRST_YEAR} 年，不会使用")
        for y, path in sorted(files.items())
        if y < FIRST_YEAR
    )
    if folder.is_dir():
        unusable += tuple(
            (path, f"{path.name}：文件名应为四位年份加 .toml（例如 2027.toml），不会使用")
            for path in sorted(folder.glob("*.toml"))
            if not YEAR_FILE_NAME.match(path.name)
        )

    columns = list(zip(*rows, strict=True)) if rows else [[], [], [], [], []]
    frame = pl.DataFrame(
        {
            "day": pl.Series(columns[0], dtype=pl.Date),
            "workday": pl.Series(columns[1], dtype=pl.Boolean),
            "kind": pl.Series(columns[2], dtype=pl.String),
            "holiday": pl.Series(columns[3], dtype=pl.String),
            "source": pl.Series(columns[4], dtype=pl.String),
        }
    ).with_columns(workday_no=pl.col("workday").cast(pl.Int32).cum_sum().cast(pl.Int32))
    frame = frame.select("day", "workday", "kind", "holiday", "workday_no", "source")
    workday_index = (
        frame.with_row_index("i").filter(pl.col("workday"))["i"].cast(pl.Int64).to_list()
    )
    return _Calendar(
        frame=frame,
        folder=folder,
        years=frozenset(years),
        first_ordinal=date(FIRST_YEAR, 1, 1).toordinal(),
        workday_no=frame["workday_no"].to_list(),
        workday_index=workday_index,
        kind=frame["kind"].to_list(),
        holiday=frame["holiday"].to_list(),
        source=frame["source"].to_list(),
        unusable=unusable,
        stamp=stamp,
    )


def _calendar() -> _Calendar:
    return _calendar_for(env(HOLIDAYS_DIR_ENV))


def _fresh_calendar() -> _Calendar:
    """The calendar, rebuilt first if its sources changed since it was built."""
    cal = _calendar()
    if _sources_stamp(cal.folder) != cal.stamp:
        _calendar_for.cache_clear()
        cal = _calendar()
    return cal


def _sources_stamp(folder: Path) -> str:
    import hashlib
    from importlib.metadata import version

    library = f"chinesecalendar {version('chinesecalendar')}"
    digest = hashlib.sha256(f"{CALENDAR_VERSION}\n{library}\n{folder}\n".encode())
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return (
        f"{library}; sgs.reference.calendar {CALENDAR_VERSION}; sources {digest.hexdigest()[:16]}"
    )


def fingerprint() -> str:
    """A stamp of what the calendar is made of: chinesecalendar's version, this module's
    ``CALENDAR_VERSION``, the holidays folder and the bytes of every ``*.toml`` in it.

    Equal stamps mean an equal calendar, so a store can skip rewriting its ``calendar`` table.
    If the files changed since the calendar was built in this process, it is rebuilt first, so a
    :func:`write_calendar_table` that follows writes what the stamp describes.
    """
    return _fresh_calendar().stamp


def sources_fingerprint() -> str:
    """The same stamp as :func:`fingerprint`, read from the sources without building anything.

    Building the calendar asks chinesecalendar about every day since 2004 (about 0.4 s); a
    reader that only needs to know whether the store's calendar is current skips that.
    """
    return _sources_stamp(holidays_dir().resolve())


def reset_cache() -> None:
    """Forget the built calendars, so that edited holidays files are read again (tests, or a
    long-running process after an edit).  What chinesecalendar said is kept: it cannot change
    within a process."""
    _calendar_for.cache_clear()


def calendar_frame() -> pl.DataFrame:
    """The calendar, one row per day of the covered years, sorted by ``day``.

    Columns: ``day`` (Date), ``workday`` (Boolean), ``kind`` (工作日 | 周末 | 法定节假日 |
    调休上班), ``holiday`` (String, null on ordinary days), ``workday_no`` (Int32, running count of
    workdays up to and including the day; 0 before the first workday), ``source``
    (``chinesecalendar`` or the holidays file's name).  Rebuilt first if a holidays file
    changed: the frame is what gets stored or shadows the store.
    """
    return _fresh_calendar().frame.clone()


def covered_years() -> frozenset[int]:
    """The years the calendar covers: contiguous, from 2004 up to the first uncovered year."""
    return _calendar().years


def unusable_files() -> list[tuple[Path, str]]:
    """Files in the holidays folder that are not used, each with the reason (in Chinese): years
    after a gap, years before 2004, and ``.toml`` files not named ``<YYYY>.toml``."""
    return list(_calendar().unusable)


# ---------------------------------------------------------------------------------------------
# Scalar API


def is_workday(day: date) -> bool:
    """Whether ``day`` is a workday; :class:`CalendarGap` outside the covered years."""
    cal = _calendar()
    return cal.kind[cal.index(day)] in (WORKDAY, MAKEUP)


def describe(day: date) -> dict[str, Any]:
    """``{"workday": bool, "kind": str, "holiday": str | None, "source": str}`` for ``day``.

    ``holiday`` is the holiday's name on its days off and on its makeup working days (调休上班).
    """
    cal = _calendar()
    i = cal.index(day)
    return {
        "workday": cal.kind[i] in (WORKDAY, MAKEUP),
        "kind": cal.kind[i],
        "holiday": cal.holiday[i],
        "source": cal.source[i],
    }


def add_workdays(day: date, n: int) -> date:
    """The ``n``-th workday strictly after ``day`` (``day`` itself is never counted, whether it is
    a workday or not); ``n`` must be ≥ 1.

    Example (docs/policy.md): ``add_workdays(date(2022, 1, 28), 7) == date(2022, 2, 11)``.
    :class:`CalendarGap` if ``day`` or the result lies outside the covered years.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n 应为整数：{n!r}")
    if n < 1:
        raise ValueError(f"n 应不小于 1（第 n 个工作日，起算日本身不计）：{n}")
    cal = _calendar()
    target = cal.workday_no[cal.index(day)] + n
    if target > len(cal.workday_index):
        year = cal.last_year + 1
        raise CalendarGap(
            f"{day} 之后第 {n} 个工作日超出了工作日历范围（{cal.span()}，"
            f"截至 {cal.last_year}-12-31），落在 {year} 年或更晚。{cal.howto(year)}",
            year,
        )
    return cal.day(cal.workday_index[target - 1])


def workdays_between(a: date, b: date) -> int:
    """The number of workdays in (a, b]: ``a`` not counted, ``b`` counted.

    Antisymmetric: negative (minus the workdays in (b, a]) when ``b`` is before ``a``; 0 when equal.
    """
    cal = _calendar()
    return cal.workday_no[cal.index(b)] - cal.workday_no[cal.index(a)]


def last_covered_year() -> int:
    """The calendar's last covered year (2003 when it covers none), rebuilt first if a holidays
    file changed: a long-running server must stop warning once next year's file is added."""
    return _fresh_calendar().last_year


def first_start_beyond(n: int) -> date | None:
    """The first day D whose :func:`add_workdays` (D, ``n``) falls beyond the last covered day —
    the first decision date whose ``n``-workday deadline the calendar cannot give (None when it
    covers nothing).  Every later day is beyond too: workday numbers never decrease.

    Index arithmetic, as :func:`add_workdays`: with W workdays in the calendar, D's result is
    workday number wn(D) + n, beyond once wn(D) ≥ W − n + 1, which first holds on the
    (W − n + 1)-th workday itself (the first day of the calendar if n > W).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n 应为不小于 1 的整数：{n!r}")
    cal = _fresh_calendar()
    if not cal.years:
        return None
    count = len(cal.workday_index)
    return cal.day(0 if n > count else cal.workday_index[count - n])


# ---------------------------------------------------------------------------------------------
# Files for years chinesecalendar covers


@dataclass(frozen=True)
class Disagreement:
    """A day on which a holidays file differs from chinesecalendar (which wins)."""

    day: date
    file: Path
    library_kind: str
    library_holiday: str | None
    file_kind: str
    file_holiday: str | None

    @property
    def message(self) -> str:
        def show(kind: str, name: str | None) -> str:
            return f"{kind}（{name}）" if name else kind

        return (
            f"{self.day}：chinesecalendar 为 {show(self.library_kind, self.library_holiday)}，"
            f"{self.file.name} 为 {show(self.file_kind, self.file_holiday)}；"
            "以 chinesecalendar 为准，请核对该文件"
        )


def file_disagreements() -> list[Disagreement]:
    """Where holidays files for years that chinesecalendar covers disagree with it.

    chinesecalendar wins; this is the warning.  A day disagrees when its kind differs, or when
    both name a holiday and the file's name does not contain the library's (so "清明" and
    "中秋节、国庆节" are accepted for 清明节 and 中秋节).  A malformed file raises
    :class:`~sgs.errors.HolidayFileError`.
    """
    found: list[Disagreement] = []
    for year, path in sorted(year_files(holidays_dir()).items()):
        library = _library_rows(year) if year >= FIRST_YEAR else None
        if library is None:
            continue
        for lib, mine in zip(library, _file_rows(load_holiday_file(path)), strict=True):
            _, _, lib_kind, lib_name, _ = lib
            day, _, file_kind, file_name, _ = mine
            same_name = (
                lib_name is None
                or file_name is None
                or lib_name.removesuffix("节") in file_name
                or file_name.removesuffix("节") in lib_name
            )
            if lib_kind != file_kind or not same_name:
                found.append(Disagreement(day, path, lib_kind, lib_name, file_kind, file_name))
    return found


# ---------------------------------------------------------------------------------------------
# DuckDB


def write_calendar_table(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)create table ``calendar`` in ``con`` from :func:`calendar_frame` (rebuilt first if a
    holidays file changed, see :func:`fingerprint`); return its row count.

    ``calendar(day DATE, workday BOOLEAN, kind VARCHAR, holiday VARCHAR,
    workday_no INTEGER, source VARCHAR)``.  The content is replaced (DELETE + INSERT) inside the
    caller's transaction: this function neither begins nor commits.  A table of another shape is
    replaced.  Do not reference ``calendar(day)`` by a foreign key: the rows are deleted and
    inserted again.

    The Nth workday strictly after a date is the workday whose ``workday_no`` is the date's plus N,
    e.g. the 7th workday after each decision date::

        select d.*,
               (select c2.day from calendar c2
                 where c2.workday and c2.workday_no = c1.workday_no + 7) as deadline
          from decisions d
          join calendar c1 on c1.day = d.decision_date

    A decision date outside the calendar has no ``c1`` row (use a left join to keep it, and treat
    a null deadline as "calendar does not cover this"); a deadline beyond the last covered year is
    null too: report such rows, never guess.  The number of workdays in (a, b] is
    ``cb.workday_no - ca.workday_no``.
    """
    frame = _fresh_calendar().frame
    existing = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'calendar' and table_schema = current_schema() "
        "order by ordinal_position"
    ).fetchall()
    if [(name, kind) for name, kind in existing] != list(CALENDAR_COLUMNS.items()):
        columns = ", ".join(f"{name} {kind}" for name, kind in CALENDAR_COLUMNS.items())
        con.execute(f"create or replace table calendar ({columns})")  # one row a day: no key
    else:
        con.execute("delete from calendar")
    view = "_sgs_calendar_frame"
    con.register(view, frame)
    try:
        names = ", ".join(CALENDAR_COLUMNS)
        con.execute(f"insert into calendar ({names}) select {names} from {view}")
    finally:
        con.unregister(view)
    return frame.height
