"""The DuckDB store at ``<data root>/curated/sgs.duckdb``: schema, connections, the writer lock.

DuckDB lets one process write a database file at a time and refuses other processes while it
does.  So every writer first takes an exclusive ``flock`` on a lock file next to the database
(readers take it shared): concurrent ingests queue up instead of failing, and a database held
open by some other program is retried with back-off before giving up with a clear message.
The same lock orders the threads of one process: each ``with`` opens the lock file anew, and a
``flock`` belongs to that open file, so a writer in one thread waits for the readers of other
threads and they for it, while readers never wait for each other (a long download does not
hold up other pages).  That also keeps DuckDB from ever being asked, in one process, for a
read-only and a read-write connection to the file at once, which it refuses.
Each file is written in one transaction, so a process killed half-way leaves the store as it
was.

On DuckLake (``SGS_STORE=ducklake:postgres:…``, :mod:`sgs.store.lake`) the same functions hand
out connections to the lake instead: writers take a PostgreSQL advisory lock in place of the
``flock``, readers read a snapshot and take no lock, and the schema is the one ``sgs store
init`` created (:func:`init_store`) — writers on the lake never run DDL.

Derivable state is not stored: which version of a record is current, and which version counts
for the rates, are window functions in the ``*_versions`` views.
"""

from __future__ import annotations

import fcntl
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import duckdb

from sgs.config import data_root, lock_timeout_s
from sgs.errors import StoreBusy, StoreUnavailable
from sgs.store import lake as lakes
from sgs.store.identity import IDENTITY_VERSION, rekey_store
from sgs.store.sql import literal, one, register, rollback, run
from sgs.store.tables import tables_ddl

log = logging.getLogger(__name__)

DB_FILE = "sgs.duckdb"
#: Rows per row group of what a writer appends.  DuckDB writes an append of at least one row
#: group straight into the file, compressed, while it inserts; a smaller one goes through the
#: write-ahead log and is compressed again by the checkpoint at its commit.  At DuckDB's default
#: (122,880 rows) a 100,000-row file took the second path: 0.75-0.9 s to insert and commit
#: against 0.55 s at this size (measured on the benchmark file, docs/performance.md).  A small
#: file is below either size and is written as before.
WRITE_ROW_GROUP = 16_384
#: The storage format a writer writes.  DuckDB 1.5 writes a file in the format of 1.0 unless
#: told otherwise, and that format compresses strings by trying FSST and dictionaries one after
#: the other; from 1.3 on, strings get one dictionary-and-FSST encoding.  A million records
#: inserted and committed: 3.5 s and 6.7 CPU-s in the old format, 2.3 s and 4.1 CPU-s in this
#: one (the file 185 MB against 155; docs/performance.md).  A store written before is rewritten
#: in this format by its first write after the change, once (a million records: 2.5 s; the
#: file keeps its size and reuses the freed blocks); only DuckDB 1.5 and later open it then,
#: and the project pins DuckDB (``store export``/``import`` move a store between versions).
STORAGE_VERSION = "v1.5.0"


T = TypeVar("T")
#: DuckDB's words for a file another process holds ("Could not set lock on file …",
#: "Conflicting lock is held in …"); a bare "lock" would also match "block".
_LOCKED = re.compile(r"\block\b", re.IGNORECASE)
#: How often a write overtaken by another commit on the lake is run again, and the longest
#: pause between two tries (seconds; the pause doubles from 0.05 s, with jitter).
COMMIT_RETRIES = 8
MAX_BACKOFF_S = 2.0


def curated_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "curated"


def db_path(root: Path | None = None) -> Path:
    return curated_dir(root) / DB_FILE


def store_exists(root: Path | None = None) -> bool:
    """Whether there is a store to read: the file exists, or the lake is configured (a lake
    that was never initialised is said so by its reader, :func:`sgs.store.lake.connect`)."""
    return lakes.configured(root) is not None or db_path(root).exists()


def store_name(root: Path | None = None) -> str:
    """The store as messages name it: the file's path, or the lake with its password masked."""
    lake = lakes.configured(root)
    return lake.shown if lake is not None else str(db_path(root))


def is_commit_conflict(exc: BaseException) -> bool:
    """A DuckLake commit overtaken by another writer's (``ducklake_max_retry_count = 0``)."""
    return isinstance(exc, duckdb.TransactionException) and (
        "Failed to commit DuckLake transaction" in str(exc)
    )


