"""A real PostgreSQL for the lake's tests: a private cluster per test worker, on a Unix socket
in a folder of its own (no TCP port to collide with), started from Debian's binaries.

``initdb`` refuses to run as root, so as root the cluster belongs to the ``postgres`` user the
Debian package creates and is run through ``runuser``; as anyone else it is simply theirs.
``scripts/test`` installs the package when it is missing (docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PORT = 5432  # only names the socket file: listen_addresses is empty


def binaries() -> Path | None:
    """The newest PostgreSQL's bin folder (Debian keeps each major version apart)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Cluster:
    folder: Path
    bin: Path

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    def conninfo(self, dbname: str = "postgres", password: str | None = None) -> str:
        info = f"host={self.socket_dir} port={PORT} user=postgres dbname={dbname}"
        return info + (f" password={password}" if password else "")

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        out = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-At", "-h", str(self.socket_dir), "-p",
             str(PORT), "-U", "postgres", "-d", dbname, "-c", sql],
            capture_output=True, text=True, check=True, timeout=60,
        )  # fmt: skip
        return out.stdout.strip()

    def new_database(self, name: str, template: str | None = None) -> str:
        """A new database for one test, empty or a copy of ``template`` (PostgreSQL's
        ``CREATE DATABASE … TEMPLATE``, a file copy); its conninfo.  A template must have no
        session open: a process that used it may still be leaving, so this waits a little."""
        import time

        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}"' if template else ""
        deadline = time.monotonic() + 10
        while True:
            try:
                self.psql(f'CREATE DATABASE "{name}"{copy}')
                return self.conninfo(name)
            except subprocess.CalledProcessError as exc:
                if "being accessed by other users" not in exc.stderr or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        subprocess.run(
            _as_owner([str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m",
                       "immediate", "stop"]),
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def start() -> Cluster:
    """Create and start a cluster; the caller stops it."""
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed: scripts/test installs it (Debian)")
    folder = Path(tempfile.mkdtemp(prefix="sgs-pg-"))
    (folder / "socket").mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(folder / "socket", "postgres")
    subprocess.run(
        _as_owner([str(bin_dir / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U",
                   "postgres", "-E", "UTF8", "--no-sync", "--no-instructions"]),
        capture_output=True, check=True, timeout=120, cwd=folder,
    )  # fmt: skip
    options = (f"-p {PORT} -k {folder / 'socket'} -c listen_addresses='' -c fsync=off"
               " -c max_connections=50")  # fmt: skip
    subprocess.run(
        _as_owner([str(bin_dir / "pg_ctl"), "-D", str(folder / "data"), "-o", options, "-l",
                   str(folder / "log"), "-w", "start"]),
        capture_output=True, check=True, timeout=120, cwd=folder,
    )  # fmt: skip
    return Cluster(folder, bin_dir)


def lake_query(conninfo: str, sql: str) -> list[tuple]:
    """Read the lake as an outsider would: DuckDB with the extensions from their wheels,
    attached read-only (the test's own view, not sgs's connection code)."""
    import importlib

    import duckdb

    con = duckdb.connect()
    try:
        for name, package in (("postgres_scanner", "duckdb_extension_postgres_scanner"),
                              ("ducklake", "duckdb_extension_ducklake")):  # fmt: skip
            folder = Path(importlib.import_module(package).__file__).parent  # type: ignore[arg-type]
            con.execute(f"LOAD '{folder}/extensions/v{duckdb.__version__}/{name}.duckdb_extension'")
        con.execute(f"ATTACH 'ducklake:postgres:{conninfo}' AS lake (READ_ONLY)")
        return con.execute(sql).fetchall()
    finally:
        con.close()
