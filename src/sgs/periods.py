"""Assessment periods: a month written ``YYYY-MM``, its bounds, and the workday due in the next.

Every figure of the office is per month: rates count the records first received in the month,
ledgers list the month's decisions, points and the bulletin are monthly.  A period is text
everywhere (CLI options, URLs, file names, store columns); this module is the one place that
reads, checks and does arithmetic on it.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sgs.errors import PeriodError
from sgs.reference.calendar import add_workdays
from sgs.reference.settings import load_settings

# ASCII digits only (a full-width ２０２６ is not a period), matched in full.
PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def is_period(text: object) -> bool:
    """Whether ``text`` is a well-formed period (for inputs that must not raise, e.g. URLs)."""
    return isinstance(text, str) and PERIOD.fullmatch(text) is not None


def parse_period(period: str) -> tuple[int, int]:
    """Year and month of ``period``; :class:`PeriodError` (Chinese message) if malformed."""
    m = PERIOD.fullmatch(period) if isinstance(period, str) else None
    if not m:
        raise PeriodError(f"期间应为 YYYY-MM 格式，例如 2026-10：{period!r}")
    return int(m.group(1)), int(m.group(2))


def period_bounds(period: str) -> tuple[date, date]:
    """First day of the month and first day of the next month: the half-open ``[start, end)``."""
    year, month = parse_period(period)
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)


def period_of(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def previous_month(today: date) -> str:
    """The month before ``today``'s: the one the monthly bulletin and weekly reminder look at."""
    return period_of(date(today.year, today.month, 1) - timedelta(days=1))


def period_title(period: str) -> str:
    """``2026年10月``, as titles write a month."""
    year, month = parse_period(period)
    return f"{year}年{month}月"


def nth_workday_of_next_month(period: str, n: int) -> date:
    """The ``n``-th workday of the month after ``period``.

    It is the ``n``-th workday strictly after the last day of ``period``.  Raises
    :class:`sgs.errors.CalendarGap` when the calendar does not cover that month.
    """
    _, end = period_bounds(period)
    return add_workdays(end - timedelta(days=1), n)


def ledger_due(period: str) -> date:
    """The day a unit's ledger of ``period`` is due: the ``ledger_due_workday``-th workday of
    the next month (points item 5, the weekly reminder).  Raises ``CalendarGap`` like above."""
    return nth_workday_of_next_month(period, load_settings().ledger_due_workday)


def knowledge_day(as_of: date | None) -> date:
    """The day whose end the figures stand at (``--as-of``; default the office's today).

    Figures are what the office knew at the end of that day, so a day after today would be a
    guess about files not yet received: :class:`PeriodError` with a Chinese message.
    """
    from sgs.clock import office_today

    today = office_today()
    if as_of is None:
        return today
    if as_of > today:
        raise PeriodError(
            f"截至日期 {as_of.isoformat()} 晚于今天（{today.isoformat()}）：只能计算今天或以前某日的数据。"
        )
    return as_of
