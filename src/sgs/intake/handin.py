"""Hand-in: a unit's file put into the landing zone by sgs itself, and what became of it.

A handed-in file lands exactly where a file copied by hand would, ``raw/<unit code>/<received
date>/<name>``, so the daily run (or an immediate one) ingests it like any other; nothing else
records it.  What this module adds is the door:

- **The unit** comes from the registry (code or exact name), never from a path of the request:
  the folder is the registry's code, and a code that could name another folder is refused.
- **The type** comes from the bytes, never the name: an XLSX is a ZIP holding
  ``[Content_Types].xml`` and ``xl/``, an XLS an OLE2 compound file, a CSV text that the
  encoding detection of ``sgs.intake.encodings`` can read.  Anything else (a picture, a
  program, a ZIP that is no workbook, Japanese text) is refused with the Chinese reason, before
  anything is written below the unit's folder.
- **The name** is sanitised (:func:`sanitise_name`): readable Chinese kept, directories, control
  characters and characters Windows forbids removed, no leading dot or ``~`` (the landing zone
  would leave such a file alone), the extension set to the sniffed type's.
- **Never overwrite**: the bytes are written to a hidden scratch file (the landing zone ignores
  it), then hard-linked to the final name, which fails when the name is taken — so the next
  name, ``name (2).xlsx``, ``name (3).xlsx`` …, is tried; two hand-ins of one name at the same
  moment both land, and a reader never sees half a file.  This needs a filesystem with hard
  links for the data root (every Linux filesystem).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from sgs.clock import office_today
from sgs.errors import FileRefused, LandingError
from sgs.intake.encodings import sniff_encoding
from sgs.intake.landing import raw_dir
from sgs.intake.readers import XLS_MAGIC, XLSX_MAGIC

SCRATCH_DIR = ".handin"  # below raw/: hidden, so the landing zone never reads a scratch file
SNIFF_BYTES = 1 << 16  # the text sniffed for a CSV: the encoding detection's own sample size
MAX_NAME_CHARS = 120  # a name people can still read in a list, extension included
MAX_NAME_BYTES = 200  # below the 255-byte limit of file names, with room for " (NNN)"
DEFAULT_STEM = "上报文件"
EXTENSIONS = {"xlsx": ".xlsx", "xls": ".xls", "csv": ".csv"}
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*\u200b-\u200f\u202a-\u202e\u2066-\u2069]')
_OLD_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
_WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)
_SAFE_CODE = re.compile(r"[0-9A-Za-z_-]+")
_COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class Receipt:
    """What a unit is given back: the name the file now has, its bytes' fingerprint, when it
    counts as received (the office's date) and where it lies, relative to the data root."""

    file: str
    sha256: str
    received: str  # YYYY-MM-DD, the office's date
    unit_code: str
    path: str  # POSIX, relative to the data root: raw/<unit code>/<received>/<file>

    def as_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- type and name


def sniff_type(path: Path, name: str = "") -> str:
    """``xlsx``, ``xls`` or ``csv`` from the file's bytes; :class:`FileRefused` otherwise."""
    shown = name or path.name
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
        complete = len(head) < SNIFF_BYTES or not fh.read(1)
    if not head:
        raise FileRefused("empty", f"文件「{shown}」是空文件，请选择填好的上报文件。")
    if head.startswith(XLSX_MAGIC):
        if _is_workbook_zip(path):
            return "xlsx"
        raise FileRefused(
            "unreadable",
            f"文件「{shown}」是压缩包（ZIP），不是 Excel 工作簿：请解压后上传其中的 XLSX、XLS 或 CSV 文件。",
        )
    if head.startswith(XLS_MAGIC):
        return "xls"
    try:
        sniff_encoding(head, complete, shown)
    except FileRefused as exc:
        if exc.code != "unreadable":
            raise
        raise FileRefused(
            "unreadable",
            f"文件「{shown}」不是 XLSX、XLS 或 CSV 文件（按文件内容识别），无法接收：请上传用模板填写的表格。",
        ) from None
    return "csv"


def _is_workbook_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def sanitise_name(name: str, fmt: str) -> str:
    """A safe, readable file name for an upload called ``name`` whose bytes are of type ``fmt``.

    The stem as the unit wrote it (NFC, Chinese kept), without any directory part, control or
    invisible direction characters, characters Windows forbids, leading dots, ``~`` or spaces,
    trailing dots or spaces; Windows device names get a ``_``; cut to a readable length.  The
    extension is always the sniffed type's: a CSV called ``.xlsx`` becomes ``.csv``, so that
    Excel opens what the name promises.  An empty stem becomes ``上报文件``.
    """
    ext = EXTENSIONS[fmt]
    stem = _clean(_OLD_EXTENSION.sub("", _base(name)))
    stem = _cut(stem, MAX_NAME_CHARS - len(ext), MAX_NAME_BYTES - len(ext.encode()))
    return f"{stem or DEFAULT_STEM}{ext}"


def clean_name(name: str) -> str:
    """The name a refused file is called by in messages: cleaned as :func:`sanitise_name`
    cleans, its extension as written (its type is unknown)."""
    return _cut(_clean(_base(name)), MAX_NAME_CHARS, MAX_NAME_BYTES) or DEFAULT_STEM


def _base(name: str) -> str:
    return unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]


