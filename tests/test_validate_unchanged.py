"""`sgs validate --json` byte for byte as it was before the intake stage (issue 22, item 5).

Reading moved from the validate stage to the intake stage and files are now checked together;
what a unit is told about its file must not have moved with it.  The outputs were pinned with
the code before that change (f7b5959) by tests/support/validate_cases.py: generated samples
with many defects (CSV in UTF-8 and GBK with a title row, field-code headers, XLSX, XLS) and the
landing zone's sample uploads.
"""

from __future__ import annotations

import json
import os

from support import warm_sgs
from support.validate_cases import (
    GOLDEN,
    RECEIVED,
    ROOT,
    TODAY,
    build,
    digest,
    landed_uploads,
    landing_zone,
    store_digest,
)  # fmt: skip


def test_validate_json_is_byte_identical_to_before(tmp_path):
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))
    sgs = [str(ROOT / ".venv" / "bin" / "sgs")]
    now = {}
    for path in build(tmp_path, sgs):
        run = warm_sgs.run(["validate", path.name, "--json", "--received", RECEIVED],
                           cwd=tmp_path, text=False, timeout=120)  # fmt: skip
        assert run.returncode == 1, run.stderr  # every sample has defects
        now[path.name] = digest(run.stdout)
    for rel in landed_uploads():
        run = warm_sgs.run(["validate", str(rel), "--json", "--received", RECEIVED],
                           cwd=ROOT, text=False, timeout=120)  # fmt: skip
        now[rel.as_posix()] = digest(run.stdout)
    assert now == {k: v for k, v in pinned.items() if k != "store"}


def test_the_store_of_an_ingest_is_what_it_was_before(tmp_path):
    """The same landing zone ingested in one run gives the store the code before the intake
    stage gave, row for row in every table (but for the moments of ingest)."""
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8"))["store"]
    samples = build(tmp_path / "samples", [str(ROOT / ".venv" / "bin" / "sgs")])
    root = tmp_path / "store"
    raw = landing_zone(root, samples)
    env = {**os.environ, "SGS_DATA_DIR": str(root), "SGS_TODAY": TODAY}
    run = warm_sgs.run(["ingest", str(raw)], env=env, cwd=tmp_path, timeout=300)
    assert run.returncode in (0, 1), run.stderr
    assert store_digest(root) == pinned