def retrying(write: Callable[[], T]) -> T:
    """Run ``write`` (whole transactions) again while its commit is overtaken on the lake, with
    bounded, jittered back-off; the embedded file never conflicts (one writer at a time)."""
    import random

    delay = 0.05
    for attempt in range(1, COMMIT_RETRIES + 1):
        try:
            return write()
        except duckdb.TransactionException as exc:
            if not is_commit_conflict(exc) or attempt == COMMIT_RETRIES:
                raise
            log.info("commit overtaken by another writer; writing again (try %d)", attempt + 1)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, MAX_BACKOFF_S)
    raise AssertionError("unreachable")


@contextmanager
def _file_lock(path: Path, exclusive: bool, timeout: float) -> Iterator[None]:
    """A lock (flock) shared by readers, exclusive for a writer, across processes and threads.

    The file is opened for each holder, so threads of one process exclude each other exactly
    as processes do.  A writer first closes a gate (a second lock file) that every reader
    passes on its way in, so a steady stream of overlapping readers (a busy page) cannot keep
    a writer out for ever: readers that come after it wait, those already in finish.  Not
    re-entrant: a thread holding the writer's lock that asked for a reader's would wait for
    itself (nothing does).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    gate = path.with_suffix(".gate")
    with gate.open("a+") as gate_fh, path.open("a+") as fh:
        _flock(gate_fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, timeout, path)
        try:
            _flock(fh, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, deadline, timeout, path)
        finally:
            fcntl.flock(gate_fh, fcntl.LOCK_UN)  # in (or given up): the next one may queue
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _flock(fh: IO[str], mode: int, deadline: float, timeout: float, path: Path) -> None:
    """Take ``mode`` on ``fh`` by polling, giving up at ``deadline`` with a clear message."""
    while True:
        try:
            fcntl.flock(fh, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise StoreBusy(
                    f"数据库正被另一个任务使用，等待 {timeout:.0f} 秒后仍未释放：{path}"
                ) from None
            time.sleep(0.05)


def _connect(path: Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying while another program (not using our lock) holds it."""
    delay, deadline = 0.05, time.monotonic() + timeout
    while True:
        try:
            if read_only:
                return duckdb.connect(str(path), read_only=True)
            con = duckdb.connect()
            try:
                con.execute(
                    f"ATTACH {literal(path)} AS store (ROW_GROUP_SIZE {WRITE_ROW_GROUP},"
                    f" STORAGE_VERSION '{STORAGE_VERSION}')"
                )
                con.execute("USE store")
            except BaseException:
                con.close()
                raise
            return con
        except duckdb.IOException as exc:
            # DuckDB's own words (English, a process path) go to the log, not to the message.
            if "created with an newer version" in str(exc) or "version number" in str(exc):
                log.info("opening %s failed: %s", path, exc)
                raise StoreUnavailable(
                    f"数据库 {path} 由更新版本的 DuckDB 写成，本版本（DuckDB {duckdb.__version__}）"
                    "打不开：请用写成它的 sgs 执行 sgs store export，再用本版本 sgs store import"
                    "（docs/operations.md）"
                ) from exc
            if "Corrupt database file" in str(exc):
                log.info("opening %s failed: %s", path, exc)
                raise StoreUnavailable(
                    f"数据库文件 {path} 已损坏，无法打开：请从备份恢复"
                    "（sgs store import，docs/operations.md）"
                ) from exc
            if not _LOCKED.search(str(exc)):  # not "block" of "…in block at location 0"
                log.info("opening %s failed: %s", path, exc)
                raise StoreBusy(f"无法打开数据库 {path}：文件无法读写，请检查磁盘与权限") from exc
            if time.monotonic() > deadline:
                log.info("opening %s failed: %s", path, exc)
                raise StoreBusy(
                    f"无法打开数据库 {path}：另一个程序正占用它（已等待 {timeout:g} 秒），"
                    "请关闭该程序后重试"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


# The writer connection a thread holds open for a run of files (:func:`session`), by store.
_sessions = threading.local()


def _held(key: object) -> duckdb.DuckDBPyConnection | None:
    return getattr(_sessions, "open", {}).get(key)


def _key(root: Path | None) -> object:
    """What identifies a store within a process: the file's path, or the lake."""
    return lakes.configured(root) or db_path(root)


@contextmanager
def session(root: Path | None = None, timeout: float | None = None) -> Iterator[None]:
    """Hold the writer for a run of files: one lock, one connection, one schema check.

    Opening the store costs about 25 ms (connect, schema stamp, reference tables), as much as
    writing a small file; a command that stores a hundred files opens it once.  Inside,
    :func:`writer` and :func:`reader` on the same thread and store hand out this connection
    (each file still commits its own transaction); other threads and processes wait for the
    lock as for any writer.  Not for long work: readers wait while it is held, so ingest holds
    it only while it writes, never while it reads or validates.
    """
    key = _key(root)
    if _held(key) is not None:
        yield
        return
    with writer(root, timeout) as con:
        held = getattr(_sessions, "open", None)
        if held is None:
            held = _sessions.open = {}
        held[key] = con
        try:
            yield
        finally:
            del held[key]


@contextmanager
def writer(
    root: Path | None = None, timeout: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single writer: exclusive lock, schema ensured, reference tables refreshed.

    ``timeout`` (seconds) defaults to :func:`sgs.config.lock_timeout_s`.  Inside a
    :func:`session` of this thread, the session's connection.
    """
    key = _key(root)
    if (con := _held(key)) is not None:
        yield con
        return
    timeout = lock_timeout_s() if timeout is None else timeout
    if isinstance(key, lakes.Lake):
        with lakes.writer_lock(key, timeout), _on_the_lake(key, write=True) as con:
            yield con
        return
    path = db_path(root)
    with _file_lock(path.with_suffix(".lock"), exclusive=True, timeout=timeout):
        con = _connect(path, read_only=False, timeout=timeout)
        try:
            _ensure_schema(con)
            _refresh_reference_tables(con)
            yield con
        finally:
            con.close()


@contextmanager
def reader(
    root: Path | None = None, timeout: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection; waits for a running writer.  A missing store is created first.
    Inside a :func:`session` of this thread, the session's connection (it reads as well)."""
    key = _key(root)
    if (con := _held(key)) is not None:
        yield con
        return
    timeout = lock_timeout_s() if timeout is None else timeout
    if isinstance(key, lakes.Lake):  # a snapshot: nothing to wait for
        with _on_the_lake(key, write=False) as con:
            yield con
        return
    path = db_path(root)
    if not path.exists():
        with writer(root, timeout):
            pass
    with _file_lock(path.with_suffix(".lock"), exclusive=False, timeout=timeout):
        con = _connect(path, read_only=True, timeout=timeout)
        try:
            _shadow_edited_reference(con)
            yield con
        finally:
            con.close()


@contextmanager
def _on_the_lake(lake: lakes.Lake, *, write: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A lake connection as the store hands it out: a writer's only on the schema ``sgs store
    init`` made (writers never run DDL), edited units and holidays shadowed for both."""
    con = lakes.connect(lake, read_only=not write)
    try:
        if write:
            _check_lake_schema(con, lake)
        _shadow_edited_reference(con)
        yield con
    finally:
        con.close()


def _shadow_edited_reference(con: duckdb.DuckDBPyConnection) -> None:
    """Units and holidays edited since the store last took them count at once, without a
    write: temporary tables shadow the stored ones (:func:`refresh_calendar`, init)."""
    _fresh_calendar_for_reading(con)
    _fresh_units_for_reading(con)


def blank_store() -> duckdb.DuckDBPyConnection:
    """An in-memory store with the schema and no rows: what a reader sees before the first
    ingest (a unit's empty feedback list), without creating the store on a GET."""
    con = duckdb.connect()
    run(con, tables_ddl())
    return con


def _fresh_calendar_for_reading(con: duckdb.DuckDBPyConnection) -> None:
    """A holidays file added since the last write must count at once, without writing: shadow
    the stored calendar with a temporary one built from the current sources."""
    from sgs.reference import calendar as workdays

    if _meta(con, "calendar") == workdays.sources_fingerprint():
        return
    register(con, "_fresh_calendar", workdays.calendar_frame())
    run(con, "CREATE OR REPLACE TEMP TABLE calendar AS SELECT * FROM _fresh_calendar")
    con.unregister("_fresh_calendar")


def _units_stamp() -> tuple[object, str]:
    """The registry in force and the stamp the store keeps of the one it holds."""
    from sgs.config import units_path
    from sgs.reference.units import load_units

    units = load_units()
    return units, f"{units_path()}:{units.hash_rows().sum()}"


def _fresh_units_for_reading(con: duckdb.DuckDBPyConnection) -> None:
    """An edited units registry (a new county department) counts at once, like a holidays
    file: shadow the stored units with a temporary table when they differ."""
    units, stamp = _units_stamp()
    if _meta(con, "units") == stamp:
        return
    register(con, "_fresh_units", units)
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE units AS SELECT code, name, type, parent FROM _fresh_units",
    )
    con.unregister("_fresh_units")


def schema_stamp() -> str:
    """The version of the store's DDL and record identity this code writes and reads."""
    import hashlib

    return hashlib.sha256((tables_ddl() + IDENTITY_VERSION).encode()).hexdigest()[:16]


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables and views once; later opens only compare a stamp (no catalog writes)."""
    ddl = tables_ddl()
    stamp = schema_stamp()
    try:
        if _meta(con, "schema") == stamp:
            return
    except duckdb.CatalogException:
        pass  # a new database: no meta table yet
    run(con, ddl)
    _set_meta(con, "schema", stamp)
    if _meta(con, "record_identity") != IDENTITY_VERSION:
        run(con, "BEGIN TRANSACTION")
        try:
            rekey_store(con)  # a store keyed by older rules (docs/policy.md section 5)
            _set_meta(con, "record_identity", IDENTITY_VERSION)
            run(con, "COMMIT")
        except BaseException:
            rollback(con)
            raise


def _check_lake_schema(con: duckdb.DuckDBPyConnection, lake: lakes.Lake) -> None:
    """Writers on the lake never run DDL: the schema must be the one ``sgs store init`` made."""
    if _meta(con, "schema") != schema_stamp():
        raise StoreUnavailable(f"湖仓的表结构不是本版本的：请先运行 sgs store init（{lake.shown}）")


def init_store(
    root: Path | None = None, ddl: Sequence[str] = (), timeout: float | None = None
) -> dict[str, object]:
    """Create the store or bring it up to this version — tables, views, units and calendar —
    and say what it holds.  Idempotent; run again after the office edits units or holidays.
    On the lake the catalogue is created too (the only opening allowed to).  ``ddl`` creates
    the tables of stages above the store (the quality stage's check results), as
    :func:`sgs.store.transfer.import_store` takes them."""
    timeout = lock_timeout_s() if timeout is None else timeout
    lake = lakes.configured(root)
    if lake is None:
        with writer(root, timeout) as con:
            for statement in ddl:
                run(con, statement)
            return _summary(con, str(db_path(root)), "duckdb")
    with lakes.writer_lock(lake, timeout):
        con = lakes.connect(lake, read_only=False, create=True)
        try:
            _ensure_schema(con)
            for statement in ddl:
                run(con, statement)
            lakes.stamp_marker(con, lake)
            _refresh_reference_tables(con)
            return _summary(con, lake.shown, "ducklake") | {"data_path": str(lake.data_path)}
        finally:
            con.close()


def _summary(con: duckdb.DuckDBPyConnection, name: str, backend: str) -> dict[str, object]:
    def count(table: str) -> int:
        return one(con, f"SELECT count(*) FROM {table}")[0]  # type: ignore[index]

    return {
        "store": name, "backend": backend, "schema": _meta(con, "schema"),
        "units": count("units"), "calendar_days": count("calendar"),
        "batches": count("batches"), "permits": count("permits"), "penalties": count("penalties"),
    }  # fmt: skip


def tidy_store(root: Path | None = None, timeout: float | None = None) -> dict[str, object]:
    """Housekeeping under the writers' lock: on the lake DuckLake's own (merge small files,
    expire week-old snapshots, delete files nothing needs — orphans of a killed writer among
    them); on the file a checkpoint."""
    timeout = lock_timeout_s() if timeout is None else timeout
    lake = lakes.configured(root)
    with writer(root, timeout) as con:
        if lake is None:
            run(con, "CHECKPOINT")
            return {"store": str(db_path(root)), "backend": "duckdb"}
        return {"store": lake.shown, "backend": "ducklake"} | lakes.tidy(con, lake)


def _refresh_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Keep the units and the workday calendar in the store in step with their sources."""
    units, stamp = _units_stamp()
    if _meta(con, "units") != stamp:
        run(con, "BEGIN")
        run(con, "DELETE FROM units")
        register(con, "units_frame", units)
        run(con, "INSERT INTO units SELECT code, name, type, parent FROM units_frame")
        con.unregister("units_frame")
        _set_meta(con, "units", stamp)
        run(con, "COMMIT")
    refresh_calendar(con)


def refresh_calendar(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite the calendar table when its sources (library or holiday files) changed."""
    from sgs.reference import calendar as workdays

    if _meta(con, "calendar") == workdays.sources_fingerprint():
        return  # cheap: building the calendar takes 0.4 s, only done when it must be written
    stamp = workdays.fingerprint()
    run(con, "BEGIN")
    workdays.write_calendar_table(con)
    _set_meta(con, "calendar", stamp)
    run(con, "COMMIT")


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = one(con, "SELECT value FROM meta WHERE key = ?", [key])
    return row[0] if row else None


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set a stamp: update it, or add it when missing (no ON CONFLICT: DuckLake has no keys;
    the writer's lock keeps two writers from adding the same key)."""
    run(con, "UPDATE meta SET value = ? WHERE key = ?", [value, key])
    run(con, "INSERT INTO meta SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = ?)",
        [key, value, key])  # fmt: skip
