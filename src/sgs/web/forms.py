"""The small forms (login, logout): their body bounded before it is read.

``POST /login`` is open to anyone, so its body must not be whatever a stranger sends: a
chunked 300 MB multipart "login" was read in full and spooled to disk before its 401.  So:

- **413 early.**  A declared ``Content-Length`` above :data:`FORM_MAX_BYTES` is refused before
  a byte is read; a chunked body (or one lying about its length) is counted as it arrives and
  reading stops the moment it passes the limit.
- **No files.**  These forms have text fields only: a file part is a 400, so nothing is ever
  spooled to disk; fields are few and short.
- **Chinese pages** for both (without the logout button: the visitor may not be logged in).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import Message, Receive

FORM_MAX_BYTES = 64 * 1024
MAX_FIELDS = 8
MAX_FIELD_BYTES = 4 * 1024
TOO_LARGE = f"表单内容过大（上限 {FORM_MAX_BYTES // 1024} KB），请刷新页面后重新提交。"
MALFORMED = "表单无法解析，请刷新页面后重新提交。"


class FormTooLarge(HTTPException):
    """The body passed :data:`FORM_MAX_BYTES` (413)."""

    def __init__(self) -> None:
        super().__init__(413, TOO_LARGE)


class BodyOverflow(Exception):
    """Raised inside the receive channel when the body passes the limit."""


def counting_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`BodyOverflow` once more than ``limit`` body bytes came
    (for the login form here and the uploads of :mod:`sgs.web.uploads`)."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyOverflow
        return message

    return counted


async def small_form(request: Request, limit: int = FORM_MAX_BYTES) -> FormData:
    """The request's form, at most ``limit`` bytes of body, text fields only.

    Raises :class:`FormTooLarge` (413) or a 400 :class:`HTTPException` with a Chinese reason.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FormTooLarge
    limited = Request(request.scope, counting_receive(request.receive, limit))
    try:
        return await limited.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES)
    except BodyOverflow:
        raise FormTooLarge from None
    except (MultiPartException, HTTPException):  # Starlette turns the first into the second
        raise HTTPException(400, MALFORMED) from None
