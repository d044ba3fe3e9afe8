"""Which stored record a new row continues: record identity across uploads.

A record is one decision of one unit: unit + kind + normalised 文书号.  The subject (行政相对人)
is not part of that identity — a unit correcting a wrong credit code or name sends a new
*version* of the same record — and serves only to tell apart the several subjects one 文书号
may cover (a joint decision).  The rules, stated in docs/policy.md section 5:

- Within one file, rows with the same 文书号 and the same subject (credit code, else ID number,
  else name) are one record; different subjects are different records.
- Such a row group continues a stored record of the unit with the same 文书号 whose versions
  carry the same subject code (best), or the same subject name; failing both, when the file
  has a single subject for that 文书号 and the store a single record, it continues that record
  whatever changed.  Each stored record is continued by at most one group of a file, and each
  group continues at most one record: conflicts go to the better match, then to the earlier row.
- Anything else is a new record.  A row without a readable 文书号 is always a record of its own.

Identity depends on what is stored, so it is decided inside the writer's transaction.  Every
step is a join over the file's distinct (文书号, subject) groups, so a million-row file costs a
few vectorised passes; the loop below runs once per round of conflicts, not per row.
"""

from __future__ import annotations

import duckdb
import polars as pl

from sgs.reference.catalogue import KINDS, Kind, load_catalogue
from sgs.store.sql import frame
from sgs.store.tables import RECORD_TABLES

#: The identity rules' version, kept in the store's ``meta``: a store whose records were keyed by
#: other rules (before 2026-12: the subject was part of the key) is keyed again when opened.
IDENTITY_VERSION = "unit+kind+doc/2026-12"


GROUP = ["doc_key", "__skey"]


def _subject_columns(kind: Kind) -> tuple[pl.Expr, pl.Expr]:
    p = load_catalogue().kind(kind).prefix
    code = pl.coalesce(pl.col(f"{p}_XDR_SHXYM"), pl.col(f"{p}_XDR_ZJHM")).str.to_uppercase()
    return code, pl.col(f"{p}_XDR_MC")


def _stored(
    con: duckdb.DuckDBPyConnection, kind: Kind, unit: str, docs: pl.DataFrame
) -> pl.DataFrame:
    """The unit's stored records with these 文书号: every code and name any version carried."""
    p = load_catalogue().kind(kind).prefix
    con.register("docs_frame", docs)
    try:
        found = frame(
            con,
            f"""SELECT record_key, doc_key, min(record_id) AS first_id,
                       list(DISTINCT upper(coalesce("{p}_XDR_SHXYM", "{p}_XDR_ZJHM")))
                           FILTER (WHERE coalesce("{p}_XDR_SHXYM", "{p}_XDR_ZJHM") IS NOT NULL)
                           AS codes,
                       list(DISTINCT "{p}_XDR_MC") FILTER (WHERE "{p}_XDR_MC" IS NOT NULL) AS names
                FROM {RECORD_TABLES[kind]}
                WHERE unit_code = $unit AND doc_key IN (SELECT doc_key FROM docs_frame)
                  AND record_key <> ''  -- '' only while the store is being keyed again
                GROUP BY record_key, doc_key""",
            {"unit": unit},
        )
    finally:
        con.unregister("docs_frame")
    return found


