"""A Prefect home whose database is migrated already, for tests that start Prefect.

A new Prefect database runs every Alembic migration before its server answers: about 15 s of
CPU on this machine, paid again by each test that gave Prefect an empty home (a fifth of all
the Prefect tests' time; docs/performance.md, "The test suite").  Here the migrations run once
per test session — the first worker to ask builds the database under a file lock, the others
wait for it — and each test gets a copy.  The copy is Prefect's own database as its own
migrations made it; the server started over it is the real one.

Two tests keep an empty home on purpose: ``scripts/run`` as a newcomer runs it, and the flow
file on a loaded machine (the start a new machine's first run pays).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

MIGRATE = """
import asyncio
from prefect.server.database import provide_database_interface
asyncio.run(provide_database_interface().create_db())
"""


def _template(shared: Path) -> Path:
    """The migrated database, built once for all the session's workers."""
    folder = shared / f"prefect-template-{version('prefect')}"
    database = folder / "prefect.db"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "done").exists():
            env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
            env["PREFECT_HOME"] = str(folder)  # the database is the home's prefect.db
            subprocess.run([sys.executable, "-c", MIGRATE], env=env, check=True,
                           capture_output=True, timeout=600)  # fmt: skip
            (folder / "done").touch()
    return database


def migrated_home(factory: pytest.TempPathFactory, home: Path) -> Path:
    """``home`` made a Prefect home holding a copy of the migrated database (``prefect.db``,
    where Prefect looks by default)."""
    shared = factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else (
        factory.getbasetemp()
    )  # fmt: skip
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_template(shared), home / "prefect.db")
    return home
