"""A record is unit + kind + 文书号: corrections of any field are versions, not new records.

Each case lands real upload files for one unit, ingests them with ``sgs ingest`` and reads the
month's figures with ``sgs rates --json`` and the open problems from the feedback list
``sgs feedback`` writes — the way the office sees them.  The expected figures are worked out by
hand in each case's comment (docs/policy.md section 5 states the rules).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import openpyxl
from support import warm_sgs
from support.rates_builders import UNIT_A, Row, company, land

from sgs.config import PROJECT_ROOT

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")

D1, D2, D3 = "长审批许〔2026〕1号", "长审批许〔2026〕2号", "长审批许〔2026〕3号"
DECIDED = "2026/11/02"  # a Monday; the 7th workday after it is 2026-11-11


def wrong_code(i: int) -> str:
    """Subject ``i``'s credit code with a wrong check character (a ``uscc_check`` error)."""
    code = company(i)[1]
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def sgs(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(root), "SGS_TODAY": "2026-12-31"}
    env.pop("SGS_UNITS_FILE", None)
    return warm_sgs.run([*args], env=env, timeout=120)


def ingest(root: Path) -> None:
    run = sgs(root, "ingest", str(root / "raw"))
    assert run.returncode == 0, run.stdout + run.stderr


def permit_rates(root: Path, period: str = "2026-11") -> dict:
    run = sgs(root, "rates", "--period", period, "--unit", UNIT_A, "--kind", "permit", "--json")
    assert run.returncode == 0, run.stderr
    (row,) = json.loads(run.stdout)
    return row


def open_problems(root: Path, as_of: str = "2026-12-31") -> list[tuple[str, str]]:
    """(字段代码, 原始值) of every open problem in the unit's feedback list."""
    out = root / "反馈清单.xlsx"
    run = sgs(root, "feedback", "--unit", UNIT_A, "--out", str(out), "--as-of", as_of)
    assert run.returncode == 0, run.stderr
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "类别")
    col = rows[header].index("字段代码")
    value = rows[header].index("原始值")
    return sorted((r[col], r[value]) for r in rows[header + 1 :] if r and r[col])


def records(root: Path) -> list[tuple[str, int]]:
    """(文书号, versions) of every stored permit record."""
    db = root / "curated" / "sgs.duckdb"
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT any_value(XK_WSH), count(*) FROM permits GROUP BY record_key ORDER BY 1, 2"
        ).fetchall()


def test_a_corrected_credit_code_is_a_version_and_closes_its_problem(tmp_path):
    # 11-03: one record with a wrong code (invalid); 11-05: the same decision, code corrected.
    # One record (2 versions): uploaded 1, compliant 0 (the first version counts), no open problem.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5, code=wrong_code(5)),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [Row(D1, DECIDED, subject=5)])
    ingest(tmp_path)
    assert records(tmp_path) == [(D1, 2)]
    row = permit_rates(tmp_path)
    assert (row["uploaded"], row["timely"], row["compliant"]) == (1, 1, 0)
    assert open_problems(tmp_path) == []


def test_a_corrected_name_or_date_is_a_version(tmp_path):
    # The name changes (same code), then the decision date: one record, three versions.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [Row(D1, DECIDED, subject=5)])
    land(tmp_path, UNIT_A, "2026-11-04", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5, name="长治市更正后名称有限公司"),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [
        Row(D1, "2026/11/03", subject=5, name="长治市更正后名称有限公司"),
    ])  # fmt: skip
    ingest(tmp_path)
    assert records(tmp_path) == [(D1, 3)]
    assert permit_rates(tmp_path)["uploaded"] == 1


def test_a_single_record_corrected_in_both_name_and_code_is_still_one_record(tmp_path):
    # The decision has one subject in the store and one in the new file: whatever changed, it is
    # the same decision (docs/policy.md: the 文书号 identifies the record).
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [Row(D1, DECIDED, subject=5)])
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [Row(D1, DECIDED, subject=6)])
    ingest(tmp_path)
    assert records(tmp_path) == [(D1, 2)]
    assert permit_rates(tmp_path)["uploaded"] == 1


def test_a_joint_decision_keeps_its_subjects_apart(tmp_path):
    # 11-03: D1 covers subjects 5 and 6 (two records); 6's code is wrong.
    # 11-05: 6 corrected (same name, new code) → matched by name; 7 is a third subject → new.
    # 11-06: 5 sent again with a new name but its code → matched by code.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5),
        Row(D1, DECIDED, subject=6, code=wrong_code(6)),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=6),
        Row(D1, DECIDED, subject=7),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-06", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5, name="长治市改名后的第五公司"),
    ])  # fmt: skip
    ingest(tmp_path)
    assert records(tmp_path) == [(D1, 1), (D1, 2), (D1, 2)]
    row = permit_rates(tmp_path)
    assert (row["uploaded"], row["compliant"]) == (3, 2)
    assert open_problems(tmp_path) == []


