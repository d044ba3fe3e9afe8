"""Small ways to ask DuckDB something, shared by every module that reads or writes the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import polars as pl


def run(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[tuple]:
    """Execute and fetch everything: DuckDB refuses further work while a result is pending."""
    return con.execute(query, params).fetchall()


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back what is open: after a failed COMMIT (a DuckLake conflict) nothing is, and the
    ROLLBACK's own refusal must not hide why the commit failed."""
    try:
        con.execute("ROLLBACK")
    except Exception as exc:
        if "no transaction is active" not in str(exc):
            raise


def register(con: duckdb.DuckDBPyConnection, name: str, data: pl.DataFrame, *,
             string_views: bool = False) -> None:  # fmt: skip
    """Hand a polars frame to DuckDB as Arrow.

    ``string_views``: as Arrow string views, which DuckDB reads as they are, where polars'
    default export copies every string into a ``large_string`` buffer (a million records: 0.7 s,
    and the insert from it 1.4 s more; docs/performance.md).  Only for a frame DuckDB reads
    whole (``INSERT … SELECT *``): DuckDB 1.5 pushes a query's filters into the Arrow scan, and
    pyarrow cannot filter a string-view column ("array_filter has no kernel")."""
    import polars as pl

    level = pl.CompatLevel.newest() if string_views else pl.CompatLevel.oldest()
    con.register(name, data.to_arrow(compat_level=level))


def frame(con: duckdb.DuckDBPyConnection, query: str, params: dict | None = None) -> pl.DataFrame:
    """A query's result as a polars DataFrame; named ``$params`` the query does not use are dropped
    (DuckDB refuses unused ones)."""
    import re

    import polars as pl

    used = set(re.findall(r"\$([a-z_]+)", query))
    args = {k: v for k, v in (params or {}).items() if k in used}
    return pl.from_arrow(con.sql(query, params=args).to_arrow_table())  # type: ignore[return-value]


def one(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> tuple | None:
    rows = run(con, query, params)
    return rows[0] if rows else None


def literal(path: object) -> str:
    """A path as an SQL string literal, for the statements that take no parameter there
    (``ATTACH``, ``COPY … TO``)."""
    return "'" + str(path).replace("'", "''") + "'"
