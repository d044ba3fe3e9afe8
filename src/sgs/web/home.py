"""A unit's own start page: its figures for a month, its open problems with their deadlines,
its feedback list, and the way to the self-check and the hand-in.

Decisions:

- **Only its own unit.**  The unit comes from the account, never from the request; the month
  figures are the month page's row of this unit (:func:`sgs.web.views.own_rows`), the problems
  those of the feedback list (:func:`sgs.measure.problems.open_problems` turned into what a
  clerk reads by :func:`sgs.report.feedback.feedback_frame`: masked ID numbers, Chinese names,
  已逾期 flags).
- **Every open problem, not just the month's**, as in the feedback list; the page lists at
  most :data:`SHOWN_PROBLEMS` of them (overdue first, then by deadline) and the feedback list
  has them all.
"""

from __future__ import annotations

import polars as pl
from starlette.requests import Request
from starlette.responses import Response

from sgs.clock import office_today
from sgs.periods import is_period
from sgs.web.auth import principal
from sgs.web.views import available_months, month_view, own_rows, reading, render

SHOWN_PROBLEMS = 500


def _unit(code: str) -> dict:
    """The registry's entry of the account's unit (its code alone if the registry lost it)."""
    from sgs.reference.units import resolve_unit

    try:
        return resolve_unit(code)
    except KeyError:
        return {"code": code, "name": code}


def problems_view(problems: pl.DataFrame, today) -> dict:
    """The open problems as the page lists them: most urgent first, capped."""
    from sgs.report.feedback import feedback_frame

    rows = feedback_frame(problems, today).sort(
        [pl.col("overdue").is_null(), pl.col("deadline"), pl.col("reported_on")],
        nulls_last=True,
    )
    errors = rows.filter(pl.col("severity") == "error")
    shown = rows.head(SHOWN_PROBLEMS)
    return {
        "rows": list(shown.iter_rows(named=True)),
        "total": rows.height,
        "errors": errors.height,
        "overdue": rows.filter(pl.col("overdue").is_not_null()).height,
        "next_deadline": errors.filter(pl.col("overdue").is_null())["deadline"].min(),
        "more": rows.height - shown.height,
    }


def _unlisted(con, period: str, unit_code: str) -> list[dict]:
    """台账未列: the unit's records decided in the month that its ledger does not list, so it
    can correct the ledger before the office compares (docs/policy.md section 7)."""
    from sgs.labels import kind_name
    from sgs.measure.rates import details
    from sgs.report.masking import mask_ids_in_text

    rows = mask_ids_in_text(details(con, period, "unlisted", unit_code))
    return [r | {"kind_zh": kind_name(r["kind"])} for r in rows.iter_rows(named=True)]


def _departments(code: str) -> list[dict]:
    """A county's departments, each with its feedback list and hand-in history: the county's
    account sees both (their figures count in its own, docs/policy.md section 1)."""
    from sgs.reference.units import departments_of

    return [
        {"code": d["code"], "name": d["name"], "feedback_url": f"/download/feedback/{d['code']}.xlsx",
         "handin_url": f"/handin?unit={d['code']}"}
        for d in departments_of(code)
    ]  # fmt: skip


def unit_home(request: Request) -> Response:
    """``/`` for a unit's account: ``?period=YYYY-MM`` (default the latest month with data)."""
    from sgs.measure.problems import open_problems

    who = principal(request)
    unit = _unit(str(who.unit_code))
    today = office_today()
    asked = request.query_params.get("period", "").strip() or None
    feedback_url = f"/download/feedback/{unit['code']}.xlsx"
    if asked is not None and not is_period(asked):
        # The error and the month picker alone: the latest month's figures under it would read
        # as the figures of the month asked for.
        with reading(request.app.state.root) as con:
            months = available_months(con)
        message = f"月份格式不正确：「{asked[:20]}」。请按 YYYY-MM 填写，例如 2026-10。"
        return render(
            request, "unit.html", 400, title="月份有误", nav_here="home", unit=unit,
            months=months, period=None, view=None, row=None, problems=None, message=message,
            as_of=today, unlisted=[], feedback_url=feedback_url, bad_month=True, departments=[],
        )  # fmt: skip
    message = ""
    with reading(request.app.state.root) as con:
        months = available_months(con)
        period = asked or (months[0] if months else None)
        view = month_view(con, period, today) if period in months else None
        problems = None if con is None else problems_view(open_problems(con, unit["code"]), today)
        unlisted = _unlisted(con, period, unit["code"]) if view is not None else []
    if view is not None:
        view = own_rows(view, unit["code"])
    if period is not None and view is None:
        message = f"{period} 没有上报文件或台账数据，请选择其他月份。"
    rows = [r for _, group in view["groups"] for r in group] if view else []
    return render(
        request, "unit.html", title=unit["name"], nav_here="home", unit=unit, months=months,
        period=period, view=view, row=rows[0] if rows else None, problems=problems,
        message=message, as_of=today, unlisted=unlisted, feedback_url=feedback_url,
        bad_month=False, departments=_departments(unit["code"]),
    )  # fmt: skip
