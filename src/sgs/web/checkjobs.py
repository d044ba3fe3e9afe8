"""What a check process does (:mod:`sgs.web.checkpool`): the whole CPU-heavy part of a web
check — validating, and building what the answer needs — so that the server only copies
bytes in and sends the result out.

Each job gets the check's folder last; the upload lies in its ``file/`` subfolder as
``upload`` (copied there by the server).  Results are plain data (pickled back to the server).
"""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import date
from pathlib import Path

from sgs.web.checkpool import upload_path


def validate_copied(filename: str, folder: str):
    """The copied upload validated: its name (sanitised, the sniffed type's extension) and the
    :class:`~sgs.validate.pipeline.Validation`, or the :class:`~sgs.errors.FileRefused`."""
    from sgs.errors import FileRefused
    from sgs.intake.handin import clean_name, sanitise_name, sniff_type
    from sgs.validate.pipeline import validate_file

    scratch = upload_path(folder)
    label = clean_name(filename)
    try:
        path = scratch.rename(
            scratch.with_name(sanitise_name(filename, sniff_type(scratch, label)))
        )
        return path.name, validate_file(path)
    except FileRefused as exc:
        return label, exc


def api_check(filename: str, folder: str) -> tuple[bytes, int]:
    """``POST /api/check``: the JSON of ``sgs validate --json`` (200), or the refused object
    (422)."""
    from sgs.errors import FileRefused
    from sgs.report.validation import refusal_object, validation_json

    label, outcome = validate_copied(filename, folder)
    if isinstance(outcome, FileRefused):
        return json.dumps(refusal_object(label, None, outcome), ensure_ascii=False).encode(), 422
    return validation_json(label, outcome), 200


def landed_check(
    root: str, path: str, file: str, received: str, unit: str, sha: str, folder: str
) -> bytes:
    """A handed-in file validated where it lies (read only), as received on its date; the
    check is kept with the arrival for the daily run (:mod:`sgs.intake.checked`)."""
    from sgs.errors import FileRefused
    from sgs.intake.checked import check_key
    from sgs.report.validation import refusal_object, validation_json
    from sgs.validate.kept import keep
    from sgs.validate.pipeline import validate_file

    day = date.fromisoformat(received)
    try:
        result = validate_file(Path(root) / path, None, day)
    except FileRefused as exc:
        return json.dumps(refusal_object(file, None, exc), ensure_ascii=False).encode()
    with suppress(OSError):  # a full disk costs the daily run a second check, not the answer
        keep(result, check_key(sha, unit, None, day), Path(root))
    return validation_json(file, result)
