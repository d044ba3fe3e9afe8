"""The Data Docs behind the download page's login: ``/docs/`` and ``/docs/batch/<id>``.

The Prefect artifacts link here, so a click in the Prefect UI opens the page (a browser
refuses the ``file://`` links they had).  Decisions:

- **The same files as on disk**, written by :mod:`sgs.quality.data_docs` into
  ``<data root>/curated/data_docs/``; the server renders nothing itself, so what the office
  opens from the folder and what the link shows never differ.  Only the links between the
  pages are rewritten to these routes, and the link back to the month page (the
  ``public_url`` address on disk) to ``/`` (:func:`sgs.quality.data_docs.for_web`).
- **Looked up, never joined.**  The batch id must be a plain decimal number (no sign, no
  leading zero, no other digits than ASCII); it is then looked up among the pages the writer
  made (:func:`sgs.quality.data_docs.pages`, a listing of its own folder), and the path sent is
  the one from that listing.  No text of the request reaches a path; an unknown id, or no Data
  Docs yet, is a Chinese 404 page.
- Reading a page needs neither the store nor a lock: pages are replaced atomically,
  and a page removed between the lookup and the read (a run re-rendering after a rebuilt
  store) is a 404 like any page that is not there.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from sgs.quality.data_docs import for_web, index_page, pages

BATCH_ID = re.compile(r"[1-9][0-9]{0,17}")
NOT_YET = "尚未生成数据质量检查报告（Data Docs）：日监测运行并检查过批次后即可查看。"


def docs_index(request: Request) -> Response:
    """``/docs/``: the list of checked batches."""
    page = index_page(request.app.state.root)
    if page is None:
        raise HTTPException(404, NOT_YET)
    return _send(page, NOT_YET)


def docs_batch(request: Request) -> Response:
    """``/docs/batch/<id>``: one batch's checks, if the writer made a page for it."""
    asked = request.path_params["batch_id"]
    if not BATCH_ID.fullmatch(asked):
        raise HTTPException(404)
    missing = f"批次 {asked} 没有数据质量检查结果。"
    page = pages(request.app.state.root).get(int(asked))
    if page is None:
        raise HTTPException(404, missing)
    return _send(page, missing)


def _send(page: Path, missing: str) -> Response:
    try:
        text = page.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise HTTPException(404, missing) from exc
    return HTMLResponse(for_web(text))
