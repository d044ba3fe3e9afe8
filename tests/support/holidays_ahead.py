"""Holidays folders that reach the year after a given day, whatever the real year is."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from support.holidays_2027 import TEST_2027


def minimal_year(year: int) -> str:
    """A valid, invented holidays file for ``year`` (tests only): New Year's Day off, nothing else."""
    return (
        f'source = "测试用：虚构的 {year} 年节假日安排（不是国务院通知）"\n\n'
        f'[[holiday]]\nname = "元旦"\nfrom = {year}-01-01\n'
    )


def cover_next_year(folder: Path, today: date) -> Path:
    """Write holidays files into ``folder`` so that the calendar covers ``today``'s next year:
    2027 from the shared invented schedule, later years with :func:`minimal_year` (years must be
    contiguous).  Returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for year in range(2027, today.year + 2):
        text = TEST_2027 if year == 2027 else minimal_year(year)
        (folder / f"{year}.toml").write_text(text, encoding="utf-8")
    return folder
