"""Saying what is wrong with an upload's file name, when the form parser only says "invalid".

Starlette's multipart parser refuses a part header longer than python-multipart's limit (a
5,000-character file name) as "invalid multipart data", and takes a part named only by
``filename*=`` (RFC 5987, which multipart forms do not use) for a text field — so a unit was
told to "upload one file" when it had.  The first :data:`KEPT_BYTES` of the body (where the
part headers are) are kept while the body is read, and looked at only when the form is
refused, to name the real problem (:func:`name_problem`).
"""

from __future__ import annotations

import re

from starlette.types import Message, Receive

KEPT_BYTES = 64 * 1024
MAX_HEADER_BYTES = 4096  # python-multipart's limit of one header line (with some slack above)
_DISPOSITION = re.compile(rb"^content-disposition:(.*)$", re.I | re.M)
_PLAIN_NAME = re.compile(rb";\s*filename\s*=", re.I)
_STAR_NAME = re.compile(rb";\s*filename\*\s*=", re.I)

TOO_LONG = "文件名过长：请把文件名改短（例如不超过 100 个字）后重新上传。"
STAR_ONLY = (
    "无法识别文件名：表单只用 filename* 给出了文件名。请用浏览器页面上传，"
    "或在 Content-Disposition 中用 filename 参数给出文件名。"
)


class KeptPrefix:
    """A receive channel that keeps the first :data:`KEPT_BYTES` of the body it passes on."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.data = bytearray()

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and len(self.data) < KEPT_BYTES:
            self.data += message.get("body", b"")[: KEPT_BYTES - len(self.data)]
        return message


def name_problem(prefix: bytes) -> tuple[str, str] | None:
    """The code and Chinese message of a file name the parser could not take, or None."""
    for found in _DISPOSITION.finditer(bytes(prefix)):
        line = found.group(1).rstrip(b"\r")
        if len(line) > MAX_HEADER_BYTES or (
            b"\n" not in prefix[found.end() :] and len(prefix) >= KEPT_BYTES
        ):
            return "name_too_long", TOO_LONG
        if _STAR_NAME.search(line) and not _PLAIN_NAME.search(line):
            return "filename_star", STAR_ONLY
    return None
