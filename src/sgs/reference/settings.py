"""Settings: the policy choices of docs/policy.md, with defaults in ``config/settings.toml``.

Each value can be overridden by an environment variable ``SGS_<NAME>`` (upper case), and the
whole file replaced with ``$SGS_SETTINGS_FILE``; the type of an override follows the default's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields

from sgs.config import cached_on_file, setting_override, settings_path
from sgs.errors import SettingsError


@dataclass(frozen=True)
class Settings:
    deadline_workdays: int
    ledger_due_workday: int
    correction_workdays: int
    reminder_rate_threshold: float
    directory_due: str
    plan_due: str
    staff_due: str
    points_per_item: int
    late_workdays_limit: int
    zero_report_full_marks: bool
    repair_points_each: int
    repair_points_cap: int
    monthly_weight: float
    monthly_normalisation: str
    received_date_sources: list[str]
    match_subject_when_ambiguous: bool
    office_timezone: str
    public_url: str
    calendar_warning_from: str
    publish_monthly: bool
    workbook_ratio_limit: int
    workbook_part_limit_mib: int
    cell_chars_limit: int
    columns_limit: int


def _coerce(value: str, like: object) -> object:
    if isinstance(like, list | tuple):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(like, bool):
        return value.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        return int(value)
    if isinstance(like, float):
        return float(value)
    return value


def load_settings() -> Settings:
    """The settings in force now: the file as it is (parsed once per version), then the
    environment's overrides, read at every call."""
    raw = _settings_file()
    values = {}
    for f in fields(Settings):
        value = raw[f.name]
        env = setting_override(f.name)
        values[f.name] = _coerce(env, value) if env is not None else value
    if values["monthly_normalisation"] not in ("mean", "sum"):
        raise SettingsError("monthly_normalisation 只能是 mean 或 sum")
    unknown = set(values["received_date_sources"]) - {"manifest", "folder", "file_time"}
    if unknown:
        raise SettingsError(f"received_date_sources 含未知来源：{', '.join(sorted(unknown))}")
    _check_zone(values["office_timezone"])
    _check_url(values["public_url"])
    for name in ("directory_due", "plan_due", "staff_due", "calendar_warning_from"):
        _check_month_day(name, values[name])
    for name in LIMITS:
        if not (isinstance(values[name], int) and values[name] > 0):
            raise SettingsError(f"{name}「{values[name]}」应为正整数")
    return Settings(**values)


# The reading limits of docs/policy.md section 12: what a file may hold before it is refused
# unread (issue 20).  Positive integers.
LIMITS = ("workbook_ratio_limit", "workbook_part_limit_mib", "cell_chars_limit", "columns_limit")


def _check_month_day(name: str, value: object) -> None:
    """A day of every year written ``MM-DD``: refused when it cannot be read, rather than fail
    later in whatever computes a date from it (02-29 is refused: most years lack it)."""
    from datetime import date

    found = re.fullmatch(r"(\d\d)-(\d\d)", value) if isinstance(value, str) else None
    try:
        readable = found is not None and bool(date(2001, int(found[1]), int(found[2])))
    except ValueError:
        readable = False
    if not readable:
        raise SettingsError(
            f"{name}「{value}」不是有效的月-日（应写成 MM-DD，如 01-10、11-01；不能是 02-29）"
        )


def _check_url(url: str) -> None:
    """An http(s) address with a host and nothing after the path: links are built on it."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise SettingsError(
            f"public_url「{url}」不是有效的网址（应如 http://127.0.0.1:8000 或 https://xyb.example.cn）"
        )


def public_url(path: str = "") -> str:
    """The address people open ``sgs serve`` at (setting ``public_url``), followed by ``path``:
    the links of the Prefect artifacts, which a browser opens (``file://`` links it refuses)."""
    return load_settings().public_url.strip().rstrip("/") + path


def _check_zone(name: str) -> None:
    """Refuse a zone the machine does not know, rather than fall back to its own zone."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, KeyError) as exc:
        raise SettingsError(
            f"office_timezone「{name}」不是可识别的时区名称（应如 Asia/Shanghai）"
        ) from exc


@cached_on_file(settings_path, size=8)
def _settings_file() -> dict:
    return tomllib.loads(settings_path().read_text(encoding="utf-8"))
