"""What ``SGS_STORE`` and ``SGS_LAKE_DATA`` say, and the masking of passwords, without a server
(the lake itself: tests/test_lake.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support import warm_sgs

from sgs.store.lake import Lake, configured, mask


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("host=db password=s3cret dbname=sgs", "host=db password=*** dbname=sgs"),
        ("host=db PASSWORD = s3cret", "host=db PASSWORD = ***"),
        ("host=db password='two words' user=x", "host=db password=*** user=x"),
        ("postgresql://sgs:s3cret@db:5432/sgs", "postgresql://sgs:***@db:5432/sgs"),
        ("postgres://sgs:p%40ss@db/sgs", "postgres://sgs:***@db/sgs"),
        ("host=db user=sgs dbname=sgs", "host=db user=sgs dbname=sgs"),  # nothing to mask
        ("postgresql://sgs@db/sgs", "postgresql://sgs@db/sgs"),
    ],
)
def test_every_form_of_password_is_masked(text: str, shown: str) -> None:
    assert mask(text) == shown
    assert mask("ducklake:postgres:" + text) == "ducklake:postgres:" + shown


def test_the_store_is_the_file_unless_sgs_store_names_a_lake(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("SGS_STORE", raising=False)
    assert configured(tmp_path) is None
    monkeypatch.setenv("SGS_STORE", "DuckDB")
    assert configured(tmp_path) is None
    monkeypatch.setenv("SGS_STORE", "ducklake:postgres:host=db dbname=sgs")
    monkeypatch.delenv("SGS_LAKE_DATA", raising=False)
    assert configured(tmp_path) == Lake("host=db dbname=sgs", (tmp_path / "lake").resolve())
    monkeypatch.setenv("SGS_LAKE_DATA", str(tmp_path / "share"))
    assert configured(tmp_path).data_path == (tmp_path / "share").resolve()


def test_a_store_sgs_cannot_read_is_said_in_chinese_with_the_password_masked(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(tmp_path), "SGS_STORE": "postgres:host=db password=Geheim-1"}
    run = warm_sgs.run(["rates", "--period", "2026-10"], env=env, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "SGS_STORE 应为 duckdb 或 ducklake:postgres:" in run.stderr
    assert "Geheim-1" not in run.stderr and "password=***" in run.stderr
    assert "Traceback" not in run.stderr
    assert not Path(tmp_path, "curated").exists()
