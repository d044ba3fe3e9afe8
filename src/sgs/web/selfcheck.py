"""The self-check page: a unit picks a file and sees every problem with its fix suggestion,
without handing anything in.

Decisions:

- **Nothing stored.**  The upload is read within ``SGS_UPLOAD_MAX_MB``
  (:mod:`sgs.web.uploads`) and validated in a check process of its own, in a private temporary
  folder outside the data root, deleted on every path (:mod:`sgs.web.checkpool`, shared with
  ``POST /api/check``); nothing reaches the landing zone or the store.  When the checks' queue
  is full the page says 系统繁忙 (503, ``Retry-After``).
- **What the page shows.**  The file's summary (the lines ``sgs validate`` prints), the
  problems per field and rule, and the problems themselves — where (the row as the spreadsheet
  shows it, the sheet when several were read), field, rule, message, the value as written and
  the suggestion, ID numbers masked in both — at most :data:`SHOWN_PROBLEMS` of them; the rest
  are in the downloadable list.
- **The problem list** (XLSX, :func:`sgs.report.validation.write_problem_list`) is written at
  check time into the app's own folder ``<data root>/curated/web/checks/`` under a random name
  (:func:`secrets.token_urlsafe`), beside a small JSON file naming the account that made it —
  by its id (:func:`owner_of`), not by its role and name, which another account may share.
  ``GET /check/<id>.xlsx`` sends it to that account only; any other account, a name that does
  not match :data:`CHECK_NAME` and an expired list are all 404 — nobody learns that someone
  else's check exists.  Lists older than :data:`KEEP_SECONDS` are deleted when a new check is
  made.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sgs.web import csrf
from sgs.web.accounts import Principal
from sgs.web.auth import principal
from sgs.web.checkpool import BUSY_MESSAGE as BUSY
from sgs.web.checkpool import CheckRefused, ClientGone, check_in_process, gone_response
from sgs.web.uploads import UploadProblem, read_upload
from sgs.web.views import render

SHOWN_PROBLEMS = 1000
KEEP_SECONDS = 24 * 3600
CHECK_NAME = re.compile(r"([A-Za-z0-9_-]{22})\.xlsx")


# ----------------------------------------------------------------------------- the problem list


def checks_dir(root: Path) -> Path:
    from sgs.web.downloads import web_dir

    return web_dir(root) / "checks"


def owner_of(who: Principal) -> str:
    """Whose a problem list is: the account's id (``office`` for the shared secret).  A role and
    a name are not enough: an office account may be named like the shared secret's user."""
    return f"account:{who.subject}"


def _forget_old(folder: Path) -> None:
    """Delete lists (and their owner files) older than a day."""
    cutoff = time.time() - KEEP_SECONDS
    for p in folder.glob("*"):
        try:
            if p.is_file() and p.stat().st_mtime < cutoff:
                p.unlink()
        except FileNotFoundError:  # another request deleted it first
            pass


def save_problem_list(root: Path, owner: str, label: str, result) -> str:
    """Write the check's problem list for ``owner`` (:func:`owner_of`); its id (the download is
    ``<id>.xlsx``).  Runs in the check process (:mod:`sgs.web.checkjobs`)."""
    from sgs.clock import office_now
    from sgs.files import write_atomically
    from sgs.report.validation import write_problem_list

    folder = checks_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old(folder)
    check_id = secrets.token_urlsafe(16)
    write_atomically(folder / f"{check_id}.xlsx", lambda out: write_problem_list(result, out))
    meta = {"owner": owner, "file": label,
            "created": office_now().isoformat(timespec="seconds")}  # fmt: skip
    text = json.dumps(meta, ensure_ascii=False)
    write_atomically(folder / f"{check_id}.json", lambda out: out.write_text(text, "utf-8"))
    return check_id


def download_check(request: Request) -> Response:
    """``/check/<id>.xlsx``: the problem list of one of this account's own checks."""
    from sgs.web.downloads import XLSX_TYPE

    match = CHECK_NAME.fullmatch(request.path_params["name"])
    if match is None:
        raise HTTPException(404)
    folder = checks_dir(request.app.state.root)
    found = {p.stem: p for p in folder.glob("*.json")} if folder.is_dir() else {}
    meta_path = found.get(match.group(1))  # the folder's own name, not the request's text
    try:
        meta = json.loads(meta_path.read_text("utf-8")) if meta_path else None
        data = meta_path.with_suffix(".xlsx").read_bytes() if meta_path else b""
    except (OSError, ValueError):
        meta = None
    if meta is None or meta.get("owner") != owner_of(principal(request)):
        raise HTTPException(404, "问题清单不存在或已过期（保留一天），请重新自查。")
    stem = str(meta.get("file", "")).rpartition(".")[0] or "上报文件"
    name = f"问题清单_{stem}.xlsx"
    disposition = f"attachment; filename=\"problems.xlsx\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=XLSX_TYPE, headers={"content-disposition": disposition})


