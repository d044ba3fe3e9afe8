"""The self-check page: a unit picks a file and sees every problem with its fix suggestion,
without handing anything in.

Decisions:

- **Nothing stored.**  The upload is read within ``SGS_UPLOAD_MAX_MB``
  (:mod:`sgs.web.uploads`) and validated in a private temporary folder outside the data root,
  deleted on return (:func:`validate_upload`, shared with ``POST /api/check``); nothing reaches
  the landing zone or the store.
- **What the page shows.**  The file's summary (the lines ``sgs validate`` prints), the
  problems per field and rule, and the problems themselves — where (the row as the spreadsheet
  shows it, the sheet when several were read), field, rule, message, the value as written and
  the suggestion, ID numbers masked in both — at most :data:`SHOWN_PROBLEMS` of them; the rest
  are in the downloadable list.
- **The problem list** (XLSX, :func:`sgs.report.validation.write_problem_list`) is written at
  check time into the app's own folder ``<data root>/curated/web/checks/`` under a random name
  (:func:`secrets.token_urlsafe`), beside a small JSON file naming the account that made it.
  ``GET /check/<id>.xlsx`` sends it to that account only; any other account, a name that does
  not match :data:`CHECK_NAME` and an expired list are all 404 — nobody learns that someone
  else's check exists.  Lists older than :data:`KEEP_SECONDS` are deleted when a new check is
  made.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sgs.errors import FileRefused
from sgs.web import csrf
from sgs.web.accounts import Principal
from sgs.web.auth import principal
from sgs.web.uploads import Upload, UploadProblem, read_upload
from sgs.web.views import render

SHOWN_PROBLEMS = 1000
KEEP_SECONDS = 24 * 3600
CHECK_NAME = re.compile(r"([A-Za-z0-9_-]{22})\.xlsx")


# ----------------------------------------------------------------------------- validating


def validate_upload(up: Upload) -> tuple[str, object]:
    """The upload validated in a private temporary folder (deleted on return).

    Returns the name the file is known by (sanitised, its extension the sniffed type's) and
    the :class:`~sgs.validate.pipeline.Validation`, or the :class:`FileRefused` of a file
    that cannot be validated.
    """
    from sgs.store.handin import clean_name, sanitise_name, sniff_type
    from sgs.validate.pipeline import validate_file

    with tempfile.TemporaryDirectory(prefix="sgs-check-") as tmp:
        scratch = Path(tmp) / "upload"
        with scratch.open("xb") as out:
            shutil.copyfileobj(up.file, out)
        label = clean_name(up.filename)
        try:
            path = scratch.rename(
                Path(tmp) / sanitise_name(up.filename, sniff_type(scratch, label))
            )
            return path.name, validate_file(path)
        except FileRefused as exc:
            return label, exc


# ----------------------------------------------------------------------------- the problem list


def checks_dir(root: Path) -> Path:
    from sgs.web.downloads import web_dir

    return web_dir(root) / "checks"


def _owner(who: Principal) -> str:
    return f"{who.role}:{who.name}"


def _forget_old(folder: Path) -> None:
    """Delete lists (and their owner files) older than a day."""
    cutoff = time.time() - KEEP_SECONDS
    for p in folder.glob("*"):
        try:
            if p.is_file() and p.stat().st_mtime < cutoff:
                p.unlink()
        except FileNotFoundError:  # another request deleted it first
            pass


def save_problem_list(root: Path, who: Principal, label: str, result) -> str:
    """Write the check's problem list for ``who``; its id (the download is ``<id>.xlsx``)."""
    from sgs.clock import office_now
    from sgs.files import write_atomically
    from sgs.report.validation import write_problem_list

    folder = checks_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old(folder)
    check_id = secrets.token_urlsafe(16)
    write_atomically(folder / f"{check_id}.xlsx", lambda out: write_problem_list(result, out))
    meta = {"owner": _owner(who), "file": label,
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
    if meta is None or meta.get("owner") != _owner(principal(request)):
        raise HTTPException(404, "问题清单不存在或已过期（保留一天），请重新自查。")
    stem = str(meta.get("file", "")).rpartition(".")[0] or "上报文件"
    name = f"问题清单_{stem}.xlsx"
    disposition = f"attachment; filename=\"problems.xlsx\"; filename*=UTF-8''{quote(name, safe='')}"
    return Response(data, media_type=XLSX_TYPE, headers={"content-disposition": disposition})


# ----------------------------------------------------------------------------- the page


def result_view(label: str, result) -> dict:
    """What the result page shows of one validated file (values masked, rows capped)."""
    from sgs.report.validation import (
        counts_by_rule,
        first_problems,
        head_lines,
        sheets_read,
        summary_counts,
        where,
    )

    several = sheets_read(result.upload) > 1
    shown = first_problems(result, SHOWN_PROBLEMS)
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


def _page(request: Request, status: int = 200, **context: object) -> Response:
    defaults = {"title": "自查", "view": None, "message": "", "refused": "", "file": ""}
    return render(request, "check.html", status, nav_here="check", **(defaults | context))


def check_form(request: Request) -> Response:
    return _page(request)


async def check(request: Request) -> Response:
    """Validate the chosen file and show every problem (422 for a file that cannot be
    validated, 413 for one above the size limit)."""
    root: Path = request.app.state.root
    who = principal(request)
    try:
        async with read_upload(request) as up:
            csrf.check(request, up.fields.get(csrf.CSRF_FIELD))
            label, outcome = await run_in_threadpool(validate_upload, up)
    except UploadProblem as p:
        return _page(request, p.status, message=p.message)
    if isinstance(outcome, FileRefused):
        return _page(request, 422, title="文件无法校验", refused=outcome.message, file=label)
    view = await run_in_threadpool(result_view, label, outcome)
    if view["total"]:
        check_id = await run_in_threadpool(save_problem_list, root, who, label, outcome)
        view["download"] = f"/check/{check_id}.xlsx"
    return _page(request, title=f"自查结果 · {label}", view=view, file=label)
