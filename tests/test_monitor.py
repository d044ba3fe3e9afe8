"""Which months the daily monitor recomputes after a day's ingests (real store, no Prefect)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sgs.jobs.daily import affected_periods
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store.ingest import ingest_file, ingest_ledger

UNIT = "111404000448224608"  # 长治市行政审批服务管理局


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SGS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SGS_UNITS_FILE", raising=False)
    return tmp_path / "data"


def test_months_are_upload_months_and_months_of_ledgers_listing_the_records(root, tmp_path):
    """A ledger of 2026-08 lists doc 501: a record of it received in October can change
    August's completeness.  Doc 502 (decided in 2027 by mistake) is in no ledger: no rates of
    2027-01 are computed for it, and September (its other record's decision month, no ledger)
    is not touched either."""
    ledger = tmp_path / "台账.csv"
    ledger.write_text(
        "序号,类别,决定文书号,行政相对人名称,行政相对人代码,决定日期\n"
        "1,行政许可,长审批〔2026〕501号,某公司,,2026-08-28\n",
        encoding="utf-8",
    )
    ingest_ledger(ledger, unit=UNIT, period="2026-08", received=date(2026, 9, 3))

    frame = generate("permit", 3, seed=5, unit=UNIT).frame.with_columns(
        pl.Series("XK_WSH", ["长审批[2026]501号", "长审批〔2026〕502号", "长审批〔2026〕503号"]),
        pl.Series("XK_JDRQ", ["2026-08-28", "2027-01-05", "2026-09-30"]),
    )
    path = write_upload(frame, root / "raw" / UNIT / "2026-10-12" / "许可.csv")
    result = ingest_file(path)
    assert result.status == "stored"
    assert affected_periods([result]) == ["2026-08", "2026-10"]

    again = ingest_ledger(ledger, unit=UNIT, period="2026-09", received=date(2026, 10, 13))
    assert "2026-09" in affected_periods([again])
