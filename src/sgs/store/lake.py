"""The store on DuckLake: a PostgreSQL catalogue and Parquet files on a shared path (issue 23).

``SGS_STORE`` chooses the store: unset or ``duckdb`` is the embedded file of
:mod:`sgs.store.database`; ``ducklake:postgres:<libpq conninfo>`` is the lake, its Parquet files
under ``SGS_LAKE_DATA`` (default ``<data root>/lake``).  Every reading and writing is the same
DuckDB SQL on both: only opening a connection and the writers' lock differ, and they live here.

Why these choices:

* The extensions are loaded from the installed wheels (``duckdb-extension-ducklake``,
  ``duckdb-extension-postgres-scanner``), never with ``INSTALL``: a machine of the city has the
  package registry, not DuckDB's extension server.  A wheel is built for one DuckDB version; a
  mismatch is refused before anything is opened (:func:`check_versions`).
* Their files are trusted as the rest of the environment is: uv checked each wheel against
  its hash in ``uv.lock`` when it installed it, as it did for DuckDB itself.  DuckDB's own
  signature check hashed the two files (76 MB) again at every connection — 0.15–0.19 s of
  every lake command and every page — so a lake connection allows unsigned extensions and, in
  exchange, loads no other: no extension is installed or autoloaded on it (json, parquet and
  icu are built into DuckDB).
* Writers are serialised by a PostgreSQL advisory lock held on a session of their own: the
  lake has no file to ``flock``, and PostgreSQL releases the lock the moment its holder dies
  (a ``kill -9`` mid-file leaves the lock free and the half-written file invisible).
* ``ducklake_max_retry_count = 0``: DuckLake's own retry re-commits a transaction over a newer
  snapshot without re-reading it, which merged two writers' ids silently when measured.  Here a
  commit overtaken by another fails, and :func:`sgs.store.database.retrying` runs the whole
  write again.
* Each machine may mount the shared data folder under its own path, so connections pass their
  ``SGS_LAKE_DATA`` with ``OVERRIDE_DATA_PATH``; a marker file written by ``sgs store init``
  (the lake's id, also kept in the catalogue) proves the folder is this lake's before anything
  is read or written through it.
* Passwords never reach a message or a log: :func:`mask` rewrites every conninfo form.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sgs.config import data_root, env
from sgs.errors import StoreBusy, StoreUnavailable

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

PREFIX = "ducklake:postgres:"
#: The advisory lock of the store's writers (one per catalogue database: PostgreSQL scopes
#: advisory locks to the database).  Any constant would do; this one spells "sgs-lake".
WRITER_LOCK_KEY = 0x7367732D6C616B65
MARKER = "sgs-lake.id"
#: A lake connection loads the two wheels' extensions by path, unsigned-allowed, and nothing
#: else (see the module's docstring).
CONNECTION_CONFIG = {
    "allow_unsigned_extensions": True,
    "allow_community_extensions": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
EXTENSIONS = {
    "postgres_scanner": "duckdb_extension_postgres_scanner",
    "ducklake": "duckdb_extension_ducklake",
}


@dataclass(frozen=True)
class Lake:
    """Where the lake is: the catalogue's conninfo and this machine's path of the data folder."""

    conninfo: str
    data_path: Path

    @property
    def shown(self) -> str:
        """The store as a message may name it: the password masked."""
        return mask(PREFIX + self.conninfo)


def configured(root: Path | None = None) -> Lake | None:
    """The lake ``SGS_STORE`` names, or None for the embedded file."""
    value = env("SGS_STORE")
    if value is None or value.lower() == "duckdb":
        return None
    if not value.startswith(PREFIX) or not value[len(PREFIX) :].strip():
        raise StoreUnavailable(
            "环境变量 SGS_STORE 应为 duckdb 或 ducklake:postgres:<连接串>"
            f"（如 ducklake:postgres:host=db dbname=sgs），实际为「{mask(value)[:80]}」"
        )
    data = env("SGS_LAKE_DATA")
    path = Path(data) if data else (root or data_root()) / "lake"
    return Lake(value[len(PREFIX) :].strip(), path.resolve())


_PASSWORD_KV = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_PASSWORD_URI = re.compile(r"(postgres(?:ql)?://[^:/@\s]+:)([^@\s]+)(@)", re.IGNORECASE)


def mask(text: str) -> str:
    """``text`` with every password of a libpq conninfo (``password=…``, ``user:pw@``) masked."""
    text = _PASSWORD_KV.sub(r"\1***", text)
    return _PASSWORD_URI.sub(r"\1***\3", text)


# ----------------------------------------------------------------------------- extensions


def extension_file(name: str) -> Path:
    """The extension ``name`` as the installed wheel ships it, for this DuckDB's version."""
    import importlib

    import duckdb

    package = importlib.import_module(EXTENSIONS[name])
    folder = Path(package.__file__).parent / "extensions"  # type: ignore[arg-type]
    return folder / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"


def check_versions() -> None:
    """Refuse a DuckDB whose version the extension wheels were not built for, with the
    versions named (DuckDB's own refusal is English and names a path)."""
    import duckdb

    for name in EXTENSIONS:
        path = extension_file(name)
        if not path.is_file():
            built = sorted(p.name for p in path.parent.parent.glob("v*"))
            raise StoreUnavailable(
                f"DuckDB 版本 {duckdb.__version__} 与已安装的扩展 {name}（适用于 "
                f"{'、'.join(built) or '未知版本'}）不一致：请用 scripts/setup 按锁定文件重新安装"
            )


# ----------------------------------------------------------------------------- connections


