"""The hand-made world of the points tests (tests/test_points.py): a small units file, an events
file and a data store, every figure of which is worked out by hand in test_points.py.

Units (codes are valid USCCs made here, not the city's):

- four city departments (市直部门): DEPT_A works well, DEPT_B is late here and there, DEPT_C
  sends zero-increment reports, DEPT_D does nothing at all;
- two counties/districts (县区, type ``county``): COUNTY_X, COUNTY_Y;
- one development zone (type ``zone``, ranked with the 县区): ZONE_Z.

Upload rows and ledgers come from :mod:`rates_builders` (one fully valid generated record per
unit with 文书号, decision date and subject overwritten; ``broken`` blanks 许可机关 / 处罚机关,
which is exactly one error).  Every received date is given explicitly.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sgs.store.ingest import ingest_file, ingest_ledger
from sgs.validate.identifiers import is_valid_uscc, org_check_char, uscc_check_char
from support.rates_builders import PENALTY, PERMIT, Row, company, land, write_ledger


def unit_code(tag: str) -> str:
    """A government-agency USCC (登记管理部门 1, 机关 1, 长治 140400) with valid check characters."""
    body = f"PT{tag}00000"[:8]
    first17 = "11" + "140400" + body + org_check_char(body)
    code = first17 + uscc_check_char(first17)
    assert is_valid_uscc(code), code
    return code


DEPT_A = unit_code("A1")
DEPT_B = unit_code("B2")
DEPT_C = unit_code("C3")
DEPT_D = unit_code("D4")
COUNTY_X = unit_code("K5")
COUNTY_Y = unit_code("L6")
ZONE_Z = unit_code("M7")

UNITS = [
    (DEPT_A, "长治市行政审批服务管理局", "department"),
    (DEPT_B, "长治市市场监督管理局", "department"),
    (DEPT_C, "长治市生态环境局", "department"),
    (DEPT_D, "长治市交通运输局", "department"),
    (COUNTY_X, "襄垣县人民政府", "county"),
    (COUNTY_Y, "长治市潞州区人民政府", "county"),
    (ZONE_Z, "长治高新技术产业开发区管理委员会", "zone"),
]
NAMES = {code: name for code, name, _ in UNITS}
DEPARTMENTS = [DEPT_A, DEPT_B, DEPT_C, DEPT_D]
LOCALS = [COUNTY_X, COUNTY_Y, ZONE_Z]  # the 县区 group


def write_units(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "name", "type", "parent"])
        for code, name, kind in UNITS:
            w.writerow([code, name, kind, ""])
    return path


# (unit, type, date, due, count, note) — the reasoning for each score is in test_points.py.
EVENTS: list[tuple[str, str, str, str, str, str]] = [
    # ---- 2022-09: item 4 (tasks due in September) and item 10 (credit repairs) ------------
    (DEPT_A, "task", "2022-09-14", "2022-09-15", "", "early → 10"),
    (DEPT_A, "阶段性工作", "2022-10-10", "2022-09-29", "", "4 workdays late over National Day → 6"),
    (DEPT_A, "repair", "2022-09-05", "", "3", "a department: item 10 not assessed"),
    (DEPT_B, "task", "2022-09-09", "2022-09-09", "", "on the due date → 10"),
    (DEPT_B, "task", "2022-09-28", "2022-09-30", "", "early → 10"),
    (DEPT_D, "task", "", "2022-09-29", "", "never done"),
    (COUNTY_X, "task", "2022-10-14", "2022-09-29", "", "8 workdays late → 2"),
    (COUNTY_X, "repair", "2022-09-05", "", "10", ""),
    (COUNTY_X, "信用修复", "2022-09-20", "", "3", "13 in September → capped at 10"),
    (COUNTY_X, "repair", "2022-10-13", "", "2", "October"),
    (COUNTY_Y, "repair", "2022-09-21", "", "", "count empty = 1"),
    (COUNTY_Y, "repair", "2022-09-22", "", "2", ""),
    (ZONE_Z, "repair", "2022-09-23", "", "5", "a zone: item 10 not assessed"),
    # ---- 2023-01: items 1–3 (directory due Tue 01-10; plan and 双员 due Thu 01-05) --------
    (DEPT_A, "directory", "2023-01-10", "", "", "on the due date"),
    (DEPT_A, "plan", "2023-01-05", "", "", "on the due date"),
    (DEPT_A, "staff", "2023-01-03", "", "", "early"),
    (DEPT_B, "目录编制", "2023-01-28", "", "", "9 late over Spring Festival → 1"),
    (DEPT_B, "实施方案", "2023-01-19", "", "", "10 late → 0"),
    (DEPT_B, "双员", "2023-01-20", "", "", "11 late → 0"),
    (DEPT_C, "directory", "2023-01-09", "", "", ""),
    (DEPT_C, "plan", "2023-01-04", "", "", ""),
    (DEPT_C, "staff", "2023-01-04", "", "", ""),
    (COUNTY_X, "directory", "2023-01-29", "", "", "10 late (makeup Sunday) → 0"),
    (COUNTY_X, "plan", "2023-01-18", "", "", "9 late → 1"),
    (COUNTY_X, "staff", "", "", "", "never done"),
    (COUNTY_X, "repair", "2023-01-15", "", "4", ""),
    (COUNTY_Y, "directory", "2023-01-30", "", "", "11 late → 0"),
    (COUNTY_Y, "plan", "2023-01-06", "", "", "1 late → 9"),
    (COUNTY_Y, "staff", "2023-01-09", "", "", "2 late → 8"),
    (ZONE_Z, "directory", "2023-01-27", "", "", "on a holiday: 8 late → 2"),
    (ZONE_Z, "plan", "2023-01-05", "", "", ""),
    (ZONE_Z, "staff", "2023-01-05", "", "", ""),
    (ZONE_Z, "repair", "2023-01-10", "", "5", "a zone: not assessed"),
    # ---- 2023-02: tasks and repairs --------------------------------------------------------
    (DEPT_A, "task", "2023-02-10", "2023-02-10", "", "→ 10"),
    (DEPT_B, "task", "2023-02-13", "2023-02-10", "", "1 late → 9"),
    (DEPT_C, "task", "2023-02-13", "2023-02-10", "", "1 late → 9"),
    (COUNTY_X, "repair", "2023-02-01", "", "13", "→ capped at 10"),
    (COUNTY_Y, "repair", "2023-02-15", "", "5", ""),
    # ---- year-end items 11–13 of 2023 (and one of 2022 that must not count in 2023) -------
    (DEPT_A, "cooperation", "2023-02-20", "", "", ""),
    (DEPT_A, "配合评估", "2023-02-21", "", "", "listed twice: still 10"),
    (DEPT_A, "media", "2023-01-16", "", "7", ""),
    (DEPT_A, "宣传报道", "2023-02-16", "", "8", "15 in all: no cap"),
    (DEPT_A, "summary", "2023-02-24", "", "", ""),
    (DEPT_B, "media", "2023-02-17", "", "2", ""),
    (DEPT_B, "年度总结", "2022-12-20", "", "", "a 2022 event"),
    (DEPT_C, "summary", "2023-01-20", "2022-12-31", "", "2022's summary, handed in in 2023"),
    (DEPT_D, "cooperation", "2023-02-01", "", "", ""),
    (DEPT_D, "summary", "2023-02-02", "", "", ""),
    (DEPT_D, "media", "2023-02-03", "", "50", ""),
    (COUNTY_X, "summary", "2023-02-27", "", "", ""),
    (ZONE_Z, "cooperation", "2023-02-22", "", "", ""),
    # ---- 2026-01: the directory due date Sat 2026-01-10 is not a workday ------------------
    (DEPT_A, "directory", "2026-01-11", "", "", "Sun after a Saturday due date: 0 late"),
    (DEPT_B, "directory", "2026-01-12", "", "", "Mon: 1 late"),
]


def write_events(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unit", "type", "date", "due", "count", "note"])
        w.writerows(EVENTS)
    return path


def permit_no(unit: str, n: int) -> str:
    return f"长测许〔2022〕{unit[-4:]}{n:03d}号"


def penalty_no(unit: str, n: int) -> str:
    return f"长测罚〔2022〕{unit[-4:]}{n:03d}号"


def _upload(root: Path, unit: str, received: date, kind: str, rows: list[Row], errors: int) -> None:
    name = ("许可_" if kind == "permit" else "处罚_") + f"{received.isoformat()}.csv"
    path = land(root, unit, received.isoformat(), name, kind, rows)
    result = ingest_file(path, unit=unit, received=received, root=root)
    assert result.status == "stored", result.message
    assert result.errors == errors, (path, result.message)


def _ledger(root: Path, unit: str, period: str, received: date, name: str, rows: list) -> None:
    path = write_ledger(root.parent / "ledgers" / name, rows)
    result = ingest_ledger(path, unit=unit, period=period, received=received, root=root)
    assert result.status == "stored", result.message
    assert result.errors == 0, result.message


def _zero(root: Path, unit: str, period: str, received: date) -> None:
    result = ingest_ledger(None, unit=unit, period=period, received=received, zero=True, root=root)
    assert result.status == "stored", result.message


def build_store(root: Path) -> None:
    """Uploads and ledgers of 2022-09 (and the zero reports of 2023-01); see test_points.py."""
    a, b, x = DEPT_A, DEPT_B, COUNTY_X
    d = date
    # ---- DEPT_A, uploaded in 2022-09: 3 permits, 1 penalty ---------------------------------
    _upload(root, a, d(2022, 9, 5), "permit", [
        Row(permit_no(a, 1), "2022/09/01", subject=101),   # A1 timely, valid
        Row(permit_no(a, 2), "2022/09/02", subject=102),   # A2 timely, valid
    ], errors=0)  # fmt: skip
    _upload(root, a, d(2022, 9, 14), "permit", [
        Row(permit_no(a, 3), "2022/09/01", subject=103),   # A3 late (deadline 09-13), valid
    ], errors=0)  # fmt: skip
    _upload(root, a, d(2022, 9, 26), "penalty", [
        Row(penalty_no(a, 4), "2022/09/20", subject=104, broken=True),  # A4 timely, invalid
    ], errors=1)  # fmt: skip
    _upload(root, a, d(2022, 10, 10), "penalty", [
        Row(penalty_no(a, 4), "2022/09/20", subject=104),  # A4 corrected on Mon 10-10
    ], errors=0)  # fmt: skip
    # The September ledger: first sent on the due date Mon 10-10 (2 entries), re-sent complete
    # on 10-20 (the current one: 5 entries, A5 never uploaded).
    n = company
    _ledger(root, a, "2022-09", d(2022, 10, 10), "A_2022-09_v1.csv", [
        ["1", PERMIT, permit_no(a, 1), *n(101), "2022-09-01"],
        ["2", PERMIT, permit_no(a, 2), *n(102), "2022-09-02"],
    ])  # fmt: skip
    _ledger(root, a, "2022-09", d(2022, 10, 20), "A_2022-09_v2.csv", [
        ["1", PERMIT, permit_no(a, 1), *n(101), "2022-09-01"],
        ["2", PERMIT, permit_no(a, 2), *n(102), "2022-09-02"],
        ["3", PERMIT, permit_no(a, 3), *n(103), "2022-09-01"],
        ["4", PENALTY, penalty_no(a, 4), *n(104), "2022-09-20"],
        ["5", PERMIT, permit_no(a, 5), *n(105), "2022-09-23"],  # never uploaded
    ])  # fmt: skip
    # ---- DEPT_B, uploaded in 2022-09: 2 permits of August decisions, 1 penalty -------------
    _upload(root, b, d(2022, 9, 1), "permit", [
        Row(permit_no(b, 1), "2022/08/31", subject=201),                # B1 timely, valid
        Row(permit_no(b, 2), "2022/08/30", subject=202, broken=True),   # B2 timely, invalid
    ], errors=1)  # fmt: skip
    _upload(root, b, d(2022, 9, 8), "permit", [
        Row(permit_no(b, 2), "2022/08/30", subject=202),   # B2 corrected Thu 09-08
    ], errors=0)  # fmt: skip
    _upload(root, b, d(2022, 9, 27), "penalty", [
        Row(penalty_no(b, 3), "2022/09/27", subject=203, broken=True),  # B3 never corrected
    ], errors=1)  # fmt: skip
    _ledger(root, b, "2022-09", d(2022, 10, 12), "B_2022-09.csv", [
        ["1", PENALTY, penalty_no(b, 3), *n(203), "2022-09-27"],
    ])  # fmt: skip
    # ---- DEPT_C: a zero-increment report for 2022-09 on the makeup Sunday 10-09 -------------
    _zero(root, DEPT_C, "2022-09", d(2022, 10, 9))
    # ---- COUNTY_X: one late permit in 2022-09, no ledger ----------------------------------
    _upload(root, x, d(2022, 9, 30), "permit", [
        Row(permit_no(x, 1), "2022/09/16", subject=501),   # X1 late (deadline 09-27), valid
    ], errors=0)  # fmt: skip
    # ---- COUNTY_Y: a ledger of one entry never uploaded, on Fri 10-21 ---------------------
    _ledger(root, COUNTY_Y, "2022-09", d(2022, 10, 21), "Y_2022-09.csv", [
        ["1", PERMIT, permit_no(COUNTY_Y, 1), *n(601), "2022-09-15"],
    ])  # fmt: skip
    # ---- ZONE_Z: a zero-increment report on Mon 10-24 ------------------------------------
    _zero(root, ZONE_Z, "2022-09", d(2022, 10, 24))
    # ---- 2023-01 zero-increment reports (due Fri 2023-02-03) -------------------------------
    _zero(root, DEPT_A, "2023-01", d(2023, 2, 3))
    _zero(root, DEPT_C, "2023-01", d(2023, 2, 1))
    _zero(root, COUNTY_X, "2023-01", d(2023, 2, 6))
