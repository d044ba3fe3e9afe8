"""A store's rows out to Parquet files and back in: ``sgs store export`` / ``sgs store import``.

Why not DuckDB's ``EXPORT DATABASE``: its ``IMPORT`` replays the exporting store's own DDL
(keys, defaults, views of that version), and a DuckDB file opens only in the DuckDB version that
wrote it, or newer.  Here each table's rows go to one Parquet file, which every DuckDB version
and a DuckLake catalogue read; the importing store is created by the importing sgs with its own
DDL, and the rows go in by column name (a column the exporter lacked stays empty, one the
importer lacks is refused).  That is how a store moves to another machine, to another DuckDB
version, or to another backend (issue 23).

What moves: the office's data — batches, records, errors, quarantine, ledgers, publications,
check results.  Not moved: the units registry, the workday calendar and the store's stamps,
which every writer rebuilds from their sources (config/units.csv, the holidays files).

An export is a folder: ``<table>.parquet`` per table and ``manifest.json`` (format, version,
each table's row count, the record identity rules the keys were made with), written last, so a
folder without it is an export that did not finish.  An import is one transaction into a store
without data: it ends with every row of the manifest in, or with nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sgs.errors import SgsError
from sgs.store import database
from sgs.store.identity import IDENTITY_VERSION, rekey_store
from sgs.store.sql import literal, one, rollback, run

FORMAT = "sgs-store-export"
VERSION = 1
MANIFEST = "manifest.json"
#: Rebuilt by every writer from their sources; never exported.
REBUILT = ("meta", "units", "calendar")


class TransferError(SgsError):
    """An export or import that cannot be done; the message says why, in Chinese."""


@dataclass(frozen=True)
class Transfer:
    """What an export wrote or an import took in."""

    folder: Path
    tables: dict[str, int]  # table -> rows

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _data_tables(con) -> list[str]:
    names = run(con, "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                     " AND NOT temporary ORDER BY table_name")  # fmt: skip
    return [n for (n,) in names if n not in REBUILT]


def export_store(root: Path | None, folder: Path) -> Transfer:
    """Write every data table of the store at ``root`` to ``folder`` (new or empty)."""
    from importlib.metadata import version

    from sgs.clock import office_now

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise TransferError(f"导出目录 {folder} 已存在且不是空目录：请换一个新目录")
    if not database.store_exists(root):
        raise TransferError(f"没有可导出的数据库：{database.db_path(root)} 不存在")
    folder.mkdir(parents=True, exist_ok=True)
    tables: dict[str, int] = {}
    # One read connection: the files are one moment of the store (a writer waits meanwhile).
    with database.reader(root) as con:
        for table in _data_tables(con):
            target = folder / f"{table}.parquet"
            run(con, f"COPY (SELECT * FROM {table}) TO {literal(target)} (FORMAT parquet)")
            tables[table] = int(one(con, f"SELECT count(*) FROM {table}")[0])  # type: ignore[index]
        identity = one(con, "SELECT value FROM meta WHERE key = 'record_identity'")
    manifest = {
        "format": FORMAT, "version": VERSION, "tables": tables,
        "record_identity": identity[0] if identity else None,
        "exported_at": office_now().isoformat(timespec="seconds"),
        "sgs": version("sgs"), "duckdb": version("duckdb"),
    }  # fmt: skip
    partial = folder / f".{MANIFEST}.part"
    partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    partial.replace(folder / MANIFEST)
    return Transfer(folder, tables)


def read_manifest(folder: Path) -> dict:
    """The export's manifest, checked: its format, version and a file for every table."""
    path = folder / MANIFEST
    if not path.is_file():
        raise TransferError(f"{folder} 不是完整的导出目录：缺少 {MANIFEST}（导出未完成或目录有误）")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransferError(f"{path} 无法读取：不是有效的 JSON") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise TransferError(f"{path} 不是 sgs 数据库的导出清单")
    if manifest.get("version") != VERSION:
        raise TransferError(
            f"导出格式版本 {manifest.get('version')!r} 无法导入：本版本 sgs 只能导入版本 {VERSION}"
        )
    tables = manifest.get("tables")
    if not isinstance(tables, dict) or not all(
        isinstance(t, str) and t.isidentifier() and isinstance(n, int) and n >= 0
        for t, n in tables.items()
    ):
        raise TransferError(f"{path} 的表清单有误")
    missing = [t for t in tables if not (folder / f"{t}.parquet").is_file()]
    if missing:
        raise TransferError(f"导出目录缺少文件：{'、'.join(f'{t}.parquet' for t in missing)}")
    return manifest


def import_store(root: Path | None, folder: Path, ddl: Sequence[str] = ()) -> Transfer:
    """Take an export into the store at ``root``, which must hold no data yet.

    ``ddl`` creates tables the store itself does not own (the quality stage's check results):
    the store's stages sit below the ones that add tables to it.
    """
    import duckdb

    manifest = read_manifest(folder)
    tables: dict[str, int] = manifest["tables"]
    with database.writer(root) as con:
        for statement in ddl:
            run(con, statement)
        present = set(_data_tables(con))
        unknown = sorted(set(tables) - present)
        if unknown:
            raise TransferError(f"本版本 sgs 的数据库没有这些表，无法导入：{'、'.join(unknown)}")
        held = [t for t in sorted(present) if one(con, f"SELECT 1 FROM {t} LIMIT 1")]
        if held:
            raise TransferError(
                f"目标数据库已有数据（{'、'.join(held)}）：只能导入到新的数据库"
                "（换一个数据目录 SGS_DATA_DIR，或先备份后移走现有数据库）"
            )
        run(con, "BEGIN TRANSACTION")
        try:
            for table, rows in tables.items():
                source = literal(folder / f"{table}.parquet")
                try:
                    run(con, f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({source})")
                except duckdb.Error as exc:
                    raise TransferError(
                        f"{table}.parquet 无法导入：文件损坏，或其列与本版本的数据库不符"
                    ) from exc
                taken = int(one(con, f"SELECT count(*) FROM {table}")[0])  # type: ignore[index]
                if taken != rows:
                    raise TransferError(
                        f"{table}.parquet 有 {taken} 行，清单记的是 {rows} 行：导出目录不完整或被改动"
                    )
            if manifest.get("record_identity") != IDENTITY_VERSION:
                rekey_store(con)  # keys made by other rules (docs/policy.md section 5)
            run(con, "COMMIT")
        except BaseException:
            rollback(con)
            raise
    return Transfer(folder, dict(tables))