def test_a_joint_decision_row_matching_no_subject_is_a_new_record(tmp_path):
    # Two stored subjects of D1; the new file names a third one for D1 alone: a new record,
    # since neither its code nor its name is one of theirs.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5),
        Row(D1, DECIDED, subject=6),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [Row(D1, DECIDED, subject=8)])
    ingest(tmp_path)
    assert records(tmp_path) == [(D1, 1), (D1, 1), (D1, 1)]
    assert permit_rates(tmp_path)["uploaded"] == 3


def test_code_match_wins_over_name_match(tmp_path):
    # Stored: D1 for subjects 5 and 6.  New file: one row with 6's name but 5's code: the code
    # decides, so it continues subject 5's record.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5),
        Row(D1, DECIDED, subject=6),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5, name=company(6)[0]),
    ])  # fmt: skip
    ingest(tmp_path)
    with duckdb.connect(str(tmp_path / "curated" / "sgs.duckdb"), read_only=True) as con:
        versions = con.execute(
            "SELECT XK_XDR_SHXYM, count(*) OVER (PARTITION BY record_key) FROM permits"
            " ORDER BY record_id"
        ).fetchall()
    code5, code6 = company(5)[1], company(6)[1]
    assert versions == [(code5, 2), (code6, 1), (code5, 2)]


def test_problems_close_across_any_field_change(tmp_path):
    # 11-03: D2 with a blank 许可机关 (required) and a wrong code; 11-05: both fixed and the date
    # changed too; D3 stays broken.  Open: only D3's 许可机关.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D2, DECIDED, subject=5, code=wrong_code(5), broken=True),
        Row(D3, DECIDED, subject=6, broken=True),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [
        Row(D2, "2026/11/01", subject=5),
    ])  # fmt: skip
    ingest(tmp_path)
    assert open_problems(tmp_path) == [("XK_XKJG", None)]
    row = permit_rates(tmp_path)
    assert (row["uploaded"], row["compliant"]) == (2, 0)


def test_out_of_order_arrival_gives_the_same_records(tmp_path):
    # The correction (received 11-05) is ingested before the original (11-03): the original is
    # still the first version, and counts.
    late = tmp_path / "later"
    land(late, UNIT_A, "2026-11-05", "许可.csv", "permit", [Row(D1, DECIDED, subject=5)])
    first = land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5, code=wrong_code(5)),
    ])  # fmt: skip
    run = sgs(tmp_path, "ingest", str(next((late / "raw").rglob("*.csv"))), "--unit", UNIT_A,
              "--received", "2026-11-05")  # fmt: skip
    assert run.returncode == 0, run.stderr
    run = sgs(tmp_path, "ingest", str(first))
    assert run.returncode == 0, run.stderr
    assert records(tmp_path) == [(D1, 2)]
    row = permit_rates(tmp_path)
    assert (row["uploaded"], row["compliant"]) == (1, 0)
    assert open_problems(tmp_path) == []


def test_a_store_keyed_by_the_old_rules_is_keyed_again_on_the_next_write(tmp_path):
    # A store as the old rules left it: the corrected code made a second record.
    land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
        Row(D1, DECIDED, subject=5, code=wrong_code(5)),
        Row(D2, DECIDED, subject=6),
    ])  # fmt: skip
    land(tmp_path, UNIT_A, "2026-11-05", "许可.csv", "permit", [Row(D1, DECIDED, subject=5)])
    ingest(tmp_path)
    db = str(tmp_path / "curated" / "sgs.duckdb")
    with duckdb.connect(db) as con:
        con.execute("UPDATE permits SET record_key = 'permit|' || unit_code || '|' || doc_key"
                    " || '|' || subject_key")  # fmt: skip
        con.execute("DELETE FROM meta WHERE key IN ('schema', 'record_identity')")
    assert permit_rates(tmp_path)["uploaded"] == 3
    assert open_problems(tmp_path) == [("XK_XDR_SHXYM", wrong_code(5))]
    # The next write (any new file) keys the store again: one record for D1, its problem closed.
    land(tmp_path, UNIT_A, "2026-11-06", "许可.csv", "permit", [Row(D3, DECIDED, subject=7)])
    ingest(tmp_path)
    assert records(tmp_path) == [(D1, 2), (D2, 1), (D3, 1)]
    assert permit_rates(tmp_path)["uploaded"] == 3
    assert open_problems(tmp_path) == []
