"""A handed-in file's check, kept with the arrival so that the daily run does not check the
same bytes again.

The web hand-in validates the file where it landed (in the checks' pool) and keeps what it
found under ``<data root>/checked/<key>/``, beside the landing zone (which stays exactly what
units sent).  The key holds everything the verdict depends on: the file's bytes (sha256), the unit,
the kind as declared (or recognised from the header), the received date, the catalogue file,
the settings in force and the version of sgs.  Ingest of that arrival, with the same key, takes
the kept validation instead of reading and checking the file again (:mod:`sgs.store.ingest`);
anything else that differs — an edited catalogue, another received date — and the file is
checked afresh.  A kept check that cannot be read is not used (and never stops an ingest).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from sgs.config import cached_on_file, catalogue_path, data_root
from sgs.intake.readers import SheetInfo, Upload
from sgs.validate.pipeline import Validation

CHECKED_DIR = "checked"  # in the data root, beside raw/
FORMAT = "1"  # what is written below; a new layout of the folder changes the key
_FRAMES = ("frame", "extras", "checked", "errors")


def check_key(sha: str, unit: str, kind: str | None, received: date) -> str:
    """The key of a check: the bytes, the unit, the declared kind, the received date, and the
    rules it was made under (catalogue, settings, version)."""
    from sgs.reference.settings import load_settings

    rules = f"{_catalogue_digest()}|{load_settings()!r}|{_version()}|{FORMAT}"
    parts = [sha, unit, kind or "-", received.isoformat(), rules]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


@cached_on_file(catalogue_path)
def _catalogue_digest() -> str:
    return hashlib.sha256(catalogue_path().read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _version() -> str:
    from importlib.metadata import version

    return version("sgs")


def _folder(root: Path | None, key: str) -> Path:
    return (root or data_root()) / CHECKED_DIR / key


def keep(v: Validation, key: str, root: Path | None = None) -> None:
    """Write the check under its key (whole or not at all: a scratch folder renamed)."""
    target = _folder(root, key)
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


def kept(key: str, path: Path, root: Path | None = None) -> Validation | None:
    """The check kept under ``key``, as a validation of the file at ``path``; None if none."""
    folder = _folder(root, key)
    if not (folder / "meta.json").is_file():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        frames = {n: _frame(folder / f"{n}.parquet") for n in _FRAMES}
        sheets_file = folder / "row_sheets.parquet"
        row_sheets = pl.read_parquet(sheets_file)["sheet"] if sheets_file.is_file() else None
        upload = Upload(
            path=path, kind=meta["kind"], layout=meta["layout"], format=meta["format"],
            frame=frames["frame"], extras=frames["extras"], header_row=meta["header_row"],
            sheet=meta["sheet"], encoding=meta["encoding"], columns=meta["columns"],
            blank_rows=meta["blank_rows"], row_sheets=row_sheets,
            sheets=[SheetInfo(**s) for s in meta["sheets"]],
        )  # fmt: skip
        received = date.fromisoformat(meta["received"])
    except Exception:  # a damaged folder is no verdict: the file is checked afresh
        return None
    return Validation(upload, received, frames["checked"], frames["errors"])


def _frame(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path) if path.is_file() else pl.DataFrame()
