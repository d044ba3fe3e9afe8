"""The units' API: check a file (no storage), hand a file in, and list the unit's hand-ins.

- ``POST /api/check`` (multipart ``file``): 200 and the JSON object of ``sgs validate --json``
  (``file`` is the upload's sanitised name); a file that cannot be validated — not a table at
  all, unreadable, refused layout, missing columns — is 422 with the refused object.  The file
  is validated in a check process of its own (:mod:`sgs.web.checkpool`), in a private
  temporary folder outside the data root deleted on every path; nothing is written to the
  landing zone or the store.  With the checks' queue full: 503 ``busy`` and ``Retry-After``.
- ``POST /api/uploads`` (multipart ``file``; the office adds ``unit``, a code or exact name):
  201 and ``{"receipt": {file, sha256, received, unit_code, path}, "validation": {…}}``.  The
  file lands in ``raw/<unit code>/<received>/`` (:mod:`sgs.intake.handin`), then a flow run of
  the daily deployment is asked for after the response is sent
  (:func:`sgs.jobs.trigger.trigger_ingest`; without a Prefect server the 06:00 run ingests it).
  A file whose bytes are no XLSX, XLS or CSV is refused (422, nothing written); a table that
  validation refuses (a missing column, layout v1) is still handed in — bad input never loses
  data: ingest quarantines it with its reason, and ``validation`` is the refused object, so the
  unit knows at once.  The landed file is validated in the checks' pool like any check; when
  the queue is full the file is still handed in and ``validation`` is ``null``, with
  ``validation_message`` saying the daily run will check it.
- ``GET /api/uploads`` (the office adds ``?unit=``): the unit's hand-ins, newest first, each
  with what the store made of it (:func:`sgs.store.handins.history`).

A unit's account works for its own unit only (403 for another); errors are JSON
``{"error": {"code", "message"}}`` with a Chinese message — the 401 of a request without
credentials too (:mod:`sgs.web.auth`).  Order of answers: 401 before
routing (:mod:`sgs.web.auth`), then 413 while the body is read (:mod:`sgs.web.uploads`), then
403 (the CSRF token of a cookie-borne form, the unit).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sgs.errors import FileRefused, LandingError
from sgs.web import csrf
from sgs.web.accounts import Principal
from sgs.web.auth import principal
from sgs.web.checkpool import (
    BUSY_MESSAGE,
    CheckRefused,
    ClientGone,
    check_in_process,
    gone_response,
)
from sgs.web.uploads import Upload, UploadProblem, read_upload

UNIT_FIELD = "unit"
JSON = "application/json"


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _refused(label: str, exc: FileRefused) -> Response:
    from sgs.report.validation import refusal_object

    return JSONResponse(refusal_object(label, None, exc), status_code=422)


def _checked_form(request: Request, up: Upload) -> None:
    """403 for a cookie-borne form without its CSRF token (a bearer call needs none)."""
    csrf.check(request, up.fields.get(csrf.CSRF_FIELD))


# ----------------------------------------------------------------------------- check


def _refused_check(refused: CheckRefused) -> JSONResponse:
    response = error(refused.status, refused.code, refused.message)
    if refused.retry_after:
        response.headers["retry-after"] = str(refused.retry_after)
    return response


async def check(request: Request) -> Response:
    from sgs.web.checkjobs import api_check

    if request.app.state.checks.full():  # refused before the body is read
        return _refused_check(CheckRefused(503, "busy", BUSY_MESSAGE))
    try:
        async with read_upload(request) as up:
            _checked_form(request, up)
            body, status = await check_in_process(request, api_check, (up.filename,), up.file)
    except UploadProblem as p:
        return error(p.status, p.code, p.message)
    except HTTPException as exc:
        return error(exc.status_code, "forbidden", str(exc.detail))
    except CheckRefused as refused:
        return _refused_check(refused)
    except ClientGone:
        return gone_response()
    return Response(body, status_code=status, media_type=JSON)


# ----------------------------------------------------------------------------- hand-in


NO_UNIT = {
    "upload": "信用办账户上报时须在表单字段 unit 中填写上报单位（统一社会信用代码或单位全称）。",
    "history": "信用办账户须用参数 unit 指明单位（统一社会信用代码或单位全称）。",
}
OTHER_UNIT = {
    "upload": "单位账户只能为本单位上报文件。",
    "history": "单位账户只能查看本单位（县区账户：含所属部门）的上报记录。",
}


def unit_of(who: Principal, given: str | None, what: str = "upload") -> str:
    """The registry code a request is for: the office names it, a unit is itself (403 when
    it names another)."""
    from sgs.intake.handin import unit_folder_code

    given = (given or "").strip()
    if not given:
        if who.is_office or not who.unit_code:
            raise UploadProblem(400, "no_unit", NO_UNIT[what])
        return who.unit_code
    try:
        code = unit_folder_code(given)
    except LandingError as exc:
        raise UploadProblem(422, "unknown_unit", str(exc)) from None
    # A county sees its departments' hand-ins; only the unit itself (or the office) hands in.
    allowed = who.may_see(code) if what == "history" else who.is_office or who.unit_code == code
    if not allowed:
        raise UploadProblem(403, "other_unit", OTHER_UNIT[what])
    return code


UNCHECKED_MESSAGE = (
    "文件已接收。系统繁忙，暂未校验；每日入库时将校验该文件，问题列入反馈清单，也可稍后用自查查看。"
)


async def landed_validation(request: Request, root: Path, receipt) -> bytes | None:
    """The handed-in file's validation (JSON bytes), run in the checks' pool like any check.

    The file is handed in before its turn comes, so a full queue (or a server shutting down)
    does not refuse the hand-in: the answer is ``None`` and the daily run validates the file
    anyway.  A client that leaves raises :class:`ClientGone` (the file stays handed in).
    """
    from sgs.web.checkjobs import landed_check

    args = (str(root), receipt.path, receipt.file, receipt.received, receipt.unit_code,
            receipt.sha256)  # fmt: skip
    try:
        return await check_in_process(request, landed_check, args)
    except CheckRefused:
        return None


def trigger_daily_run() -> None:
    """Ask a running Prefect server for the daily run at once (after the answer is sent; never
    raises, does nothing without a server)."""
    from sgs.jobs.trigger import trigger_ingest

    trigger_ingest()


async def upload(request: Request) -> Response:
    from sgs.intake.handin import clean_name, hand_in

    root: Path = request.app.state.root
    who = principal(request)
    try:
        async with read_upload(request) as up:
            _checked_form(request, up)
            unit = unit_of(who, up.fields.get(UNIT_FIELD))
            try:
                receipt = await run_in_threadpool(hand_in, root, unit, up.filename, up.file)
            except FileRefused as exc:
                return _refused(clean_name(up.filename), exc)
    except UploadProblem as p:
        return error(p.status, p.code, p.message)
    except HTTPException as exc:
        return error(exc.status_code, "forbidden", str(exc.detail))
    try:
        validation = await landed_validation(request, root, receipt)
    except ClientGone:
        return gone_response()
    later = b', "validation_message": ' + json.dumps(UNCHECKED_MESSAGE, ensure_ascii=False).encode()
    body = b"".join((
        b'{"receipt": ', json.dumps(receipt.as_dict(), ensure_ascii=False).encode(),
        b', "validation": ', validation or b"null", b"" if validation else later, b"}",
    ))  # fmt: skip
    return Response(
        body, status_code=201, media_type=JSON, background=BackgroundTask(trigger_daily_run)
    )


# ----------------------------------------------------------------------------- history


def _history(request: Request, code: str) -> dict:
    from sgs.reference.units import resolve_unit
    from sgs.store.handins import history
    from sgs.web.views import READ_TIMEOUT_S

    files = history(request.app.state.root, code, timeout=READ_TIMEOUT_S)
    return {"unit_code": code, "unit_name": resolve_unit(code)["name"], "files": files}


async def uploads(request: Request) -> Response:
    who = principal(request)
    try:
        code = unit_of(who, request.query_params.get(UNIT_FIELD), "history")
    except UploadProblem as p:
        return error(p.status, p.code, p.message)
    return JSONResponse(await run_in_threadpool(_history, request, code))
