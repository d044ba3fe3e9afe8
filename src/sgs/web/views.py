"""What the download page shows: its templates, the login and error pages, and the month view
read from the store.

Decisions:

- **Offline, no scripts.**  Jinja2 templates in ``sgs/web/templates`` with inline CSS; the
  chart is inline SVG (:mod:`sgs.web.charts`); system CJK fonts.  No CDN, no JavaScript.
- **Months** offered are those with uploads (received date) or ledgers (ledger month) in the
  store (:func:`sgs.measure.rates.months_with_data`), newest first; the page opens on the
  latest.  The table has one row per unit with both record kinds together — the same sums the
  points use for items 6–8 — grouped 县区 / 市直部门 and ranked within the group as
  :func:`sgs.measure.points.monthly_points` ranks them.
- **Reading the store.**  No store yet is a "no data" page (the page does not create the
  store); a store held by a long write makes :func:`reading` give up after
  :data:`READ_TIMEOUT_S` (the app answers 503); a broken events file still shows the rates,
  with the reason in place of the points.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse

from sgs.labels import RATE_NAMES, num, pct, zero_report_note
from sgs.periods import PERIOD
from sgs.web.charts import rates_chart
from sgs.web.docs import BATCH_ID

if TYPE_CHECKING:
    from sgs.web.accounts import Principal

READ_TIMEOUT_S = 20.0  # a page should not hang for the store's default ten minutes

# The pages a login may return to: the app's own pages, as local paths — the month page, the
# Data Docs, the downloads, the self-check and the hand-in.  A full match of this pattern starts
# with one "/" and holds no scheme, host, backslash, dot segment or anything else of someone
# else's choosing.
NEXT_PAGE = re.compile(
    rf"/(?:\?period=(?:{PERIOD.pattern}))?"
    rf"|/docs/(?:batch/{BATCH_ID.pattern})?"
    rf"|/download/bulletin/(?:{PERIOD.pattern})\.(?:xlsx|pdf)"
    r"|/download/feedback/[0-9A-Z]{18}\.xlsx"
    r"|/check|/handin(?:\?unit=[0-9A-Z]{18})?"
    rf"|/revisions/(?:{PERIOD.pattern})"
)

# The points items' names as their column headers show them, one word a line: a header of ten
# narrow columns must wrap, and a browser left to itself wraps Chinese anywhere (错误认/领).  A
# name not listed here stays on one line, unbroken.
ITEM_HEAD_WORDS = {
    "目录编制": ("目录", "编制"), "实施方案": ("实施", "方案"), "双员落实": ("双员", "落实"),
    "阶段性工作": ("阶段性", "工作"), "台账报送": ("台账", "报送"), "错误认领": ("错误", "认领"),
    "信用修复": ("信用", "修复"),
}  # fmt: skip

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=StrictUndefined,
)


# --- pages --------------------------------------------------------------------------------


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """A page from a template; ``authed`` decides whether the logout form shows — never to a
    visitor who is not logged in (a 400 page of a malformed login form, say); every page gets
    the CSRF token its forms carry (:mod:`sgs.web.csrf`) and who is logged in."""
    from sgs.web.csrf import attach, csrf_token

    who = request.scope.get("sgs.principal")
    authed = context.pop("authed", True) and who is not None
    html = TEMPLATES.get_template(template).render(
        authed=authed, csrf=csrf_token(request), who=who, who_name=shown_name(who), **context
    )
    return attach(request, HTMLResponse(html, status_code=status))


def shown_name(who: Principal | None) -> str:
    """Who is logged in, as the header names them: a unit account by its unit's name (the
    account is named by its credit code, which no clerk reads as their unit), the office's
    accounts with 「（信用办）」 after a person's name."""
    if who is None:
        return ""
    if who.is_office:
        return who.name if who.name == "信用办" else f"{who.name}（信用办）"
    from sgs.reference.units import resolve_unit

    try:
        return str(resolve_unit(str(who.unit_code))["name"])
    except KeyError:  # a unit the registry no longer lists: its code is all there is
        return str(who.unit_code)


def return_to(wanted: object) -> str:
    """Where to go after logging in: ``wanted`` if it is one of the app's pages as a local
    path (:data:`NEXT_PAGE`), else the start page — never a URL of someone else's choosing."""
    return wanted if isinstance(wanted, str) and NEXT_PAGE.fullmatch(wanted) else "/"


def login_page(request: Request, status: int = 200, message: str = "", failed: bool = False):
    """The login form; as the 401 page it remembers the page that was asked for."""
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = render(
        request, "login.html", status, title="登录", message=message, failed=failed,
        next=return_to(wanted), authed=False,
    )  # fmt: skip
    if status == 401:
        response.headers["www-authenticate"] = 'Bearer realm="sgs"'
    return response


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status, title=title, message=message)


# --- the store ----------------------------------------------------------------------------


@contextmanager
def reading(root: Path) -> Iterator[object | None]:
    """A read-only store connection, or None when there is no store yet (a GET creates
    nothing); waits only ``READ_TIMEOUT_S`` for a running write."""
    from sgs.store import database

    if not database.store_exists(root):
        yield None
        return
    with database.reader(root, timeout=READ_TIMEOUT_S) as con:
        yield con


