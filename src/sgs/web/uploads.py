"""Reading a multipart upload within ``SGS_UPLOAD_MAX_MB``: the body counted as it arrives.

Decisions:

- **413 as early as possible.**  A declared ``Content-Length`` above the limit is answered
  before a byte is read; a body without one (chunked) or lying about it is counted as it
  streams, and reading stops the moment the count passes the limit.  The multipart envelope
  (boundaries, the ``unit`` and ``csrf`` fields) gets :data:`ENVELOPE_BYTES` on top, and the
  file part itself is held to the limit exactly.
- **Memory bounded by the limit, not by the request.**  The file part is spooled by Starlette
  (python-multipart) to an anonymous temporary file outside the data root; other fields are at
  most :data:`MAX_FIELD_BYTES`; one file and a handful of fields per request.
- **Before any permission check**, so a too-large file is 413 whoever it claims to be for
  (the order 429, 401, 413, 403).
- **Say what is wrong**: a file name too long for the parser, or given only as ``filename*``,
  is named as such (:mod:`sgs.web.upload_names`), not as "upload one file".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import BinaryIO

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from sgs.config import upload_max_bytes
from sgs.web.forms import BodyOverflow, counting_receive
from sgs.web.upload_names import KeptPrefix, name_problem

ENVELOPE_BYTES = 64 * 1024
MAX_FIELD_BYTES = 4 * 1024
MAX_FIELDS = 8
FILE_FIELD = "file"


class UploadProblem(Exception):
    """A request whose upload cannot be taken: HTTP ``status``, a ``code`` and a Chinese
    ``message`` for the JSON error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def too_large(limit: int) -> UploadProblem:
    mb = limit / (1024 * 1024)
    shown = f"{mb:g}"
    return UploadProblem(413, "too_large", f"文件超过大小上限 {shown} MB，请拆分后分别上报。")


@dataclass
class Upload:
    """The file part (a spooled temporary file and the name the browser gave) and the
    text fields of the form."""

    filename: str
    file: BinaryIO
    size: int
    fields: dict[str, str]


@asynccontextmanager
async def read_upload(request: Request) -> AsyncIterator[Upload]:
    """The request's upload within the limit, or :class:`UploadProblem` (413, 400).

    The spooled file is closed (and so deleted) when the block ends.
    """
    limit = upload_max_bytes()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + ENVELOPE_BYTES:
        raise too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UploadProblem(400, "not_multipart", "请以 multipart/form-data 表单上传文件（字段名 file）。")  # fmt: skip
    kept = KeptPrefix(request.receive)
    limited = Request(request.scope, counting_receive(kept, limit + ENVELOPE_BYTES))
    try:
        form: FormData = await limited.form(
            max_files=1, max_fields=MAX_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
    except BodyOverflow:
        raise too_large(limit) from None
    except (MultiPartException, HTTPException):  # Starlette turns the first into the second
        _name_problem(kept)
        raise UploadProblem(400, "bad_form", "表单无法解析：请只上传一个文件（字段名 file）。") from None  # fmt: skip
    try:
        part = form.get(FILE_FIELD)
        if not isinstance(part, UploadFile):
            _name_problem(kept)
            raise UploadProblem(400, "no_file", "请选择要上传的文件（表单字段 file）。")
        size = part.size if part.size is not None else _size_of(part.file)
        if size > limit:
            raise too_large(limit)
        part.file.seek(0)
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        yield Upload(part.filename or "", part.file, size, fields)
    finally:
        await form.close()


def _name_problem(kept: KeptPrefix) -> None:
    """Raise the 400 of a file name the parser could not take, if that is what went wrong."""
    found = name_problem(kept.data)
    if found is not None:
        raise UploadProblem(400, *found) from None


def _size_of(fh: BinaryIO) -> int:
    fh.seek(0, 2)
    return fh.tell()
