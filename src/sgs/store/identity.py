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
  group continues at most one record: conflicts go to the better match, then to the earlier row,
  and a group matching two records equally well continues the one received first.
- Anything else is a new record.  A row without a readable 文书号 is always a record of its own.
  A subject dropped from a later file is simply not continued: its record keeps its versions,
  the last of them current.

These rules read "what is stored" as "the versions before this file" (received date, file name,
content hash): the store is what ingesting its files one at a time in that order gives, so no
rule depends on the order files were ingested in — the single-subject fallback included, which
alone would let a file continue a record or not depending on what else happened to be stored.
A file that sorts before stored files sharing its 文书号 (a late arrival, or a copy received
earlier) has those 文书号 keyed again by replay (:func:`replay_later`), and keys are built from
the file's content hash and rows, never from batch or record ids.  A row's key thus depends on
earlier versions only, and the store as of a day is a prefix of the store.

Identity depends on what is stored, so it is decided inside the writer's transaction.  Every
step is a join over the file's distinct (文书号, subject) groups, so a million-row file costs a
few vectorised passes; the loop below runs once per round of conflicts, not per row.
"""

from __future__ import annotations

import duckdb
import polars as pl

from sgs.reference.catalogue import KINDS, Kind, load_catalogue
from sgs.store.sql import frame, register
from sgs.store.tables import RECORD_TABLES, VERSION_ORDER

#: The identity rules' version, kept in the store's ``meta``: a store whose records were keyed by
#: other rules is keyed again when opened — before 2026-12 the subject was part of the key, and
#: before this version keys held batch ids and a file was matched against later versions too.
IDENTITY_VERSION = "unit+kind+doc/version-order/2026-12b"

#: Hex characters of the file's content hash in a key: 64 bits, no collision among the files of
#: one unit and kind in practice.
HASH_CHARS = 16


GROUP = ["doc_key", "__skey"]

#: What :func:`_stored` gives for each stored record.
STORED_SCHEMA = {
    "record_key": pl.String,
    "doc_key": pl.String,
    "first_seen": pl.Int64,
    "codes": pl.List(pl.String),
    "names": pl.List(pl.String),
}


def _subject_columns(kind: Kind) -> tuple[pl.Expr, pl.Expr]:
    p = load_catalogue().kind(kind).prefix
    code = pl.coalesce(pl.col(f"{p}_XDR_SHXYM"), pl.col(f"{p}_XDR_ZJHM")).str.to_uppercase()
    return code, pl.col(f"{p}_XDR_MC")


def _stored(
    con: duckdb.DuckDBPyConnection, kind: Kind, unit: str, docs: pl.DataFrame
) -> pl.DataFrame:
    """The unit's stored records with these 文书号: every code and name any version carried, and
    ``first_seen``, the rank of the record's first version in version order — the tie-break
    between records, which must not be the order files were ingested in (record ids are)."""
    p = load_catalogue().kind(kind).prefix
    register(con, "docs_frame", docs)
    try:
        # Most files bring new decisions only: one cheap look spares the grouped query.
        shared = con.execute(
            f"""SELECT count(*) FROM {RECORD_TABLES[kind]} WHERE unit_code = $unit
                AND doc_key IN (SELECT doc_key FROM docs_frame)""",
            {"unit": unit},
        ).fetchall()[0][0]
        if not shared:
            return pl.DataFrame(schema=STORED_SCHEMA)
        found = frame(
            con,
            f"""SELECT r.record_key, r.doc_key,
                       row_number() OVER (ORDER BY min(({VERSION_ORDER}))) AS first_seen,
                       list(DISTINCT upper(coalesce("{p}_XDR_SHXYM", "{p}_XDR_ZJHM")))
                           FILTER (WHERE coalesce("{p}_XDR_SHXYM", "{p}_XDR_ZJHM") IS NOT NULL)
                           AS codes,
                       list(DISTINCT "{p}_XDR_MC") FILTER (WHERE "{p}_XDR_MC" IS NOT NULL) AS names
                FROM {RECORD_TABLES[kind]} r JOIN batches b USING (batch_id)
                WHERE r.unit_code = $unit AND r.doc_key IN (SELECT doc_key FROM docs_frame)
                  AND r.record_key <> ''  -- '' only while records are being keyed again
                GROUP BY r.record_key, r.doc_key""",
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
        .sort(["score", "first_row", "first_seen"], descending=[True, False, False])
        .select(*GROUP, "record_key", "score", "first_row", "first_seen")
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


def _fresh_part(sha: str) -> pl.Expr:
    """``#<content hash>-<sheet!row>``: what makes a key unique when the document key alone is
    taken (or missing) — parts of the file itself, never the batch or record ids, which follow
    the order files were ingested in.  One unit sends the same bytes of one kind once (a copy is
    skipped), so with the unit and kind in front the key is unique."""
    sheet = (pl.col("source_sheet") + "!").fill_null("")
    return pl.format("#{}-{}{}", pl.lit(sha[:HASH_CHARS]), sheet, pl.col("source_row"))


def assign_record_keys(
    con: duckdb.DuckDBPyConnection, records: pl.DataFrame, kind: Kind, unit: str, sha: str
) -> pl.Series:
    """The ``record_key`` of every row of ``records`` (rows of one batch, content hash ``sha``),
    matched against the records stored now: the caller makes sure those are exactly the
    versions sorting before the batch (:func:`replay_later`)."""
    code, name = _subject_columns(kind)
    rows = records.select(
        "doc_key",
        pl.col("subject_key").fill_null("").alias("__skey"),
        code.alias("code"),
        name.alias("name"),
        pl.col("source_row"),
        pl.col("source_sheet"),
        pl.col("record_id"),  # given in file order, sheet by sheet: "earlier in the file"
    ).with_columns(_fresh_part(sha).alias("__fresh"))
    base = pl.concat_str(
        [pl.lit(kind), pl.lit(unit), pl.col("doc_key"), pl.col("__skey")], separator="|"
    )
    # A row without a 文书号 is a record of its own: the file's row (a workbook's row is
    # (sheet, row): two sheets both have a row 2).
    alone = pl.format("{}|{}|{}", pl.lit(kind), pl.lit(unit), "__fresh")
    docs = rows.select(pl.col("doc_key").drop_nulls().unique())
    stored = _stored(con, kind, unit, docs)
    if not stored.height:  # nothing stored shares a 文书号: every group is a new record
        return rows.select(pl.coalesce(base, alone).alias("record_key")).to_series()
    groups = (
        rows.filter(pl.col("doc_key").is_not_null())
        .sort("record_id")
        .group_by(GROUP, maintain_order=True)
        .agg(
            pl.col("code").first(),
            pl.col("name").first(),
            pl.col("record_id").min().alias("first_row"),
            pl.col("__fresh").first(),
        )
        .with_columns(pl.len().over("doc_key").alias("n_file"))
    )
    matched = _match(groups, stored)
    keyed = groups.select(*GROUP, "__fresh", base.alias("new_key")).join(
        matched, on=GROUP, how="left"
    )
    # A new record never takes a key a stored record of another subject already has.
    taken = pl.col("new_key").is_in(stored["record_key"].implode())
    fresh = pl.when(taken).then(pl.format("{}|{}", "new_key", "__fresh"))
    keyed = keyed.with_columns(pl.coalesce("record_key", fresh.otherwise("new_key")))
    out = rows.join(keyed.select(*GROUP, "record_key"), on=GROUP, how="left", maintain_order="left")
    return out.select(pl.coalesce("record_key", alone).alias("record_key")).to_series()


def _key_batch(
    con: duckdb.DuckDBPyConnection, kind: Kind, batch: tuple[int, str, str], only_replayed: bool
) -> None:
    """Key one stored batch's rows again against what is stored with a key now: every row, or
    (``only_replayed``) those whose 文书号 is in the registered ``replay_docs`` frame."""
    table = RECORD_TABLES[kind]
    batch_id, unit, sha = batch
    p = load_catalogue().kind(kind).prefix
    where = " AND doc_key IN (SELECT doc_key FROM replay_docs)" if only_replayed else ""
    records = frame(
        con,
        f"""SELECT record_id, doc_key, subject_key, source_row, source_sheet,
                   "{p}_XDR_SHXYM", "{p}_XDR_ZJHM", "{p}_XDR_MC"
            FROM {table} WHERE batch_id = $b{where} ORDER BY record_id""",
        {"b": batch_id},
    )
    keys = records.select("record_id").with_columns(
        assign_record_keys(con, records, kind, unit, sha).alias("record_key")
    )
    register(con, "keys_frame", keys)
    try:
        con.execute(
            f"""UPDATE {table} SET record_key = k.record_key FROM keys_frame k
                WHERE {table}.record_id = k.record_id"""
        )
    finally:
        con.unregister("keys_frame")


def replay_later(con: duckdb.DuckDBPyConnection, kind: Kind, batch_id: int) -> None:
    """Make the store again what ingesting its files one at a time in version order gives, after
    batch ``batch_id`` was stored or moved to an earlier received date: its rows were keyed
    against everything stored, but a row's identity may depend only on the versions before it.

    Only the unit's records of the 文书号 that the batch shares with batches sorting after it are
    touched (in the usual case, files ingested in the order received, there are none and this
    is one look at the batches table): their keys in the batch and every later batch are
    cleared, then each of those batches is keyed again in version order, as
    :func:`assign_record_keys` keyed it at ingest.  So a row's key depends only on earlier
    versions, and the store as of a day is the prefix of the store received by then.  Runs
    inside the caller's transaction, after the batch's row is in ``batches``.
    """
    table = RECORD_TABLES[kind]
    later = con.execute(
        """SELECT count(*) FROM batches l JOIN batches b
               ON l.unit_code = b.unit_code AND l.kind = b.kind
              AND (l.received_date, l.file_name, l.sha256)
                  > (b.received_date, b.file_name, b.sha256)
           WHERE b.batch_id = $b""",
        {"b": batch_id},
    ).fetchall()[0][0]
    if not later:
        return  # the usual case: nothing of the unit sorts after the batch
    # The batch, then the unit's batches of its kind that sort after it, in version order.
    onward = frame(
        con,
        """SELECT l.batch_id, l.unit_code, l.sha256 FROM batches b JOIN batches l
               ON l.unit_code = b.unit_code AND l.kind = b.kind
              AND (l.received_date, l.file_name, l.sha256)
                  >= (b.received_date, b.file_name, b.sha256)
           WHERE b.batch_id = $b
           ORDER BY l.received_date, l.file_name, l.sha256""",
        {"b": batch_id},
    )
    if onward.height < 2:
        return
    register(con, "onward_frame", onward)
    try:
        docs = frame(
            con,
            f"""SELECT doc_key FROM {table} WHERE batch_id = $b AND doc_key IS NOT NULL
                INTERSECT
                SELECT doc_key FROM {table}
                WHERE batch_id IN (SELECT batch_id FROM onward_frame) AND batch_id <> $b""",
            {"b": batch_id},
        )
        if not docs.height:
            return
        register(con, "replay_docs", docs)
        try:
            rows = """batch_id IN (SELECT batch_id FROM onward_frame)
                      AND doc_key IN (SELECT doc_key FROM replay_docs)"""
            found = con.execute(f"SELECT DISTINCT batch_id FROM {table} WHERE {rows}").fetchall()
            touched = {b for (b,) in found}
            con.execute(f"UPDATE {table} SET record_key = '' WHERE {rows}")
            for batch in onward.iter_rows():
                if batch[0] in touched:
                    _key_batch(con, kind, batch, only_replayed=True)
        finally:
            con.unregister("replay_docs")
    finally:
        con.unregister("onward_frame")


def rekey_store(con: duckdb.DuckDBPyConnection) -> None:
    """Key every stored record again by today's rules, batch by batch in the order of versions
    (received date, file name, content), as if the files were ingested afresh in that order.

    Runs once, inside the caller's transaction, when a store's ``meta`` names other rules; a
    store of a few thousand files takes one query per batch.
    """
    for kind in KINDS:
        table = RECORD_TABLES[kind]
        con.execute(f"UPDATE {table} SET record_key = ''")
        batches = con.execute(
            f"""SELECT DISTINCT r.batch_id, b.unit_code, b.sha256, b.received_date, b.file_name
                FROM {table} r JOIN batches b USING (batch_id)
                ORDER BY b.received_date, b.file_name, b.sha256, r.batch_id"""
        ).fetchall()
        for batch_id, unit, sha, *_ in batches:
            _key_batch(con, kind, (batch_id, unit, sha), only_replayed=False)
