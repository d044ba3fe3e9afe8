"""The calendar's horizon: say in time that next year's holidays file is missing.

The workday calendar ends with its last covered year (:mod:`sgs.reference.calendar`): a
deadline that falls beyond it is never guessed, so a record's timeliness becomes *undecided*.
With the calendar ending on 31 December and deadlines of 7 workdays, that starts with the
decisions of about 23 December — and nothing would tell the office to add the file, which can
only be written once the State Council's notice for the year is out (November–December).

So from the ``calendar_warning_from`` day of each year (month-day, default 11-01) on, while the
calendar does not cover the next year — and all year once it does not even cover the current
one — :func:`horizon_warning` returns a warning: the year and the file to write, and the first
decision date whose ``deadline_workdays`` deadline the calendar cannot give.  ``sgs workdays``,
the daily run's artifact and the office's month page show it (docs/policy.md, "Workdays").

``today`` is a parameter, never read from the clock here: callers pass
:func:`sgs.clock.office_today`, tests pass the dates they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sgs.config import PROJECT_ROOT, holidays_dir
from sgs.reference.calendar import DEFAULT_HOLIDAYS_DIR, first_start_beyond, last_covered_year
from sgs.reference.settings import load_settings


@dataclass(frozen=True)
class HorizonWarning:
    """Next year's holidays are missing (or this year's already): what to write, and from which
    decision date deadlines are undecided until it is written."""

    today: date
    last_covered_year: int
    year: int  # the first year the calendar lacks: its file comes first (years are contiguous)
    file: Path  # <holidays folder>/<year>.toml
    first_undecided_decision: date | None  # None only when the calendar covers nothing
    deadline_workdays: int

    @property
    def message(self) -> str:
        """One Chinese paragraph: what is missing, what to write, what it costs meanwhile."""
        readme, file = _shown(DEFAULT_HOLIDAYS_DIR / "README.md"), _shown(self.file)
        if self.today.year > self.last_covered_year:
            head = (
                f"今天（{self.today}）已超出工作日历范围：日历只覆盖到 {self.last_covered_year} "
                f"年底。请按国务院办公厅各年的节假日安排通知，从 {self.year} 年起逐年填写节假日"
                f"文件，先填 {file}（格式见 {readme}）。"
            )
        else:
            head = (
                f"下一年的节假日安排尚未填写：工作日历只覆盖到 {self.last_covered_year} 年底。"
                f"请在《国务院办公厅关于{self.year}年部分节假日安排的通知》发布后，照通知填写 "
                f"{file}（格式见 {readme}）。"
            )
        if self.first_undecided_decision is None:
            return head
        return head + (
            f"在此之前，{self.first_undecided_decision} 及以后作出的决定，其第 "
            f"{self.deadline_workdays} 个工作日的期限无法计算，及时性记为“未判定”。"
        )

    def as_json(self) -> dict[str, object]:
        """The machine-readable form (``sgs workdays --json``): dates as ``YYYY-MM-DD``."""
        first = self.first_undecided_decision
        return {
            "message": self.message,
            "file": str(self.file),
            "year": self.year,
            "last_covered_year": self.last_covered_year,
            "first_undecided_decision": first.isoformat() if first else None,
            "deadline_workdays": self.deadline_workdays,
        }


def _shown(path: Path) -> str:
    """A path as the office reads it: relative to the project when inside it (shorter, and a
    page does not show where the server's checkout lives), absolute otherwise."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path.resolve())


def warning_starts(year: int) -> date:
    """The day of ``year`` from which a missing next year is warned about
    (setting ``calendar_warning_from``, checked as a month-day by the settings)."""
    month, day = (int(part) for part in load_settings().calendar_warning_from.split("-"))
    return date(year, month, day)


def horizon_warning(today: date) -> HorizonWarning | None:
    """The warning due on ``today``, or None while the calendar reaches far enough.

    Due when the calendar does not cover ``today``'s year, or does not cover the next year and
    ``today`` is on or after :func:`warning_starts` of its year.  A malformed holidays file
    raises :class:`~sgs.errors.HolidayFileError`, as every use of the calendar does.
    """
    last = last_covered_year()
    if last > today.year or (last == today.year and today < warning_starts(today.year)):
        return None
    n = load_settings().deadline_workdays
    return HorizonWarning(
        today=today,
        last_covered_year=last,
        year=last + 1,
        file=holidays_dir().resolve() / f"{last + 1}.toml",
        first_undecided_decision=first_start_beyond(n),
        deadline_workdays=n,
    )
