"""The office's clock: every date and time of the office, in the office's time zone.

The servers run in UTC and the office in Asia/Shanghai (the ``office_timezone`` setting).  A
date taken from the machine's zone is wrong for eight hours a day: the 06:00 daily run would
see yesterday, today's landing folder would be "in the future" and a file modified in the
evening would be received a day early.  So nothing in sgs asks the machine for "today" or
"now" directly — it asks here (``tests/test_clock.py`` keeps it so).

Timestamps stored or printed (``ingested_at``, ``quarantined_at``, workbook stamps) are the
office's wall-clock time without a zone, as people at the office read them.

``$SGS_TODAY`` (``YYYY-MM-DD``) sets the office's date — the time of day stays the clock's — for
rehearsing a day to come (what the 2027 calendar or a 06:00 run in January will do) and for
tests that must not depend on the real date.  Unset in production.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def office_zone() -> ZoneInfo:
    """The zone of the ``office_timezone`` setting (``$SGS_OFFICE_TIMEZONE`` overrides it)."""
    from sgs.reference.settings import load_settings

    return ZoneInfo(load_settings().office_timezone)


TODAY_ENV = "SGS_TODAY"


def _set_day() -> date | None:
    """The date ``$SGS_TODAY`` fixes, if any."""
    from sgs.config import env
    from sgs.errors import SettingsError

    text = env(TODAY_ENV)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"环境变量 {TODAY_ENV} 应为 YYYY-MM-DD 格式的日期：{text[:20]!r}"
        ) from None


def office_now() -> datetime:
    """The office's wall-clock time now, without a zone (DuckDB TIMESTAMP, workbook stamps)."""
    now = datetime.now(office_zone()).replace(tzinfo=None)
    day = _set_day()
    return datetime.combine(day, now.time()) if day else now


def office_today() -> date:
    """Today at the office."""
    return _set_day() or datetime.now(office_zone()).date()


def office_date(timestamp: float) -> date:
    """The office's date at a POSIX timestamp, e.g. a file's modification time."""
    return datetime.fromtimestamp(timestamp, office_zone()).date()


def office_date_of(moment: datetime) -> date:
    """The office's date of a moment: a zoned one is converted, a naive one is taken as
    office time already."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(office_zone()).date()
