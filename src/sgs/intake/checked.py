"""Where a handed-in file's check is kept with its arrival, and finding it again.

The web hand-in validates the file where it landed and keeps what it found under
``<data root>/checked/<key>/`` (written by :func:`sgs.validate.kept.keep`), beside the landing
zone, which stays exactly what units sent.  The key holds everything the verdict depends on: the
file's bytes (sha256), the unit, the kind as declared (or recognised from the header), the
received date, the catalogue file, the settings in force and the version of sgs.  At ingest,
intake looks for the arrival's key: a kept check stands in for reading the file (validation
then takes it as its verdict), so the daily run does not read and check the same bytes again;
anything that differs — an edited catalogue, another received date — and the file is read and
checked afresh.  A kept check that cannot be read is not used (and never stops an ingest).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from sgs.config import cached_on_file, catalogue_path, data_root
from sgs.intake.readers import SheetInfo, Upload

CHECKED_DIR = "checked"  # in the data root, beside raw/
FORMAT = "1"  # the layout of a kept check's folder; a new layout changes the key
FRAMES = ("frame", "extras", "checked", "errors")


@dataclass
class KeptCheck:
    """A kept check as data: the upload as read, its checked frame and its errors."""

    upload: Upload
    received: date
    checked: pl.DataFrame
    errors: pl.DataFrame


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


def check_folder(key: str, root: Path | None = None) -> Path:
    return (root or data_root()) / CHECKED_DIR / key


def kept_check(key: str, path: Path, root: Path | None = None) -> KeptCheck | None:
    """The check kept under ``key``, of the file at ``path``; None if none or unreadable."""
    folder = check_folder(key, root)
    if not (folder / "meta.json").is_file():
        return None
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        frames = {n: _frame(folder / f"{n}.parquet") for n in FRAMES}
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
    return KeptCheck(upload, received, frames["checked"], frames["errors"])


def _frame(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path) if path.is_file() else pl.DataFrame()
