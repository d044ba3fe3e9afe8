"""The validator finds exactly the defects the sample generator injected: nothing missed, nothing extra.

The generator records every defect it injects as (data row, field, rule, severity); clean rows
are clean by construction.  This checks the validator against that oracle end to end, through
real files, for both kinds, several seeds and every upload format.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.validate.pipeline import validate_file

KEY = ["row", "field", "rule", "severity"]


def expected(defects: pl.DataFrame, first_data_row: int) -> set[tuple]:
    rows = defects.with_columns((pl.col("row_index") + first_data_row).alias("row"))
    return set(rows.select(KEY).iter_rows())


@pytest.mark.parametrize(
    ("kind", "seed", "rate", "suffix", "encoding", "title"),
    [
        ("permit", 1, 0.3, ".csv", "utf-8", None),
        ("permit", 2, 1.0, ".xlsx", "utf-8", "长治市行政许可信息"),
        ("permit", 3, 0.0, ".csv", "gbk", "标题"),
        ("penalty", 4, 0.3, ".csv", "utf-8-sig", None),
        ("penalty", 5, 1.0, ".xls", "utf-8", None),
        ("penalty", 6, 0.5, ".csv", "gb18030", "长治市行政处罚信息"),
    ],
)
def test_validator_finds_exactly_the_injected_defects(
    kind, seed, rate, suffix, encoding, title, tmp_path
):
    sample = generate(kind, 120, seed=seed, defect_rate=rate)
    path = write_upload(sample.frame, tmp_path / f"upload{suffix}", encoding=encoding, title=title)
    result = validate_file(path, received=sample.received)
    found = set(result.errors.select(KEY).iter_rows())
    assert found == expected(sample.defects, result.upload.header_row + 1)
    assert result.rows == 120


def _committed_samples() -> list[Path]:
    """The bundled uploads (the landing zone also holds README.md and ledgers, 台账)."""
    return sorted(
        p
        for p in (PROJECT_ROOT / "data" / "raw").rglob("*")
        if p.is_file() and p.suffix != ".md" and "台账" not in p.name
    )


def test_committed_samples_are_listed_in_the_oracle():
    oracle = pl.read_csv(PROJECT_ROOT / "tests" / "fixtures" / "raw_samples_defects.csv")
    listed = set(oracle["path"])
    assert listed <= {str(p.relative_to(PROJECT_ROOT)) for p in _committed_samples()}
    assert len(_committed_samples()) >= 4


@pytest.mark.parametrize(
    "path", _committed_samples(), ids=lambda p: str(p.relative_to(PROJECT_ROOT / "data" / "raw"))
)
def test_committed_sample_uploads_through_the_cli(path):
    """``sgs validate`` on each bundled upload: the oracle's findings, the right exit code."""
    oracle = pl.read_csv(PROJECT_ROOT / "tests" / "fixtures" / "raw_samples_defects.csv")
    mine = oracle.filter(pl.col("path") == str(path.relative_to(PROJECT_ROOT)))
    received = path.parent.name  # the landing folder's date is the received date
    run = warm_sgs.run(["validate", str(path), "--json", "--received", received])
    report = json.loads(run.stdout)
    found = {(e["row"], e["field"], e["rule"], e["severity"]) for e in report["errors"]}
    assert found == expected(mine, report["header_row"] + 1)
    has_errors = (mine["severity"] == "error").any()
    assert run.returncode == (1 if has_errors else 0)
