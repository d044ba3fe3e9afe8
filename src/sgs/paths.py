"""Where things live: the project checkout, the catalogue and the data root.

sgs is an application run from its checkout (``uv sync`` installs it editable), so the
catalogue and expectation suites are read from the project folders next to ``src/``.
``$SGS_CATALOGUE`` points at another catalogue file, to try a changed rule before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
CATALOGUE_PATH = Path(os.environ.get("SGS_CATALOGUE") or SCHEMAS_DIR / "standard.toml")


def data_root() -> Path:
    """The data root: ``$SGS_DATA_DIR`` if set, else ``./data`` of the working directory."""
    return Path(os.environ.get("SGS_DATA_DIR") or "data").resolve()
