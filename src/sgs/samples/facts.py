"""What the sample generator knows about its rows, shared with the defect injector.

The generator draws each row's subject class, date style and dates as arrays; the injector
needs the same arrays to break a row so that exactly one rule fires (a date moved after the
upload date is written in the row's own style, a natural person's ID gets a birth date after
the row's decision).  They live here, below both, so that :mod:`sgs.samples.generator` can
import :mod:`sgs.samples.defects` and neither has to import the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

EPOCH = date(1970, 1, 1)
# How clerks write dates: the standard's notation mostly, ISO or Chinese now and then.
DATE_STYLES = ("%Y/%m/%d", "%Y-%m-%d", "%Y年%-m月%-d日")
DATE_STYLE_WEIGHTS = (0.8, 0.12, 0.08)
# Subject classes, in the order of the subject letters L, I, N.
LEGAL, INDIVIDUAL, NATURAL = 0, 1, 2


@dataclass(frozen=True)
class RowFacts:
    """What the generator knows about each clean row beyond its text, for defect injection."""

    kind: str
    prefix: str
    subject: np.ndarray  # LEGAL / INDIVIDUAL / NATURAL
    style: np.ndarray  # index into DATE_STYLES
    decision: np.ndarray  # days since 1970-01-01
    valid_from: np.ndarray | None  # permits: 有效期自
    fine_yuan: np.ndarray | None  # penalties: fine in 元, 0 when there is none
    received: int  # days since 1970-01-01


def to_days(d: date) -> int:
    """``d`` as days since 1970-01-01, the unit of the generator's date arrays."""
    return (d - EPOCH).days


def format_dates(days: np.ndarray, style: np.ndarray, mask: np.ndarray | None = None) -> pl.Series:
    """Days since 1970-01-01 written in each row's style; null where ``mask`` is false."""
    frame = pl.DataFrame(
        {"d": pl.Series(days.astype(np.int32)).cast(pl.Date), "s": style.astype(np.int8)}
    )
    d, s = pl.col("d"), pl.col("s")
    text = (
        pl.when(s == 0)
        .then(d.dt.strftime(DATE_STYLES[0]))
        .when(s == 1)
        .then(d.dt.strftime(DATE_STYLES[1]))
        .otherwise(d.dt.strftime(DATE_STYLES[2]))
    )
    if mask is not None:
        text = pl.when(pl.Series(mask)).then(text)
    return frame.select(text).to_series()
