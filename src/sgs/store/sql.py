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


#: Rows per Arrow batch of a frame handed to DuckDB (:func:`register`).
SCAN_BATCH = 65_536


def register(con: duckdb.DuckDBPyConnection, name: str, data: pl.DataFrame, *,
             string_views: bool = False) -> None:  # fmt: skip
    """Hand a polars frame to DuckDB as Arrow.

    ``string_views``: as Arrow string views, which DuckDB reads as they are, where polars'
    default export copies every string into a ``large_string`` buffer (a million records: 0.7 s,
    and the insert from it 1.4 s more; docs/performance.md).  Only for a frame DuckDB reads
    whole (``INSERT … SELECT *``): DuckDB 1.5 pushes a query's filters into the Arrow scan, and
    pyarrow cannot filter a string-view column ("array_filter has no kernel").

    A frame is handed over in slices of :data:`SCAN_BATCH` rows (zero-copy): DuckDB 1.5 scans
    one Arrow batch on one thread, so a million records in one batch were appended by one
    thread (7.0 s), in slices by both (3.5 s; docs/performance.md)."""
    import polars as pl
    import pyarrow as pa

    level = pl.CompatLevel.newest() if string_views else pl.CompatLevel.oldest()
    table = data.to_arrow(compat_level=level)
    if table.num_rows > SCAN_BATCH:
        table = pa.Table.from_batches(table.to_batches(max_chunksize=SCAN_BATCH), table.schema)
    con.register(name, table)


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
