"""The published figures on the office's pages: the month page of a published month, and the
修订 list ``/revisions/<YYYY-MM>``.

Why: once a month is published (:mod:`sgs.report.publication`), the figures the office stands by
are the published ones; later files only revise them.  So the month page shows the latest
revision by default, says which one (「已发布：第 N 版，发布于 …，截至 …」) and links to the live
figures (``?live=1``) and to the revisions page, which lists every revision and every figure
that differs now, with the files behind it (:mod:`sgs.report.revisions`, the bulletin's 修订
sheet as a page).

Decisions:

- **Live only when asked.**  ``?live=1``, or an ``as_of`` other than today (a day's knowledge
  is a recomputation by definition), shows computed figures; the month picker's form sends
  today's date, which keeps the published view.
- **The same table.**  The published rows go through :func:`sgs.web.views.figures_view`, as
  computed ones do: the rates per unit are summed from the published counts, as
  :func:`sgs.measure.rates.unit_rates` sums the live ones.
- **Office only.**  The revisions page lists every unit; a unit's account gets 403 (its start
  page shows its own live row, as before).
"""

from __future__ import annotations

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sgs.report.publication import Publication


def describe(p: Publication) -> dict:
    """What the pages say about a revision."""
    return {
        "revision": p.revision,
        "published_at": f"{p.published_at:%Y-%m-%d %H:%M}",
        "as_of": p.as_of.isoformat(),
        "by": p.by,
        "rates_sha256": p.rates_sha256,
        "points_sha256": p.points_sha256,
        "ranking_sha256": p.ranking_sha256,
        "live_url": f"/?period={p.period}&live=1",
        "published_url": f"/?period={p.period}",
        "revisions_url": f"/revisions/{p.period}",
    }


def publication_of(con, period: str) -> dict | None:
    """The month's latest revision, described, or None (never published, or no store)."""
    from sgs.report.publication import latest

    if con is None:
        return None
    p = latest(con, period)
    return None if p is None else describe(p)


def published_view(con, period: str) -> dict | None:
    """The month view of the latest revision's rows, or None when never published."""
    from sgs.measure.rates import unit_rates
    from sgs.report.publication import latest, published_rows
    from sgs.web.views import figures_view

    p = latest(con, period) if con is not None else None
    if p is None:
        return None
    rates = pl.DataFrame(published_rows(con, p, "rates"), infer_schema_length=None)
    points = pl.DataFrame(published_rows(con, p, "points"), infer_schema_length=None)
    return figures_view(period, unit_rates(rates), points)


def revisions_page(request: Request) -> Response:
    """``/revisions/<YYYY-MM>``: every revision of the month, and the figures that differ now
    from the latest one (as of today), with the files behind each change."""
    from sgs.clock import office_today
    from sgs.errors import EventsError
    from sgs.measure.points import monthly_points
    from sgs.measure.rates import rates
    from sgs.periods import is_period
    from sgs.report.publication import revisions_of
    from sgs.report.revisions import revisions
    from sgs.web.views import reading, render

    asked = request.path_params["period"]
    if not is_period(asked):
        raise HTTPException(
            400, f"月份格式不正确：「{asked[:20]}」。请按 YYYY-MM 填写，例如 2026-10。"
        )
    today = office_today()
    with reading(request.app.state.root) as con:
        found = revisions_of(con, asked) if con is not None else []
        if not found:
            raise HTTPException(404, f"{asked} 尚未发布。")
        period = found[-1].period  # the store's string from here on
        try:
            changed = revisions(
                con, period, today, rates(con, period, as_of=today),
                monthly_points(con, period, today),
            )  # fmt: skip
        except EventsError as exc:
            raise HTTPException(500, f"现在的积分无法计算（事件文件有误）：{exc}") from exc
    changes = [] if changed is None else list(changed.changes.iter_rows(named=True))
    return render(
        request, "revisions.html", title=f"{period} 发布与修订", period=period, today=today,
        latest=describe(found[-1]), revisions=[describe(p) for p in reversed(found)],
        changes=changes,
    )  # fmt: skip
