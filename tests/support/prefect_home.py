"""A Prefect home whose database is migrated already, for tests that start Prefect.

A new Prefect database runs every Alembic migration before its server answers: about 15 s of
CPU on this machine, paid again by each test that gave Prefect an empty home (a fifth of all
the Prefect tests' time; docs/performance.md, "The test suite").  Here the migrations run once
per test session (:func:`support.rates_builders.shared_build`: the first worker to ask builds
it, the others wait for it) and each test gets a copy.  The copy is Prefect's own database as
its own migrations made it; the server started over it is the real one.

One test keeps an empty home on purpose: the flow file whose server is slow (the start a new
machine's first run pays).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from support.rates_builders import shared_build

MIGRATE = """
import asyncio
from prefect.server.database import provide_database_interface
asyncio.run(provide_database_interface().create_db())
"""


def _migrate(folder: Path) -> None:
    """Prefect's own migrations into ``folder/prefect.db`` (the database of a home there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(folder)
    subprocess.run([sys.executable, "-c", MIGRATE], env=env, check=True, capture_output=True,
                   timeout=600)  # fmt: skip


def migrated_home(factory: pytest.TempPathFactory, home: Path) -> Path:
    """``home`` made a Prefect home holding a copy of the migrated database (``prefect.db``,
    where Prefect looks by default)."""
    template = shared_build(factory, f"prefect-template-{version('prefect')}", _migrate)
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template / "prefect.db", home / "prefect.db")
    return home
