"""A kind of record named in Chinese (issue 21): 许可/行政许可, 处罚/行政处罚, 台账 are taken
wherever a command asks for a kind, and do what the codes permit/penalty/ledger do.

Each command is run through the installed ``sgs`` twice, once with the code and once with a
Chinese name, and the two runs must agree: the same output, the same files, the same exit
status; the JSON still says ``permit``.  What a wrong name gets is in tests/test_cli_usage.py.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_cli_kinds")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
LUZHOU = "11140403MB6028813E"  # 长治市潞州区人民政府
# Every name with its code; the commands below share one conversion, so each takes a few.
BY_NAME = [("permit", "许可"), ("permit", "行政许可"), ("penalty", "处罚"), ("penalty", "行政处罚")]
SHORT_AND_FULL = [("permit", "许可"), ("penalty", "行政处罚")]
FULL_AND_SHORT = [("permit", "行政许可"), ("penalty", "处罚")]


def sgs(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env["SGS_DATA_DIR"] = str(cwd / "data")
    return warm_sgs.run([*args], env=env, cwd=cwd, timeout=120)


def cells(path: Path) -> list[list[tuple]]:
    book = openpyxl.load_workbook(path)
    return [list(ws.iter_rows(values_only=True)) for ws in book.worksheets]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A store holding six permits of 长治市潞州区人民政府, received 2025-02-05."""
    cwd = tmp_path_factory.mktemp("kinds")
    made = sgs("sample", "permit", "6", "--out", "p.csv", "--unit", LUZHOU, "--start",
               "2025-01-01", "--end", "2025-01-31", cwd=cwd)  # fmt: skip
    assert made.returncode == 0, made.stderr
    done = sgs("ingest", "p.csv", "--unit", LUZHOU, "--received", "2025-02-05", "--kind", "许可",
               "--json", cwd=cwd)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "permit"
    return cwd


@pytest.mark.parametrize(("code", "name"), SHORT_AND_FULL)
def test_sample_takes_a_chinese_kind(tmp_path, code, name):
    by_code = sgs("sample", code, "4", "--out", "a.csv", "--seed", "7", cwd=tmp_path)
    by_name = sgs("sample", name, "4", "--out", "b.csv", "--seed", "7", cwd=tmp_path)
    assert by_code.returncode == by_name.returncode == 0, by_name.stderr
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize(("code", "name"), [*FULL_AND_SHORT, ("ledger", "台账")])
def test_template_takes_a_chinese_kind(tmp_path, code, name):
    by_code = sgs("template", code, "--out", "a.xlsx", cwd=tmp_path)
    by_name = sgs("template", name, "--out", "b.xlsx", cwd=tmp_path)
    assert by_code.returncode == by_name.returncode == 0, by_name.stderr
    assert cells(tmp_path / "a.xlsx") == cells(tmp_path / "b.xlsx")


@pytest.mark.parametrize(("code", "name"), FULL_AND_SHORT)
def test_standard_takes_a_chinese_kind(tmp_path, code, name):
    by_code = sgs("standard", "--kind", code, cwd=tmp_path)
    by_name = sgs("standard", "--kind", name, cwd=tmp_path)
    assert by_code.returncode == by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == by_code.stdout


def test_ingest_takes_a_chinese_kind(store):
    # the fixture stored the file with --kind 许可; the same file again, as 行政许可
    again = sgs("ingest", "p.csv", "--unit", LUZHOU, "--received", "2025-02-05", "--kind",
                "行政许可", "--json", cwd=store)  # fmt: skip
    assert again.returncode == 0, again.stderr
    found = json.loads(again.stdout)
    assert (found["status"], found["kind"]) == ("skipped", "permit")


@pytest.mark.parametrize(("code", "name"), BY_NAME)
def test_validate_takes_a_chinese_kind_and_its_json_keeps_the_code(store, code, name):
    by_code = sgs("validate", "p.csv", "--kind", code, "--json", cwd=store)
    by_name = sgs("validate", "p.csv", "--kind", name, "--json", cwd=store)
    # a permit file checked as a permit passes; checked as a penalty it is refused
    assert by_code.returncode == by_name.returncode == (0 if code == "permit" else 2)
    assert (by_name.stdout, by_name.stderr) == (by_code.stdout, by_code.stderr)
    assert json.loads(by_name.stdout)["kind"] == code


@pytest.mark.parametrize(("code", "name"), SHORT_AND_FULL)
def test_rates_take_a_chinese_kind(store, code, name):
    by_code = sgs("rates", "--period", "2025-02", "--kind", code, "--json", cwd=store)
    by_name = sgs("rates", "--period", "2025-02", "--kind", name, "--json", cwd=store)
    assert by_code.returncode == by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == by_code.stdout
    rows = json.loads(by_name.stdout)
    assert rows and {r["kind"] for r in rows} == {code}
    uploaded = sum(r["uploaded"] for r in rows)
    assert uploaded == (6 if code == "permit" else 0)