def available_months(con) -> list[str]:
    """Months with uploads or ledgers, newest first; none without a store."""
    from sgs.measure.rates import months_with_data

    return [] if con is None else months_with_data(con)[::-1]


# --- the month page -----------------------------------------------------------------------


def asked_as_of(text: str, today: date) -> tuple[date, str]:
    """The page's ``?as_of=YYYY-MM-DD`` (default today) and, when it cannot be used, the Chinese
    reason: figures are what the office knew at the end of that day, so not a day to come."""
    text = text.strip()
    if not text:
        return today, ""
    try:
        day = (
            date.fromisoformat(text) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) else None
        )
    except ValueError:
        day = None
    if day is None:
        return (
            today,
            f"截至日期格式不正确：「{text[:20]}」。请按 YYYY-MM-DD 填写，例如 2026-11-15。",
        )
    if day > today:
        return today, f"截至日期 {day} 晚于今天（{today}）：只能查看今天或以前某日的数据。"
    return day, ""


def month_view(con, period: str, as_of: date) -> dict:
    """What the month page shows: grouped rows, the chart, the bulletin link."""
    from sgs.errors import EventsError
    from sgs.measure.points import monthly_points
    from sgs.measure.rates import rates, unit_rates

    per_unit = unit_rates(rates(con, period, as_of=as_of))
    note = ""
    try:
        points = monthly_points(con, period, as_of)
    except EventsError as exc:
        note = f"积分无法计算（事件文件有误）：{exc}"
        points = None
    return figures_view(period, per_unit, points, note)


def figures_view(
    period: str, per_unit: pl.DataFrame, points: pl.DataFrame | None, note: str = ""
) -> dict:
    """The month view of given figures — computed now, or as published
    (:mod:`sgs.web.published`): rates per unit (both kinds together) and the points rows."""
    from sgs.measure.points import GROUPS, ITEM_NAMES, ITEMS

    if points is not None:
        rates_only = per_unit.drop("unit_name", "unit_type", "calendar_gap")
        table = points.join(rates_only, on="unit_code", how="left", maintain_order="left")
    else:
        table = per_unit.with_columns(
            pl.col("unit_type").replace_strict(GROUPS, default=pl.col("unit_type")).alias("group"),
            *[pl.lit(None, dtype=pl.Float64).alias(c) for c in (*ITEMS, "total")],
            pl.lit(None, dtype=pl.Int32).alias("rank"),
        ).sort(pl.col("group").replace_strict({"县区": 0, "市直部门": 1}, default=2), "unit_code")
    rows = [_row(r, ITEMS) for r in table.iter_rows(named=True)]
    groups = [
        (g, [r for r in rows if r["group"] == g]) for g in dict.fromkeys(r["group"] for r in rows)
    ]
    return {
        "groups": groups,
        "chart": rates_chart(rows),
        "item_names": [ITEM_NAMES[i] for i in ITEMS],
        "item_heads": [ITEM_HEAD_WORDS.get(ITEM_NAMES[i], (ITEM_NAMES[i],)) for i in ITEMS],
        "bulletin_url": f"/download/bulletin/{period}.xlsx",
        "points_note": note,
        "gap": any(r["gap"] for r in rows),
    }


def own_rows(view: dict, unit_code: str | None) -> dict:
    """The month view as a unit's account sees it: its own row only, no bulletin."""
    groups = [(g, [r for r in rows if r["code"] == unit_code]) for g, rows in view["groups"]]
    return view | {"groups": [(g, rows) for g, rows in groups if rows], "bulletin_url": None}


def _row(r: dict, items: tuple[str, ...]) -> dict:
    """One unit's cells, formatted ("—" for not applicable)."""
    return {
        "code": r["unit_code"], "name": r["unit_name"], "group": r["group"],
        "rank": "—" if r["rank"] is None else r["rank"],
        "permits": r["uploaded_permit"] or 0, "penalties": r["uploaded_penalty"] or 0,
        "timeliness_rate": r["timeliness_rate"], "compliance_rate": r["compliance_rate"],
        "completeness_rate": r["completeness_rate"],
        "items": [num(r[i]) for i in items], "total": num(r["total"]),
        "feedback_url": f"/download/feedback/{r['unit_code']}.xlsx",
        "gap": bool(r.get("calendar_gap")), "note": zero_report_note(r),
    } | {f"{k}_text": pct(r[k]) for k in RATE_NAMES}  # fmt: skip


# --- the calendar's horizon ---------------------------------------------------------------


def calendar_horizon() -> str | None:
    """The office's banner when next year's holidays file is missing
    (:mod:`sgs.reference.horizon`), as of the office's today: the month page is where the
    office looks, so it learns before deadlines become undecided.  Called by ``month.html``
    only — the units cannot add the file.  A malformed holidays file is shown instead."""
    from sgs.clock import office_today
    from sgs.errors import HolidayFileError
    from sgs.reference.horizon import horizon_warning

    try:
        found = horizon_warning(office_today())
    except HolidayFileError as exc:
        return str(exc)
    return found.message if found else None


TEMPLATES.globals["calendar_horizon"] = calendar_horizon
