"""The reporting units (单位) of Changzhi: who uploads, and who is measured.

The list lives in ``config/units.csv`` (``code,name,type,parent``) so that the credit office
can edit it without touching code; ``$SGS_UNITS_FILE`` points elsewhere (tests, other cities).
Codes are fixed in the file, never regenerated: they key the landing folders in ``data/raw``.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import polars as pl

from sgs.config import cached_on_file, units_path

UNIT_TYPES = ("department", "county", "zone")
UNITS_COLUMNS = ("code", "name", "type", "parent")


def load_units(path: Path | str | None = None) -> pl.DataFrame:
    """All units as strings (codes are identifiers, never numbers); empty parent is null.

    Without ``path``, the registry in force (:func:`sgs.config.units_path`), read once per
    version of the file.
    """
    return _read_units(Path(path)) if path else _registry()


@cached_on_file(units_path, size=8)
def _registry() -> pl.DataFrame:
    return _read_units(units_path())


def _read_units(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    missing = [c for c in UNITS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"单位清单缺少列：{', '.join(missing)}")
    return frame.select(pl.col(c).str.strip_chars() for c in UNITS_COLUMNS)


def resolve_unit(ref: str, units: pl.DataFrame | None = None) -> dict[str, str | None]:
    """The unit whose USCC (any width/case) or exact full name is ``ref``."""
    units = load_units() if units is None else units
    text = unicodedata.normalize("NFKC", ref).strip()
    hit = units.filter((pl.col("code") == text.upper()) | (pl.col("name") == text))
    if hit.height == 0:
        raise KeyError(f"未找到上报单位「{ref}」：请填写单位清单中的统一社会信用代码或单位全称")
    return hit.row(0, named=True)