def connect(lake: Lake, *, read_only: bool, create: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake attached as ``store`` and in use.

    Only ``sgs store init`` passes ``create``: every other opening refuses a catalogue that does
    not exist yet and a data folder that is not this lake's.
    """
    import duckdb

    from sgs.store.sql import literal

    check_versions()
    con = duckdb.connect(config=CONNECTION_CONFIG)
    try:
        for name in EXTENSIONS:
            con.execute(f"LOAD {literal(extension_file(name))}")
        options = [f"DATA_PATH {literal(str(lake.data_path) + '/')}", "OVERRIDE_DATA_PATH true"]
        if not create:
            options.append("CREATE_IF_NOT_EXISTS false")
        if read_only:
            options.append("READ_ONLY")
        if create:
            lake.data_path.mkdir(parents=True, exist_ok=True)
        try:
            con.execute(f"ATTACH {literal(PREFIX + lake.conninfo)} AS store ({', '.join(options)})")
        except duckdb.Error as exc:
            log.info("attaching %s failed: %s", lake.shown, mask(str(exc)))
            if "does not exist" in str(exc) and "creating a new DuckLake" in str(exc):
                raise StoreUnavailable(
                    f"湖仓尚未初始化：请先运行 sgs store init（{lake.shown}）"
                ) from None
            raise StoreUnavailable(
                f"无法连接湖仓目录 {lake.shown}：请检查 SGS_STORE 的连接串与 PostgreSQL 是否可用"
            ) from None
        con.execute("USE store")
        con.execute("SET ducklake_max_retry_count = 0")
        if not create:
            _check_marker(con, lake)
    except BaseException:
        con.close()
        raise
    return con


def lake_id(con: duckdb.DuckDBPyConnection) -> str | None:
    from sgs.store.sql import one

    try:
        row = one(con, "SELECT value FROM meta WHERE key = 'lake_id'")
    except Exception:
        return None
    return row[0] if row else None


def _check_marker(con: duckdb.DuckDBPyConnection, lake: Lake) -> None:
    """The data folder must be this lake's: its marker names the id the catalogue keeps."""
    expected = lake_id(con)
    if expected is None:
        raise StoreUnavailable(f"湖仓尚未初始化：请先运行 sgs store init（{lake.shown}）")
    marker = lake.data_path / MARKER
    try:
        found = marker.read_text(encoding="utf-8").strip()
    except OSError:
        found = None
    if found != expected:
        raise StoreUnavailable(
            f"数据目录 {lake.data_path} 不是该湖仓的数据目录（缺少或不符的 {MARKER}）："
            "请把 SGS_LAKE_DATA 设为本机挂载共享数据目录的路径"
        )


def stamp_marker(con: duckdb.DuckDBPyConnection, lake: Lake) -> str:
    """Give a new lake its id (catalogue and marker file).  An existing lake keeps its own, and
    its folder must already carry it: a re-run of init with a wrong ``SGS_LAKE_DATA`` must not
    bless an empty folder as the lake's (writers would put Parquet files where no other machine
    looks)."""
    from sgs.store.sql import run

    current = lake_id(con)
    if current is not None:  # an existing lake: this folder must be its own already
        _check_marker(con, lake)
        return current
    current = uuid.uuid4().hex
    run(con, "INSERT INTO meta VALUES ('lake_id', ?)", [current])
    (lake.data_path / MARKER).write_text(current + "\n", encoding="utf-8")
    return current


def overtake() -> None:
    """Commit a change that alters nothing from a connection of its own (the conflict test's
    ``SGS_FAULT=lake-conflict``): a writer whose transaction began before it cannot commit."""
    lake = configured()
    if lake is None:
        return
    con = connect(lake, read_only=False)
    try:
        con.execute("UPDATE meta SET value = value WHERE key = 'lake_id'")
    finally:
        con.close()


# ----------------------------------------------------------------------------- the writers' lock


@contextmanager
def writer_lock(lake: Lake, timeout: float) -> Iterator[None]:
    """Hold the store's advisory lock on a PostgreSQL session of its own, polling until
    ``timeout``; released when the block ends or the process dies."""
    import psycopg

    try:
        session = psycopg.connect(lake.conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        log.info("connecting to %s failed: %s", lake.shown, mask(str(exc)))
        raise StoreUnavailable(
            f"无法连接湖仓目录 {lake.shown}：请检查 SGS_STORE 的连接串与 PostgreSQL 是否可用"
        ) from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            got = session.execute("SELECT pg_try_advisory_lock(%s)", [WRITER_LOCK_KEY]).fetchone()
            if got and got[0]:
                break
            if time.monotonic() > deadline:
                raise StoreBusy(
                    f"湖仓正被另一个任务写入，等待 {timeout:.0f} 秒后仍未释放：{lake.shown}"
                )
            time.sleep(0.1)
        try:
            yield
        finally:
            session.execute("SELECT pg_advisory_unlock(%s)", [WRITER_LOCK_KEY])
    finally:
        session.close()


# ----------------------------------------------------------------------------- maintenance


def tidy(con: duckdb.DuckDBPyConnection, lake: Lake) -> dict[str, int]:
    """DuckLake's own housekeeping: small files merged, snapshots older than a week expired,
    files no snapshot needs and orphans (a writer killed mid-file) deleted."""
    from sgs.store.sql import run

    before = _files(lake.data_path)
    run(con, "CALL ducklake_merge_adjacent_files('store')")
    run(con, "CALL ducklake_expire_snapshots('store', older_than => now() - INTERVAL 7 DAY)")
    run(con, "CALL ducklake_cleanup_old_files('store', cleanup_all => true)")
    run(con, "CALL ducklake_delete_orphaned_files('store', cleanup_all => true)")
    return {"files_before": before, "files_after": _files(lake.data_path)}


def _files(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.parquet")) if folder.is_dir() else 0
