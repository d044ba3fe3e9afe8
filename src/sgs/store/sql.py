"""Three small ways to ask DuckDB something, shared by every module that reads or writes the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import polars as pl


def run(con: duckdb.DuckDBPyConnection, query: str, params: list | None = None) -> list[tuple]:
    """Execute and fetch everything: DuckDB refuses further work while a result is pending."""
    return con.execute(query, params).fetchall()


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