# ----------------------------------------------------------------------------- the page


def result_view(label: str, result, shown_at_most: int = SHOWN_PROBLEMS) -> dict:
    """What the result page shows of one validated file (values masked, at most
    ``shown_at_most`` rows; the server passes its :data:`SHOWN_PROBLEMS` to the check process)."""
    from sgs.report.validation import (
        counts_by_rule,
        first_problems,
        head_lines,
        sheets_read,
        summary_counts,
        where,
    )

    several = sheets_read(result.upload) > 1
    shown = first_problems(result, shown_at_most)
    has_suggestions = "suggestion" in shown.columns
    problems = [
        {"where": where(r, several), "name": r["name"] or r["field"], "field": r["field"],
         "rule_name": r["rule_name"], "severity": r["severity"], "severity_zh": r["severity_zh"],
         "message": r["message"], "value": r["value"],
         "suggestion": r.get("suggestion") if has_suggestions else None}
        for r in shown.iter_rows(named=True)
    ]  # fmt: skip
    total = result.errors.height
    return {
        "lines": head_lines(label, result),
        "counts": summary_counts(result),
        "by_rule": list(counts_by_rule(result).iter_rows(named=True)),
        "problems": problems,
        "has_suggestions": has_suggestions,
        "total": total,
        "more": max(0, total - len(problems)),
    }


def page_check(filename: str, root: str, owner: str, shown: int, folder: str) -> dict:
    """``POST /check``: the page's view of the result and, when there are problems, the id of
    the problem list written for ``owner`` (:func:`save_problem_list`); run in a check process."""
    from sgs.errors import FileRefused
    from sgs.web.checkjobs import validate_copied

    label, outcome = validate_copied(filename, folder)
    if isinstance(outcome, FileRefused):
        return {"label": label, "refused": outcome.message}
    view = result_view(label, outcome, shown)
    if view["total"]:
        view["check_id"] = save_problem_list(Path(root), owner, label, outcome)
    return {"label": label, "view": view}


def _page(request: Request, status: int = 200, **context: object) -> Response:
    defaults = {"title": "自查", "view": None, "message": "", "refused": "", "file": ""}
    return render(request, "check.html", status, nav_here="check", **(defaults | context))


def check_form(request: Request) -> Response:
    return _page(request)


async def check(request: Request) -> Response:
    """Validate the chosen file in a check process and show every problem (422 for a file
    that cannot be validated, 413 for one above the size limit, 503 when the checks' queue is
    full)."""
    pool = request.app.state.checks
    if pool.full():  # refused before the body is read; the queue is decided again below
        return busy_page(request, CheckRefused(503, "busy", BUSY))
    root: Path = request.app.state.root
    who = principal(request)
    try:
        async with read_upload(request) as up:
            csrf.check(request, up.fields.get(csrf.CSRF_FIELD))
            args = (up.filename, str(root), owner_of(who), SHOWN_PROBLEMS)
            outcome = await check_in_process(request, page_check, args, up.file)
    except UploadProblem as p:
        return _page(request, p.status, message=p.message)
    except CheckRefused as refused:
        return busy_page(request, refused)
    except ClientGone:
        return gone_response()
    label = outcome["label"]
    if "refused" in outcome:
        return _page(request, 422, title="文件无法校验", refused=outcome["refused"], file=label)
    view = outcome["view"]
    if "check_id" in view:
        view["download"] = f"/check/{view.pop('check_id')}.xlsx"
    return _page(request, title=f"自查结果 · {label}", view=view, file=label)


def busy_page(request: Request, refused: CheckRefused) -> Response:
    """503 (busy, stopping; ``Retry-After``) or 500 (the check failed), as the check page."""
    response = _page(request, refused.status, title="暂时无法自查", message=refused.message)
    if refused.retry_after:
        response.headers["retry-after"] = str(refused.retry_after)
    return response
