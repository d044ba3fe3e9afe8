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
    from sgs.errors import UnitsError

    frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    missing = [c for c in UNITS_COLUMNS if c not in frame.columns]
    if missing:
        raise UnitsError(f"单位清单缺少列：{', '.join(missing)}")
    units = frame.select(
        pl.col(c).str.strip_chars().replace("", None) for c in UNITS_COLUMNS
    ).with_columns(pl.col("parent").str.to_uppercase())
    _check_parents(units, path)
    return units


def _check_parents(units: pl.DataFrame, path: Path) -> None:
    """A county's departments name it in ``parent``: one level only, so a county's figures are
    its own plus its departments' and nothing is counted twice (docs/policy.md section 1)."""
    from sgs.errors import UnitsError

    by_code = {r["code"]: r for r in units.iter_rows(named=True)}
    for line, r in enumerate(units.iter_rows(named=True), start=2):  # line 1 is the header
        if r["parent"] is None:
            continue
        where = f"单位清单 {path.name} 第 {line} 行（{r['name']}）"
        parent = by_code.get(r["parent"])
        if parent is None:
            raise UnitsError(f"{where}：上级单位「{r['parent']}」不在单位清单中")
        if parent["parent"] is not None:
            raise UnitsError(
                f"{where}：上级单位「{parent['name']}」本身也有上级单位；只允许一级（县区 → 县区部门）"
            )
        if parent["type"] not in ("county", "zone"):
            raise UnitsError(
                f"{where}：上级单位「{parent['name']}」应为县区或开发区（county、zone）"
            )
        if r["type"] != "department":
            raise UnitsError(f"{where}：有上级单位的单位类型应为 department（县区部门）")


def resolve_unit(ref: str, units: pl.DataFrame | None = None) -> dict[str, str | None]:
    """The unit whose USCC (any width/case) or exact full name is ``ref``."""
    units = load_units() if units is None else units
    text = unicodedata.normalize("NFKC", ref).strip()
    hit = units.filter((pl.col("code") == text.upper()) | (pl.col("name") == text))
    if hit.height == 0:
        raise KeyError(f"未找到上报单位「{ref}」：请填写单位清单中的统一社会信用代码或单位全称")
    return hit.row(0, named=True)


def departments_of(code: str, units: pl.DataFrame | None = None) -> list[dict[str, str | None]]:
    """A county's (or zone's) departments — the units whose ``parent`` is ``code`` — in the
    registry's order; none for any other unit."""
    units = load_units() if units is None else units
    return list(units.filter(pl.col("parent") == code).iter_rows(named=True))
