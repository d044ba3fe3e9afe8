"""Keeping a handed-in file's check with its arrival, and taking it as the verdict at ingest.

The web hand-in validates the file where it landed (in the checks' pool) and keeps what it found
(:func:`keep`) where intake will look for it (:mod:`sgs.intake.checked`, which explains the
key); at ingest, intake finds it and validation takes it as the file's verdict
(:func:`as_validation`) instead of checking the same bytes again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sgs.intake.checked import KeptCheck, check_folder
from sgs.validate.pipeline import Validation


def keep(v: Validation, key: str, root: Path | None = None) -> None:
    """Write the check under its key (whole or not at all: a scratch folder renamed)."""
    target = check_folder(key, root)
    if target.exists():
        return
    scratch = target.with_name(f".{key}.{id(v)}")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    up = v.upload
    frames = {"frame": up.frame, "extras": up.extras, "checked": v.frame, "errors": v.errors}
    for name, frame in frames.items():
        if frame.width:  # no unknown columns: no extras file
            frame.write_parquet(scratch / f"{name}.parquet")
    if up.row_sheets is not None:
        up.row_sheets.to_frame("sheet").write_parquet(scratch / "row_sheets.parquet")
    meta = {
        "path": str(up.path), "kind": up.kind, "layout": up.layout, "format": up.format,
        "header_row": up.header_row, "sheet": up.sheet, "encoding": up.encoding,
        "columns": up.columns, "blank_rows": up.blank_rows,
        "sheets": [s.as_dict() for s in up.sheets], "received": v.received.isoformat(),
    }  # fmt: skip
    (scratch / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    try:
        scratch.rename(target)
    except OSError:  # kept meanwhile by another check of the same bytes
        shutil.rmtree(scratch, ignore_errors=True)


def as_validation(check: KeptCheck) -> Validation:
    """A kept check as the file's validation."""
    return Validation(check.upload, check.received, check.checked, check.errors)
