"""The hand-in page: a unit hands a file in with a form and gets a receipt, then sees every
file it has handed in with what became of it.

Decisions:

- **The same door as the API.**  The form's upload is read within ``SGS_UPLOAD_MAX_MB``
  (:mod:`sgs.web.uploads`), the unit decided as ``POST /api/uploads`` decides it, the file put
  into ``raw/<unit code>/<received>/`` by :func:`sgs.intake.handin.hand_in`, validated where it
  lies, and the daily deployment asked for after the response (:mod:`sgs.web.api`).
- **Who for.**  A unit's account hands in for itself only: the form has no unit field, and a
  forged one naming another unit is 403.  The office chooses the unit from the registry.
- **History.**  A unit sees its own hand-ins, and a county's (or zone's) account its
  departments' too, each in a table of its own under its name (their files count in the
  county's figures; ``?unit=<department>`` shows one alone, as the start page links it); the
  office sees one unit's at a time, chosen with ``/handin?unit=<code>`` (all units' files at
  once would be a long, mixed list — the month page shows every unit's figures side by side
  instead).
- **Refreshing the receipt** would send the file again; the browser asks first, and a second
  copy gets its own name (``name (2).xlsx``) and is stored once (same bytes, same batch).
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sgs.errors import FileRefused
from sgs.web import csrf
from sgs.web.accounts import Principal
from sgs.web.api import (
    UNCHECKED_MESSAGE,
    UNIT_FIELD,
    landed_validation,
    trigger_daily_run,
    unit_of,
)
from sgs.web.auth import principal
from sgs.web.checkpool import ClientGone, gone_response
from sgs.web.uploads import UploadProblem, read_upload
from sgs.web.views import READ_TIMEOUT_S, render


def _units() -> list[dict]:
    """The registry's units, for the office's choice."""
    from sgs.reference.units import load_units

    return list(load_units().select("code", "name").iter_rows(named=True))


def _unit_name(code: str) -> str:
    from sgs.reference.units import resolve_unit

    return str(resolve_unit(code)["name"])


def _histories(root: Path, who: Principal, code: str | None) -> list[dict]:
    """The hand-in histories the page shows: the chosen unit's and, on a county's own page,
    each of its departments' after it (module docstring)."""
    from sgs.reference.units import departments_of
    from sgs.store.handins import history

    codes = [] if code is None else [code]
    if code is not None and not who.is_office and code == who.unit_code:
        codes += [str(d["code"]) for d in departments_of(code)]
    return [
        {"code": c, "name": _unit_name(c), "files": history(root, c, timeout=READ_TIMEOUT_S)}
        for c in codes
    ]


def _chosen(who: Principal, given: str | None) -> str | None:
    """The unit whose page this is: a unit is itself (403 for another), the office names one
    (or none yet)."""
    if who.is_office and not (given or "").strip():
        return None
    try:
        return unit_of(who, given, "history")
    except UploadProblem as p:
        raise HTTPException(p.status, p.message) from None


async def _page(request: Request, code: str | None, status: int = 200, **context) -> Response:
    who = principal(request)
    histories = await run_in_threadpool(_histories, request.app.state.root, who, code)
    context.setdefault("receipt", None)
    context.setdefault("validation", None)
    context.setdefault("message", "")
    return render(
        request, "handin.html", status, title="报送", nav_here="handin", unit_code=code,
        unit_name=_unit_name(code) if code else "", units=_units() if who.is_office else [],
        own_name="" if who.is_office else _unit_name(str(who.unit_code)),
        histories=histories, **context,
    )  # fmt: skip


async def handin_form(request: Request) -> Response:
    who = principal(request)
    return await _page(request, _chosen(who, request.query_params.get(UNIT_FIELD)))


async def handin(request: Request) -> Response:
    """Hand the chosen file in; the receipt, the file's validation summary and the history."""
    from sgs.intake.handin import hand_in

    root: Path = request.app.state.root
    who = principal(request)
    own = None if who.is_office else who.unit_code
    try:
        async with read_upload(request) as up:
            csrf.check(request, up.fields.get(csrf.CSRF_FIELD))
            code = unit_of(who, up.fields.get(UNIT_FIELD))
            try:
                receipt = await run_in_threadpool(hand_in, root, code, up.filename, up.file)
            except FileRefused as exc:
                return await _page(request, code, 422, message=exc.message)
    except UploadProblem as p:
        if p.status == 403:
            raise HTTPException(403, p.message) from None
        return await _page(request, own, p.status, message=p.message)
    try:
        checked = await landed_validation(request, root, receipt)
    except ClientGone:
        return gone_response()
    validation = json.loads(checked) if checked is not None else None
    response = await _page(request, receipt.unit_code, receipt=receipt.as_dict(),
                           validation=validation, unchecked=UNCHECKED_MESSAGE)  # fmt: skip
    response.background = BackgroundTask(trigger_daily_run)
    return response