def _match(groups: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """One stored record per group at most, and one group per record, best matches first."""
    per_doc = stored.group_by("doc_key").agg(pl.len().alias("n_stored"))
    pairs = (
        groups.join(stored, on="doc_key")
        .join(per_doc, on="doc_key")
        .with_columns(
            pl.when(pl.col("code").is_not_null() & pl.col("codes").list.contains(pl.col("code")))
            .then(3)
            .when(pl.col("name").is_not_null() & pl.col("names").list.contains(pl.col("name")))
            .then(2)
            .when((pl.col("n_file") == 1) & (pl.col("n_stored") == 1))
            .then(1)
            .otherwise(0)
            .alias("score")
        )
        .filter(pl.col("score") > 0)
        .sort(["score", "first_row", "first_id"], descending=[True, False, False])
        .select(*GROUP, "record_key", "score", "first_row", "first_id")
    )
    won: list[pl.DataFrame] = []
    while pairs.height:
        best = pairs.group_by(GROUP, maintain_order=True).first()
        best = best.sort(["score", "first_row"], descending=[True, False])
        winners = best.group_by("record_key", maintain_order=True).first()
        won.append(winners.select(*GROUP, "record_key"))
        pairs = pairs.join(winners.select(GROUP), on=GROUP, how="anti").join(
            winners.select("record_key"), on="record_key", how="anti"
        )
    if not won:
        return pl.DataFrame(
            schema={"doc_key": pl.String, "__skey": pl.String, "record_key": pl.String}
        )
    return pl.concat(won)


def assign_record_keys(
    con: duckdb.DuckDBPyConnection, records: pl.DataFrame, kind: Kind, unit: str, batch_id: int
) -> pl.Series:
    """The ``record_key`` of every row of ``records`` (a batch about to be stored)."""
    code, name = _subject_columns(kind)
    rows = records.select(
        "doc_key",
        pl.col("subject_key").fill_null("").alias("__skey"),
        code.alias("code"),
        name.alias("name"),
        pl.col("source_row"),
        pl.col("source_sheet"),
        pl.col("record_id"),  # given in file order, sheet by sheet: "earlier in the file"
    )
    groups = (
        rows.filter(pl.col("doc_key").is_not_null())
        .group_by(GROUP, maintain_order=True)
        .agg(
            pl.col("code").first(),
            pl.col("name").first(),
            pl.col("record_id").min().alias("first_row"),
        )
        .with_columns(pl.len().over("doc_key").alias("n_file"))
    )
    stored = _stored(con, kind, unit, groups.select(pl.col("doc_key").unique()))
    matched = _match(groups, stored) if stored.height else None
    base = pl.concat_str(
        [pl.lit(kind), pl.lit(unit), pl.col("doc_key"), pl.col("__skey")], separator="|"
    )
    keyed = groups.select(*GROUP, "first_row", base.alias("new_key"))
    if matched is not None:
        keyed = keyed.join(matched, on=GROUP, how="left")
        # A new record never takes a key a stored record of another subject already has.
        taken = pl.col("new_key").is_in(stored["record_key"].implode())
        fresh = pl.when(taken).then(
            pl.format("{}|#{}-{}", "new_key", pl.lit(batch_id), "first_row")
        )
        keyed = keyed.with_columns(pl.coalesce("record_key", fresh.otherwise("new_key")))
    else:
        keyed = keyed.with_columns(pl.col("new_key").alias("record_key"))
    out = rows.join(keyed.select(*GROUP, "record_key"), on=GROUP, how="left", maintain_order="left")
    # A workbook's row is (sheet, row): two sheets both have a row 2.
    sheet = (pl.col("source_sheet") + "!").fill_null("")
    alone = pl.format("#{}-{}{}", pl.lit(batch_id), sheet, pl.col("source_row"))
    return out.select(pl.coalesce("record_key", alone).alias("record_key")).to_series()


def rekey_store(con: duckdb.DuckDBPyConnection) -> None:
    """Key every stored record again by today's rules, batch by batch in the order of versions
    (received date, file name, content), as if the files were ingested afresh in that order.

    Runs once, inside the caller's transaction, when a store's ``meta`` names other rules; a
    store of a few thousand files takes one query per batch.
    """
    for kind in KINDS:
        table = RECORD_TABLES[kind]
        run_sql = con.execute
        run_sql(f"UPDATE {table} SET record_key = ''")
        batches = run_sql(
            f"""SELECT DISTINCT r.batch_id, b.unit_code, b.received_date, b.file_name, b.sha256
                FROM {table} r JOIN batches b USING (batch_id)
                ORDER BY b.received_date, b.file_name, b.sha256, r.batch_id"""
        ).fetchall()
        for batch_id, unit, *_ in batches:
            records = frame(
                con,
                f"SELECT * FROM {table} WHERE batch_id = $b ORDER BY record_id",
                {"b": batch_id},
            )
            keys = records.select("record_id").with_columns(
                assign_record_keys(con, records, kind, unit, batch_id).alias("record_key")
            )
            con.register("keys_frame", keys)
            run_sql(
                f"""UPDATE {table} SET record_key = k.record_key FROM keys_frame k
                    WHERE {table}.record_id = k.record_id"""
            )
            con.unregister("keys_frame")
