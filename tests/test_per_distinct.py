"""per_distinct: one evaluation per distinct value, or per row, with the same result."""

from __future__ import annotations

import polars as pl
import pytest

from sgs.validate.normalise import DISTINCT_SAMPLE, per_distinct

N = 3 * DISTINCT_SAMPLE


def columns() -> dict[str, pl.Series]:
    i = pl.int_range(N, eager=True)
    return {
        # few distinct values: the distinct path
        "repetitive": pl.Series("c", [None if k % 7 == 0 else f"v{k % 5}" for k in range(N)]),
        # mostly distinct, dense: evaluated on the whole column
        "distinct-dense": (i.cast(pl.String) + "x").set(i % 10 == 0, None).alias("c"),
        # mostly distinct, mostly null: evaluated on the non-null values
        "distinct-sparse": (i.cast(pl.String) + "y").set(i % 3 != 0, None).alias("c"),
        "all-null": pl.Series("c", [None] * N, dtype=pl.String),
    }


def expected(s: pl.Series) -> list[int | None]:
    return [None if v is None else len(v) + 1 for v in s.to_list()]


@pytest.mark.parametrize("name", list(columns()))
def test_every_path_gives_the_per_row_answer_and_keeps_nulls(name):
    s = columns()[name]
    # An expression that would give a value for a null: per_distinct must still give null.
    expr = pl.col("v").fill_null("").str.len_chars() + 1
    got = per_distinct(s, expr, pl.Int64)
    assert got.to_list() == expected(s)
    assert got.name == "c" and got.dtype == pl.Int64

    def series_fn(values: pl.Series) -> pl.Series:
        return values.str.len_chars() + 1

    assert per_distinct(s, series_fn, pl.Int64).to_list() == expected(s)
