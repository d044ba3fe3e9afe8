"""The holidays file ``<YYYY>.toml``: its format and its strict parser.

A year that chinesecalendar does not cover yet is filled in by hand, from the State Council's
notice 国务院办公厅关于YYYY年部分节假日安排的通知, by whoever runs sgs: not a programmer.  So the
file is read strictly and every problem is reported at once, in Chinese, naming the file
(:class:`~sgs.errors.HolidayFileError`): a misspelt key, a date in the wrong year or a makeup
day on a weekday would otherwise shift deadlines silently.  The format is documented for its
editors in ``config/holidays/README.md`` and below in :func:`load_holiday_file`.

This module knows the file and nothing of workdays: it yields the holiday ranges and makeup
days as written.  :mod:`sgs.reference.calendar` turns them into days and workday arithmetic,
decides which years a file may fill, and compares files with chinesecalendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from sgs.errors import HolidayFileError

#: A holiday range longer than this is refused as a typo (the longest in a notice so far: 9 days).
MAX_HOLIDAY_DAYS = 10

WEEKDAY_NAMES = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

#: The name of a holidays file: the year it covers, ``2027.toml``; group 1 is the year.
YEAR_FILE_NAME = re.compile(r"^(\d{4})\.toml$")


@dataclass(frozen=True)
class HolidayRange:
    name: str
    start: date
    end: date


@dataclass(frozen=True)
class MakeupDay:
    day: date
    name: str


@dataclass(frozen=True)
class HolidayFile:
    """One validated ``<YYYY>.toml``."""

    path: Path
    year: int
    source: str
    holidays: tuple[HolidayRange, ...]
    makeups: tuple[MakeupDay, ...]


def load_holiday_file(path: Path | str) -> HolidayFile:
    """Read and strictly check one holidays file ``<YYYY>.toml``; raise :class:`HolidayFileError`
    listing every problem.

    The format (field names in English, values as in the notice)::

        source = "国务院办公厅关于2026年部分节假日安排的通知"

        [[holiday]]          # one block per holiday (放假); from/to inclusive, weekends included
        name = "春节"
        from = 2026-02-15
        to = 2026-02-23      # may be left out for a one-day holiday

        [[makeup]]           # one block per makeup working day (调休上班)
        date = 2026-02-14
        name = "春节"

    Checks: the file name is the year; ``source`` is given; at least one holiday; names are not
    empty; every date lies in the file's year; ``from`` ≤ ``to`` and a range is at most
    ``MAX_HOLIDAY_DAYS`` days; holidays do not overlap each other; a makeup day is a Saturday or
    Sunday, is not inside a holiday and is not listed twice; no unknown keys (a misspelt key would
    otherwise be silently ignored).  Dates may be TOML dates (``2026-02-15``) or strings
    (``"2026-02-15"``).
    """
    import tomllib

    path = Path(path)
    match = YEAR_FILE_NAME.match(path.name)
    if not match:
        raise HolidayFileError(path, ["文件名应为四位年份加 .toml，例如 2027.toml"])
    year = int(match.group(1))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HolidayFileError(path, ["文件不存在"]) from None
    except UnicodeDecodeError:
        raise HolidayFileError(path, ["文件不是 UTF-8 编码，请用 UTF-8 保存"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise HolidayFileError(path, [f"不是有效的 TOML 格式：{exc}"]) from None

    problems: list[str] = []
    unknown = sorted(set(data) - {"source", "holiday", "makeup"})
    if unknown:
        problems.append(
            f"不认识的项：{'、'.join(unknown)}（只能有 source、[[holiday]]、[[makeup]]）"
        )
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        problems.append('缺少 source（通知的标题和文号），例如 source = "国务院办公厅关于…的通知"')
        source = ""

    holidays: list[HolidayRange] = []
    raw_holidays = _table_list(data, "holiday", problems)
    if not raw_holidays and "holiday" not in data:
        problems.append("没有 [[holiday]]：至少要填写一个放假安排")
    for i, entry in enumerate(raw_holidays, start=1):
        name, where = _entry(entry, f"第 {i} 个 [[holiday]]", {"name", "from", "to"}, problems)
        if where is None:
            continue
        start = _date(entry, "from", where, year, problems, required=True)
        end = _date(entry, "to", where, year, problems, required=False) if "to" in entry else start
        if start is None or end is None or not name:
            continue
        if end < start:
            problems.append(f"{where}：结束日期 to = {end} 早于开始日期 from = {start}")
            continue
        length = (end - start).days + 1
        if length > MAX_HOLIDAY_DAYS:
            problems.append(
                f"{where}：{start} 至 {end} 共 {length} 天，超过 {MAX_HOLIDAY_DAYS} 天，请核对日期"
            )
            continue
        holidays.append(HolidayRange(name, start, end))
    ordered = sorted(holidays, key=lambda h: h.start)
    for a, b in pairwise(ordered):
        if b.start <= a.end:
            problems.append(
                f"放假日期重叠：{a.name}（{a.start} 至 {a.end}）与 {b.name}（{b.start} 至 {b.end}）"
            )

    makeups: list[MakeupDay] = []
    seen: dict[date, str] = {}
    for i, entry in enumerate(_table_list(data, "makeup", problems), start=1):
        name, where = _entry(entry, f"第 {i} 个 [[makeup]]", {"date", "name"}, problems)
        if where is None:
            continue
        day = _date(entry, "date", where, year, problems, required=True)
        if day is None or not name:
            continue
        if day.weekday() < 5:
            problems.append(
                f"{where}：调休上班日 {day} 是{WEEKDAY_NAMES[day.weekday()]}，"
                "调休上班只能是星期六或星期日（平日本来就上班，不用填写）"
            )
            continue
        inside = [h for h in holidays if h.start <= day <= h.end]
        if inside:
            h = inside[0]
            problems.append(
                f"{where}：调休上班日 {day} 落在放假期间 {h.name}（{h.start} 至 {h.end}）内"
            )
            continue
        if day in seen:
            problems.append(f"{where}：调休上班日 {day} 重复填写（已有 {seen[day]}）")
            continue
        seen[day] = name
        makeups.append(MakeupDay(day, name))

    if problems:
        raise HolidayFileError(path, problems)
    return HolidayFile(
        path=path,
        year=year,
        source=source.strip(),
        holidays=tuple(ordered),
        makeups=tuple(sorted(makeups, key=lambda m: m.day)),
    )


def _table_list(data: dict[str, Any], key: str, problems: list[str]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(f"{key} 应写成 [[{key}]] 块（每项一块），不是单个值")
        return []
    return value


def _unknown_keys(entry: dict[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        problems.append(
            f"{where}：不认识的项 {'、'.join(unknown)}（只能有 {'、'.join(sorted(known))}）"
        )


def _entry(
    entry: object, where: str, keys: set[str], problems: list[str]
) -> tuple[str | None, str | None]:
    """The name of one [[holiday]] or [[makeup]] entry and how messages refer to it; ``where``
    is None when the entry is not a table at all."""
    if not isinstance(entry, dict):
        problems.append(f"{where} 格式不对")
        return None, None
    name = _name(entry, where, problems)
    where = f"{where}（{name}）" if name else where
    _unknown_keys(entry, keys, where, problems)
    return name, where


def _name(entry: dict[str, Any], where: str, problems: list[str]) -> str:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f'{where}：缺少节日名称 name，例如 name = "春节"')
        return ""
    return name.strip()


def _date(
    entry: dict[str, Any],
    key: str,
    where: str,
    year: int,
    problems: list[str],
    *,
    required: bool,
) -> date | None:
    value = entry.get(key)
    if value is None:
        if required:
            problems.append(f"{where}：缺少日期 {key}")
        return None
    day: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str):
        try:
            day = date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
        except ValueError:
            day = None
    if day is None:
        problems.append(f"{where}：{key} = {value!r} 不是 YYYY-MM-DD 格式的日期")
        return None
    if day.year != year:
        problems.append(
            f"{where}：{key} = {day} 不在 {year} 年内（跨年的放假只填写本年内的日期；"
            "上一年的日期属于上一年的安排）"
        )
        return None
    return day


def year_files(folder: Path) -> dict[int, Path]:
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = YEAR_FILE_NAME.match(path.name)
        if match and path.is_file():
            found[int(match.group(1))] = path
    return found
