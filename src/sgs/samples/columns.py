"""Whole-column building blocks of the sample generator: draw, look up, mask, concatenate.

Every generated column is built over all rows at once from a small vocabulary (tens of
entries) and an index array, never row by row, so that a million rows take seconds.  These
few helpers are what the record columns and the subject pools share.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl


def choose(
    rng: np.random.Generator, k: int, rows: int, weights: Sequence[float] | None = None
) -> np.ndarray:
    """``rows`` indices into ``range(k)``, uniform or in proportion to ``weights``."""
    p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    return rng.choice(k, size=rows, p=p)


def take(values: Sequence[str | None], index: np.ndarray, name: str = "") -> pl.Series:
    """``values[index]`` as a String column (vocabulary lookup, vectorised)."""
    return pl.Series(name, list(values), dtype=pl.String).gather(index)


def null_unless(mask: np.ndarray, values: pl.Series) -> pl.Series:
    """``values`` where ``mask`` is true, null elsewhere."""
    return pl.select(pl.when(pl.Series(mask)).then(values)).to_series().alias(values.name)


def concat_text(*parts: pl.Series | str, name: str = "") -> pl.Series:
    """Columns and literal texts joined row by row (null where any column is null)."""
    exprs = [pl.lit(p) for p in parts]
    return pl.select(pl.concat_str(exprs).alias(name)).to_series()


def repeat(value: str, m: int) -> pl.Series:
    """``value`` on each of ``m`` rows."""
    return pl.Series([value], dtype=pl.String).gather(np.zeros(m, dtype=np.int64))