def _clean(stem: str) -> str:
    stem = _FORBIDDEN.sub("", stem).lstrip(" .~$\u3000").rstrip(" .\u3000")
    return f"_{stem}" if _WINDOWS_RESERVED.fullmatch(stem) else stem


def _cut(stem: str, chars: int, size: int) -> str:
    stem = stem[:chars]
    while len(stem.encode("utf-8")) > size:
        stem = stem[:-1]
    return stem.rstrip(" .")


def _numbered(name: str, n: int) -> str:
    if n == 1:
        return name
    stem, dot, ext = name.rpartition(".")
    return f"{stem} ({n}).{ext}" if dot else f"{name} ({n})"


# ----------------------------------------------------------------------------- hand-in


def unit_folder_code(unit: str) -> str:
    """The registry's code of ``unit`` (its code or exact name), fit to be a folder name;
    :class:`LandingError` with the Chinese reason for an unknown unit."""
    from sgs.reference.units import resolve_unit

    try:
        code = str(resolve_unit(unit)["code"])
    except KeyError as exc:
        raise LandingError(exc.args[0]) from None
    if not _SAFE_CODE.fullmatch(code):  # a registry code is a USCC; anything else is refused
        raise LandingError(f"单位清单中的代码「{code}」不能用作文件夹名，请改正单位清单。")
    return code


def hand_in(
    root: Path,
    unit_code: str,
    filename: str,
    source: BinaryIO | Path | str,
    received: date | None = None,
) -> Receipt:
    """Put the upload ``source`` (a binary file object or the path of a file already within the
    size limit) into the landing zone as the unit's file ``filename``, received today at the
    office unless ``received`` says otherwise.

    :class:`LandingError` for an unknown unit, :class:`FileRefused` for bytes that are no
    XLSX, XLS or CSV — in both cases nothing is left in the landing zone.
    """
    code = unit_folder_code(unit_code)
    when = (received or office_today()).isoformat()
    raw = raw_dir(root)
    scratch_dir = raw / SCRATCH_DIR
    scratch_dir.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir / f"{secrets.token_hex(8)}.part"
    try:
        sha = _copy(source, scratch)
        name = sanitise_name(filename, sniff_type(scratch, filename or DEFAULT_STEM))
        folder = raw / code / when
        folder.mkdir(parents=True, exist_ok=True)
        final = _link_free_name(scratch, folder, name)
    finally:
        scratch.unlink(missing_ok=True)
    return Receipt(
        file=final.name, sha256=sha, received=when, unit_code=code,
        path=final.relative_to(root).as_posix(),
    )  # fmt: skip


def _copy(source: BinaryIO | Path | str, scratch: Path) -> str:
    """Copy into a new scratch file, hashing on the way; the sha256 of the bytes."""
    digest = hashlib.sha256()
    with scratch.open("xb") as out:
        fh = Path(source).open("rb") if isinstance(source, (str, Path)) else source  # noqa: SIM115
        try:
            for block in iter(lambda: fh.read(_COPY_BLOCK), b""):
                digest.update(block)
                out.write(block)
        finally:
            if fh is not source:
                fh.close()
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()


def _link_free_name(scratch: Path, folder: Path, name: str) -> Path:
    """Link the scratch file to ``name``, or ``name (2)``, ``name (3)`` … — the first free one.

    ``os.link`` fails when the target exists, so each try is an exclusive creation: two
    hand-ins racing for one name get two names, and an existing file is never replaced.
    """
    n = 1
    while True:
        target = folder / _numbered(name, n)
        try:
            os.link(scratch, target)
            return target
        except FileExistsError:
            n += 1
