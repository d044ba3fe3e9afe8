"""A data root as the daily run leaves it: the bundled landing zone ingested, every upload
batch checked by the expectation suites, and the Data Docs written — by the same functions
the daily flow composes (:mod:`sgs.jobs.daily`), without Prefect."""

from __future__ import annotations

import shutil
from pathlib import Path

from sgs.config import PROJECT_ROOT


def checked_landing_zone(root: Path) -> Path:
    """``root`` with ``raw/`` copied from data/raw, ingested, checked, Data Docs rendered;
    returns the Data Docs folder."""
    from sgs.jobs import daily
    from sgs.quality.data_docs import render
    from sgs.store import database
    from sgs.store.ingest import ingest_file

    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    for path in daily.new_arrivals(root):
        result = ingest_file(path, root=root)
        if result.status == "stored" and result.kind in ("permit", "penalty"):
            daily.check_batch(result.batch_id, None, root)  # type: ignore[arg-type]
    with database.reader(root) as con:
        return render(con, root).parent
