"""The download page's files: a month's bulletin (workbook or PDF) and a unit's feedback list.

Decisions:

- **Only these downloads.**  ``/download/bulletin/<YYYY-MM>.xlsx``,
  ``/download/bulletin/<YYYY-MM>.pdf`` (the same bulletin printed, :mod:`sgs.report.pdf`) and
  ``/download/feedback/<unit code>.xlsx``.  The name must match a strict ASCII pattern, and
  then the value used is the store's own month string or the registry's own unit code — never
  the request's text — so no request value reaches a file path.  A name shaped like a month
  that is not one (``2026-13.pdf``) is a 400 page saying so; months without uploads or
  ledgers, unknown units and anything else under ``/download`` are 404; traversal attempts
  never match a route or a pattern.
- **Written, then sent.**  The app writes the file into its own folder
  ``<data root>/curated/web/`` under a name it builds, with
  :func:`sgs.files.write_atomically` (so nobody reads half a workbook), and sends it with a
  Chinese file name (RFC 5987 ``filename*``).  No lock is held across requests: two people
  asking for the same file at once each write their own scratch file and each move theirs into
  place (an atomic rename), and each is sent the bytes it wrote — never another's half-written
  file — while everyone else's pages go on being served.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import polars as pl
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sgs.clock import office_today
from sgs.files import write_atomically
from sgs.periods import is_period
from sgs.web.auth import require_unit
from sgs.web.views import available_months, reading

BULLETIN_NAME = re.compile(r"([0-9]{4}-[0-9]{2})\.(xlsx|pdf)")
FEEDBACK_NAME = re.compile(r"([0-9A-Z]{18})\.xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES = {"xlsx": XLSX_TYPE, "pdf": "application/pdf"}


def web_dir(root: Path) -> Path:
    """The app's own folder for the files it sends."""
    from sgs.store.database import curated_dir

    return curated_dir(root) / "web"


def attachment(data: bytes, name: str, fallback: str) -> Response:
    """A download (XLSX or PDF, by the name's suffix) with its Chinese name (RFC 5987) and an
    ASCII name for old clients."""
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
    media_type = MEDIA_TYPES[name.rpartition(".")[2]]
    return Response(data, media_type=media_type, headers={"content-disposition": disposition})


def bulletin_bytes(period: str, root: Path, form: str = "xlsx") -> bytes:
    """The month's bulletin (:func:`sgs.report.bulletin.write_bulletin`) as ``form`` (``xlsx``
    or ``pdf``) in the app's folder."""
    from sgs.report.bulletin import write_bulletin

    final = web_dir(root) / f"月通报_{period}.{form}"
    return written_bytes(final, lambda out: write_bulletin(period, out=out, root=root))


def written_bytes(final: Path, write: Callable[[Path], object]) -> bytes:
    """Write ``final`` atomically and return the bytes *this* request wrote: read from its own
    scratch file, before the move, so a concurrent request's newer file is never what this
    one sends (both are whole; the one sent matches the moment it was asked for)."""
    sent: list[bytes] = []

    def write_and_keep(out: Path) -> None:
        write(out)
        sent.append(out.read_bytes())

    write_atomically(final, write_and_keep)
    return sent[0]


def download_bulletin(request: Request) -> Response:
    """The month's bulletin, workbook or PDF; the month must be one the store has data for."""
    from sgs.errors import BulletinError, EventsError

    match = BULLETIN_NAME.fullmatch(request.path_params["name"])
    if match is None:
        raise HTTPException(404)
    if not is_period(match.group(1)):
        raise HTTPException(
            400, f"月份格式不正确：「{match.group(1)}」。请按 YYYY-MM 填写，例如 2026-10。"
        )
    form = match.group(2)  # one of the pattern's two literals: xlsx or pdf
    state = request.app.state
    with reading(state.root) as con:
        months = available_months(con)
    period = next((m for m in months if m == match.group(1)), None)  # the store's string
    if period is None:
        raise HTTPException(404, f"{match.group(1)} 没有上报文件或台账数据，无法生成月通报。")
    try:
        data = bulletin_bytes(period, state.root, form)
    except EventsError as exc:  # the office's events file, not the request, is at fault
        raise HTTPException(500, f"月通报无法生成（事件文件有误）：{exc}") from exc
    except BulletinError as exc:  # the server lacks what a PDF needs (Pango)
        raise HTTPException(500, str(exc)) from exc
    return attachment(data, f"月通报_{period}.{form}", f"bulletin-{period}.{form}")


def download_feedback(request: Request) -> Response:
    """A unit's feedback list of all its open problems (ID numbers masked by the writer)."""
    from sgs.measure.problems import open_problems
    from sgs.reference.units import load_units
    from sgs.report.feedback import write_feedback

    match = FEEDBACK_NAME.fullmatch(request.path_params["name"])
    if match is None:
        raise HTTPException(404)
    require_unit(request, match.group(1))  # a unit's account: its own list only
    units = load_units()
    hit = units.filter(pl.col("code") == match.group(1))
    if hit.height == 0:
        raise HTTPException(404, "单位清单中没有这个统一社会信用代码。")
    unit = hit.row(0, named=True)  # from here on the registry's values, not the request's
    state, today = request.app.state, office_today()
    with reading(state.root) as con:
        if con is None:  # nothing ingested yet: the unit's list is empty, not missing
            from sgs.store.database import blank_store

            con = blank_store()
        problems = open_problems(con, unit["code"])
    final = web_dir(state.root) / f"反馈清单_{unit['code']}.xlsx"
    data = written_bytes(final, lambda out: write_feedback(out, unit, problems, today))
    name = f"反馈清单_{unit['name']}_{today.isoformat()}.xlsx"
    return attachment(data, name, f"feedback-{unit['code']}-{today.isoformat()}.xlsx")
