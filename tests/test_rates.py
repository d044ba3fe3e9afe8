"""The three rates (POLICY.md) on hand-built scenarios, every figure worked out by hand.

Definitions under test (POLICY.md "The three rates" and the documented choices of sgs.measure.rates):

- timeliness and compliance belong to the month of *upload*; the denominator ``uploaded`` counts
  the records whose first version was received in the month.  A re-submission (same kind,
  normalised 文书号 and subject) never counts again and never changes the first verdict;
- timely ⇔ received ≤ the 7th workday strictly after the decision date; an unreadable decision
  date is late; received on the decision date is timely, before it late (issue 18); a needed date outside the
  calendar makes the record *undecided* (out of the denominator, ``calendar_gap``);
- completeness belongs to the month of the *ledger*: entries of the unit's current ledger,
  matched on kind + normalised 文书号 against any stored record of the unit (subject too when
  the number alone is ambiguous and the entry gives a code);
- an empty denominator gives a null rate, never 0 or 1.

Workday facts used below (mainland China, State Council notices; chinesecalendar):
- 2022 Spring Festival: holiday Mon 01-31 .. Sun 02-06, makeup workdays Sat 01-29 and Sun 01-30.
- 2022 Labour Day: holiday Sat 04-30 .. Wed 05-04, makeup workdays Sun 04-24 and Sat 05-07.
- 2023 Mid-Autumn + National Day: holiday Fri 09-29 .. Fri 10-06, makeup Sat 10-07, Sun 10-08.
- 2024 Spring Festival: holiday Sat 02-10 .. Sat 02-17, makeup Sun 02-04 and Sun 02-18.
- 2025 National Day + Mid-Autumn: holiday Wed 10-01 .. Wed 10-08, makeup Sun 09-28, Sat 10-11.
- 2026 Spring Festival: holiday Sun 02-15 .. Mon 02-23, makeup Sat 02-14 and Sat 02-28.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support import warm_sgs
from support.holidays_2027 import TEST_2027
from support.rates_builders import (
    NAME_A,
    PENALTY,
    PERMIT,
    UNIT_A,
    UNIT_B,
    UNIT_C,
    UNIT_D,
    Row,
    company,
    db_fingerprint,
    land,
    shared_build,
    write_ledger,
)

from sgs.config import PROJECT_ROOT
from sgs.errors import PeriodError
from sgs.measure.rates import details, rates
from sgs.reference import calendar as workdays
from sgs.reference.units import load_units
from sgs.store import database
from sgs.store.ingest import ingest_file, ingest_ledger

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
N_UNITS = load_units().height

RATE_KEYS = {
    "unit_code", "unit_name", "kind", "period", "uploaded", "timely", "compliant",
    "timeliness_rate", "compliance_rate", "ledger_entries", "ledger_matched",
    "completeness_rate", "timeliness_undecided", "calendar_gap", "zero_report",
    "ledger_received",
}  # fmt: skip


def wsh(n: int, year: int = 2022) -> str:
    return f"长审批许〔{year}〕{n}号"


def ingest_all(paths: list[Path], failing: list[int]) -> None:
    """Ingest the files; each must be stored with the expected number of failing rows."""
    for path, expected in zip(paths, failing, strict=True):
        result = ingest_file(path)
        assert result.status == "stored", result.message
        assert result.rows_failing == expected, (path.name, result.message)


# ============================================================================ the shared world
#
# Unit A = 长治市行政审批服务管理局 uploads permits; unit B = 长治市市场监督管理局 permits and
# penalties; unit C = 长治市生态环境局 never sends anything; unit D = 长治市交通运输局 sends a
# zero-increment report.  The received date is the landing folder's date.


def build_world(root: Path) -> None:
    # ---- unit A, permits uploaded in 2022-02 (around the 2022 Spring Festival) -------------
    # Decision Fri 2022-01-28: workdays strictly after are Sat 01-29 (1, makeup), Sun 01-30
    # (2, makeup), [Mon 01-31 .. Sun 02-06 holiday], Mon 02-07 (3), 08 (4), 09 (5), 10 (6),
    # Fri 02-11 (7) → deadline Fri 2022-02-11.
    a1 = land(root, UNIT_A, "2022-02-11", "许可_0211.csv", "permit", [
        Row(wsh(101), "2022/01/28", subject=1),                 # P1 received 02-11: timely, valid
        Row(wsh(102), "2022/01/28", subject=2, broken=True),    # P2 timely, invalid (许可机关 blank)
        Row(wsh(103), "2022/02/30", subject=3),                 # P3 no such date: late, invalid
        Row(wsh(104), "2022年2月11日", subject=4),               # P4 received the decision day: timely
        Row(wsh(105), "2022/02/15", subject=5),                 # P5 received before the decision:
                                                                #    late; invalid (date_range)
        Row(wsh(101), "2022/01/28", subject=1),                 # P1 again in the same file: a
                                                                #    duplicate = version 2, not counted
    ])  # fmt: skip
    # Sat 2022-02-12 is after Fri 02-11 although no workday lies between them → late.
    a2 = land(root, UNIT_A, "2022-02-12", "许可_0212.csv", "permit", [
        Row(wsh(109), "2022/01/28", subject=9, broken=True),    # P9 late, invalid
    ])  # fmt: skip
    a3 = land(root, UNIT_A, "2022-02-14", "许可_0214.csv", "permit", [
        Row(wsh(107), "2022/01/28", subject=7),                 # P7 Mon 02-14 > Fri 02-11: late, valid
        # Decision Mon 2022-02-07: 08 (1), 09 (2), 10 (3), 11 (4), 14 (5), 15 (6), Wed 02-16 (7)
        # → received 02-14 timely.  文书号 with letters (matched case-insensitively below).
        Row("长审批许〔2022〕JY108号", "2022-02-07", subject=8),  # P8 timely, valid
    ])  # fmt: skip
    # ---- unit A, 2022-03: corrections of February records and one new record ---------------
    a4 = land(root, UNIT_A, "2022-03-10", "许可_更正.csv", "permit", [
        Row(wsh(107), "2022/01/28", subject=7),                 # P7 re-sent unchanged
        Row(wsh(102), "2022/01/28", subject=2),                 # P2 corrected (now valid)
        Row(wsh(103), "2022/02/08", subject=3),                 # P3 corrected (readable date)
        # P10 decision Tue 2022-03-01: 02 (1), 03 (2), 04 (3), 07 (4), 08 (5), 09 (6),
        # Thu 03-10 (7) → received 03-10 timely.
        Row(wsh(110), "2022/03/01", subject=10),
    ])  # fmt: skip
    # ---- unit A, 2024-02 (2024 Spring Festival; the deadline falls on a makeup Sunday) ------
    # Decision Fri 2024-02-02: Sun 02-04 (1, makeup), Mon 02-05 (2), 06 (3), 07 (4), 08 (5),
    # Fri 02-09 (6), [Sat 02-10 .. Sat 02-17 holiday], Sun 02-18 (7, makeup) → deadline Sun 02-18.
    a5 = land(root, UNIT_A, "2024-02-18", "许可.csv", "permit", [
        Row(wsh(1, 2024), "2024/02/02", subject=31),            # S1 received Sun 02-18: timely
    ])  # fmt: skip
    a6 = land(root, UNIT_A, "2024-02-19", "许可.csv", "permit", [
        Row(wsh(2, 2024), "2024/02/02", subject=32),            # S2 Mon 02-19: late
        # Decision Thu 2024-02-08: Fri 02-09 (1), [holiday], Sun 02-18 (2), Mon 02-19 (3),
        # 20 (4), 21 (5), 22 (6), Fri 02-23 (7) → received 02-19 timely.
        Row(wsh(3, 2024), "2024/02/08", subject=33),            # S3 timely
    ])  # fmt: skip
    # ---- unit A, 2025-10 (2025 National Day; the deadline falls on a makeup Saturday) ------
    # Decision Thu 2025-09-25: Fri 09-26 (1), Sun 09-28 (2, makeup), Mon 09-29 (3), Tue 09-30 (4),
    # [Wed 10-01 .. Wed 10-08 holiday], Thu 10-09 (5), Fri 10-10 (6), Sat 10-11 (7, makeup)
    # → deadline Sat 2025-10-11.
    a7 = land(root, UNIT_A, "2025-10-11", "许可.csv", "permit", [
        Row(wsh(1, 2025), "2025/09/25", subject=41),            # T1 received Sat 10-11: timely
    ])  # fmt: skip
    a8 = land(root, UNIT_A, "2025-10-12", "许可.csv", "permit", [
        Row(wsh(2, 2025), "2025/09/25", subject=42),            # T2 Sun 10-12 > Sat 10-11: late
    ])  # fmt: skip
    # ---- unit A, 2026-02 (2026 Spring Festival; received on a makeup Saturday) -------------
    # Decision Wed 2026-02-11: Thu 02-12 (1), Fri 02-13 (2), Sat 02-14 (3, makeup),
    # [Sun 02-15 .. Mon 02-23 holiday], Tue 02-24 (4), 25 (5), 26 (6), Fri 02-27 (7)
    # → deadline Fri 2026-02-27; Sat 02-28 is a workday, but the 8th.
    a9 = land(root, UNIT_A, "2026-02-27", "许可.csv", "permit", [
        Row(wsh(1, 2026), "2026/02/11", subject=51),            # U1 timely
    ])  # fmt: skip
    a10 = land(root, UNIT_A, "2026-02-28", "许可.csv", "permit", [
        Row(wsh(2, 2026), "2026/02/11", subject=52),            # U2 late
    ])  # fmt: skip
    # ---- unit B, permits uploaded in 2022-05 (2022 Labour Day): the ambiguity scenario -----
    # Decision Fri 2022-04-29: [Sat 04-30 .. Wed 05-04 holiday], Thu 05-05 (1), Fri 05-06 (2),
    # Sat 05-07 (3, makeup), Mon 05-09 (4), 10 (5), 11 (6), Thu 05-12 (7) → deadline 05-12.
    # Decision Thu 2022-04-28: Fri 04-29 (1), [holiday], 05-05 (2), 05-06 (3), 05-07 (4),
    # 05-09 (5), 05-10 (6), Wed 05-11 (7) → deadline 05-11.
    b1 = land(root, UNIT_B, "2022-05-12", "许可.csv", "permit", [
        Row("长市监许〔2022〕1号", "2022/04/29", subject=21),    # Q1 timely (deadline 05-12)
        Row("长市监许〔2022〕2号", "2022/04/28", subject=21),    # Q3 late (deadline 05-11)
    ])  # fmt: skip
    b2 = land(root, UNIT_B, "2022-05-13", "许可.csv", "permit", [
        # Q1 sent again (a version of Q1: same 文书号 and code) beside a second subject of the
        # same 文书号: another record (a joint decision), not a correction of Q1.
        Row("长市监许〔2022〕1号", "2022/04/29", subject=21),    # Q1 again: not counted again
        Row("长市监许〔2022〕1号", "2022/04/29", subject=22),    # Q2 late (deadline 05-12)
    ])  # fmt: skip
    # ---- unit B, penalties uploaded in 2023-10 (2023 Mid-Autumn + National Day) ------------
    # Decision Thu 2023-09-28: [Fri 09-29 .. Fri 10-06 holiday], Sat 10-07 (1, makeup),
    # Sun 10-08 (2, makeup), Mon 10-09 (3), 10 (4), 11 (5), 12 (6), Fri 10-13 (7) → 10-13.
    b3 = land(root, UNIT_B, "2023-10-13", "处罚.csv", "penalty", [
        Row("长市监罚〔2023〕501号", "2023/09/28", subject=61),  # R1 timely, valid
    ])  # fmt: skip
    b4 = land(root, UNIT_B, "2023-10-16", "处罚.csv", "penalty", [
        Row("长市监罚〔2023〕502号", "2023/09/28", subject=62, broken=True),  # R2 late, invalid
        # Decision Mon 2023-10-09: 10 (1), 11 (2), 12 (3), 13 (4), Mon 10-16 (5), 17 (6),
        # Wed 10-18 (7) → received 10-16 timely.
        Row("长市监罚〔2023〕503号", "2023/10/09", subject=63, broken=True),  # R3 timely, invalid
    ])  # fmt: skip
    ingest_all(
        [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, b1, b2, b3, b4],
        # failing rows per file: a1 = P2, P3, P5 and the duplicate row; a2 = P9; b4 = R2, R3
        [4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
    )

    # ---- ledgers ----------------------------------------------------------------------------
    led = root.parent / "ledgers"
    n = company
    # Unit A, January 2022: 6 permit entries, 1 penalty entry.
    write_ledger(led / "A_2022-01.csv", [
        ["1", PERMIT, "长审批许[2022]101号", *n(1), "2022-01-28"],        # P1: [] vs 〔〕 → matched
        ["2", PERMIT, "长审批许（2022）102号", *n(2), "2022-01-28"],      # P2 (its first version
                                                                          #   is invalid) → matched
        ["3", PERMIT, "长审批许【２０２２】１０７号", *n(7), "2022-01-28"],  # P7: 【】, full width
        ["4", PERMIT, "长审批许 〔2022〕\u3000109 号", n(9)[0], None, "2022-01-28"],  # P9: blanks
        ["5", PERMIT, "长审批许〔2022〕199号", *n(99), "2022-01-20"],     # never uploaded → missing
        ["6", PERMIT, "长市监许〔2022〕2号", *n(21), "2022-01-21"],       # unit B's number → missing
        ["7", PENALTY, "长审批罚〔2022〕1号", *n(98), "2022-01-25"],      # no penalty at all → missing
    ])  # fmt: skip
    ingest_ledger(led / "A_2022-01.csv", unit=UNIT_A, period="2022-01", received=date(2022, 2, 8))
    # Unit A, February 2022: sent on 03-02, re-sent corrected on 03-04 (the current one).
    write_ledger(led / "A_2022-02_v1.csv", [
        ["1", PERMIT, wsh(104), *n(4), "2022-02-11"],
        ["2", PERMIT, wsh(105), *n(5), "2022-02-15"],
        ["3", PERMIT, wsh(777), *n(77), "2022-02-16"],                    # only in v1
    ])  # fmt: skip
    ingest_ledger(
        led / "A_2022-02_v1.csv", unit=UNIT_A, period="2022-02", received=date(2022, 3, 2)
    )
    write_ledger(led / "A_2022-02_v2.csv", [
        ["1", PERMIT, wsh(104), *n(4), "2022-02-11"],                     # P4 → matched
        ["2", PERMIT, wsh(105), *n(5), "2022-02-15"],                     # P5 (invalid) → matched
        ["3", PERMIT, "长审批许(2022)jy108号", *n(8), "2022-02-07"],      # P8: () and case → matched
        ["4", PERMIT, wsh(103), *n(3), "2022-02-08"],                     # P3 → matched
        ["5", PERMIT, wsh(250), *n(88), "2022-02-21"],                    # never uploaded → missing
    ])  # fmt: skip
    ingest_ledger(
        led / "A_2022-02_v2.csv", unit=UNIT_A, period="2022-02", received=date(2022, 3, 4)
    )
    # Unit B, April 2022: 长市监许〔2022〕1号 has two subjects on the platform (Q1: 21, Q2: 22),
    # 2号 only one (Q3: 21).
    write_ledger(led / "B_2022-04.csv", [
        ["1", PERMIT, "长市监许〔2022〕1号", n(21)[0], n(21)[1].lower(), "2022-04-29"],  # row 2:
                                                     # ambiguous, code = Q1's (any case) → matched
        ["2", PERMIT, "长市监许〔2022〕1号", *n(23), "2022-04-29"],       # row 3: ambiguous, code
                                                                          #   of nobody → missing
        ["3", PERMIT, "长市监许〔2022〕1号", n(22)[0], None, "2022-04-29"],  # row 4: no code → matched
        ["4", PERMIT, "长市监许〔2022〕2号", *n(23), "2022-04-28"],       # row 5: not ambiguous,
                                                                          #   code not compared → matched
    ])  # fmt: skip
    ingest_ledger(led / "B_2022-04.csv", unit=UNIT_B, period="2022-04", received=date(2022, 5, 5))
    # Unit D: nothing decided in February 2022.
    ingest_ledger(None, unit=UNIT_D, period="2022-02", received=date(2022, 3, 3), zero=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    def build(base: Path) -> None:
        (base / "holidays").mkdir()  # no holiday files: the calendar is 2004–2026
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("SGS_DATA_DIR", str(base / "data"))
            mp.setenv("SGS_HOLIDAYS_DIR", str(base / "holidays"))
            mp.delenv("SGS_UNITS_FILE", raising=False)
            build_world(base / "data")

    return shared_build(tmp_path_factory, "rates-world", build) / "data"


def get_rates(root: Path, period: str, unit=None, kind=None) -> pl.DataFrame:
    with database.reader(root) as con:
        return rates(con, period, unit=unit, kind=kind)


def get_details(root: Path, period: str, which: str, unit=None, kind=None) -> pl.DataFrame:
    with database.reader(root) as con:
        return details(con, period, which, unit=unit, kind=kind)


def one_row(root: Path, period: str, unit: str, kind: str) -> dict:
    frame = get_rates(root, period, unit=unit, kind=kind)
    assert frame.height == 1
    return frame.row(0, named=True)


# ============================================================================ timeliness, compliance


# (period, unit, kind, uploaded, timely, compliant) — reasoning in build_world.
UPLOAD_FIGURES = [
    # 2022-02, unit A: counted P1 P2 P3 P4 P5 P7 P8 P9 = 8 (the duplicate row is a 2nd version).
    # timely P1 P2 P4 P8 = 4; late P3 (unreadable), P5 (decided after it was received), P7
    # (02-14), P9 (Sat 02-12).
    # compliant P1 P4 P7 P8 = 4 (P2, P9 许可机关 blank; P3 bad date; P5 decided after receipt).
    pytest.param("2022-02", UNIT_A, "permit", 8, 4, 4, id="2022-02 spring festival"),
    # 2022-03, unit A: only P10 is a first version (P7, P2, P3 were first received in February).
    pytest.param("2022-03", UNIT_A, "permit", 1, 1, 1, id="2022-03 resubmissions not counted"),
    # 2024-02: S1 (Sun 02-18, makeup, = deadline) timely, S2 (Mon 02-19) late, S3 timely.
    pytest.param("2024-02", UNIT_A, "permit", 3, 2, 3, id="2024-02 deadline on makeup sunday"),
    # 2025-10: T1 (Sat 10-11, makeup, = deadline) timely, T2 (Sun 10-12) late.
    pytest.param("2025-10", UNIT_A, "permit", 2, 1, 2, id="2025-10 deadline on makeup saturday"),
    # 2026-02: U1 (Fri 02-27 = deadline) timely, U2 (Sat 02-28, makeup workday no. 8) late.
    pytest.param("2026-02", UNIT_A, "permit", 2, 1, 2, id="2026-02 received on makeup saturday"),
    # 2022-05, unit B: Q1 timely, Q3 late (deadline 05-11), Q2 late (05-13 > 05-12).
    pytest.param("2022-05", UNIT_B, "permit", 3, 1, 3, id="2022-05 labour day"),
    # 2023-10, unit B penalties: R1 timely, R2 late, R3 timely; R2, R3 invalid.
    pytest.param("2023-10", UNIT_B, "penalty", 3, 2, 1, id="2023-10 national day penalties"),
]


@pytest.mark.parametrize(
    ("period", "unit", "kind", "uploaded", "timely", "compliant"), UPLOAD_FIGURES
)
def test_timeliness_and_compliance(world, period, unit, kind, uploaded, timely, compliant):
    row = one_row(world, period, unit, kind)
    assert (row["uploaded"], row["timely"], row["compliant"]) == (uploaded, timely, compliant)
    assert row["timeliness_rate"] == pytest.approx(timely / uploaded)
    assert row["compliance_rate"] == pytest.approx(compliant / uploaded)
    assert row["timeliness_undecided"] == 0
    assert row["calendar_gap"] is False
    assert row["period"] == period


def test_spring_festival_2022_rates_exact(world):
    row = one_row(world, "2022-02", UNIT_A, "permit")
    assert row["timeliness_rate"] == pytest.approx(0.5)  # 4 / 8
    assert row["compliance_rate"] == pytest.approx(0.5)  # 4 / 8
    assert row["unit_name"] == NAME_A


def test_other_kind_of_an_uploading_unit_is_not_applicable(world):
    # Unit A uploaded no penalties in 2022-02: the denominators are empty → null, not 0 or 1.
    row = one_row(world, "2022-02", UNIT_A, "penalty")
    assert (row["uploaded"], row["timely"], row["compliant"]) == (0, 0, 0)
    assert row["timeliness_rate"] is None
    assert row["compliance_rate"] is None


def test_resubmission_keeps_first_verdict(world):
    # Corrections of P2 (now valid) and P3 (now readable date) arrived on 2022-03-10; February
    # still counts their first versions: P2 non-compliant, P3 late and non-compliant.
    failing = get_details(world, "2022-02", "failing", unit=UNIT_A, kind="permit")
    assert wsh(102) in failing["doc_number"].to_list()
    late = get_details(world, "2022-02", "late", unit=UNIT_A, kind="permit")
    assert wsh(103) in late["doc_number"].to_list()
    # March counts none of the three re-sent records, only P10.
    march = get_details(world, "2022-03", "late", unit=UNIT_A, kind="permit")
    assert march.height == 0  # P7 re-sent late in March is not a March record


def test_unit_with_nothing_is_all_null(world):
    for kind in ("permit", "penalty"):
        row = one_row(world, "2022-02", UNIT_C, kind)
        assert row["unit_name"] == "长治市生态环境局"
        assert (row["uploaded"], row["timely"], row["compliant"]) == (0, 0, 0)
        assert (row["ledger_entries"], row["ledger_matched"]) == (0, 0)
        assert row["timeliness_rate"] is None
        assert row["compliance_rate"] is None
        assert row["completeness_rate"] is None
        assert row["zero_report"] is False
        assert row["ledger_received"] is None
        assert row["calendar_gap"] is False


def test_every_unit_appears_for_both_kinds(world):
    frame = get_rates(world, "2022-02")
    assert frame.height == 2 * N_UNITS
    assert set(frame["unit_code"]) == set(load_units()["code"])
    counts = frame.group_by("unit_code").agg(pl.col("kind").sort()).to_dicts()
    assert all(c["kind"] == ["penalty", "permit"] for c in counts)
    assert set(frame.columns) >= RATE_KEYS
    assert get_rates(world, "2022-02", kind="penalty").height == N_UNITS
    assert set(get_rates(world, "2022-02", kind="penalty")["kind"]) == {"penalty"}
    assert get_rates(world, "2022-02", unit=UNIT_A).height == 2


def test_rates_are_fractions(world):
    for period in ("2022-01", "2022-02", "2022-04", "2022-05", "2023-10"):
        frame = get_rates(world, period)
        for col in ("timeliness_rate", "compliance_rate", "completeness_rate"):
            values = frame[col].drop_nulls()
            assert ((values >= 0) & (values <= 1)).all(), (period, col)


def test_upload_month_not_decision_month(world):
    # P1, P2, P7, P9 were decided in January but uploaded in February: January has no uploads.
    row = one_row(world, "2022-01", UNIT_A, "permit")
    assert row["uploaded"] == 0
    assert row["timeliness_rate"] is None


# ============================================================================ completeness


# (period, unit, kind, entries, matched)
LEDGER_FIGURES = [
    # A 2022-01 permits: 6 entries; P1 ([]), P2 (（）, invalid record), P7 (【】 full width),
    # P9 (blanks) matched; 199 (never uploaded) and B's 长市监许〔2022〕2号 missing → 4 / 6.
    pytest.param("2022-01", UNIT_A, "permit", 6, 4, id="2022-01 A permit brackets and width"),
    # A 2022-01 penalties: 1 entry, no penalty record → 0 / 1 = 0 (a rate of 0, not null).
    pytest.param("2022-01", UNIT_A, "penalty", 1, 0, id="2022-01 A penalty none matched"),
    # A 2022-02: the current ledger is v2 (5 entries: 104, 105, jy108, 103 matched, 250 missing);
    # v1's 3 entries (777 missing) no longer count → 4 / 5.
    pytest.param("2022-02", UNIT_A, "permit", 5, 4, id="2022-02 A re-sent ledger replaces"),
    # B 2022-04: 1号 ambiguous (subjects 21, 22): code 21 → matched, code 23 → missing,
    # no code → matched; 2号 (one subject) with code 23 → matched → 3 / 4.
    pytest.param("2022-04", UNIT_B, "permit", 4, 3, id="2022-04 B ambiguity rule"),
]


@pytest.mark.parametrize(("period", "unit", "kind", "entries", "matched"), LEDGER_FIGURES)
def test_completeness(world, period, unit, kind, entries, matched):
    row = one_row(world, period, unit, kind)
    assert (row["ledger_entries"], row["ledger_matched"]) == (entries, matched)
    assert row["completeness_rate"] == pytest.approx(matched / entries)


def test_completeness_belongs_to_the_ledger_month(world):
    # A's January ledger does not count in February (uploads) or March; its February ledger
    # does not count in January.
    feb = one_row(world, "2022-02", UNIT_A, "penalty")
    assert (feb["ledger_entries"], feb["completeness_rate"]) == (0, None)
    mar = one_row(world, "2022-03", UNIT_A, "permit")
    assert (mar["ledger_entries"], mar["completeness_rate"]) == (0, None)
    assert mar["ledger_received"] is None


def test_resent_ledger_keeps_first_receipt(world):
    row = one_row(world, "2022-02", UNIT_A, "permit")
    assert row["ledger_received"] == date(2022, 3, 2)  # v1's receipt counts for punctuality
    assert row["zero_report"] is False


def test_zero_increment_report(world):
    for kind in ("permit", "penalty"):
        row = one_row(world, "2022-02", UNIT_D, kind)
        assert row["zero_report"] is True
        assert (row["ledger_entries"], row["ledger_matched"]) == (0, 0)
        assert row["completeness_rate"] is None
        assert row["ledger_received"] == date(2022, 3, 3)
        assert row["uploaded"] == 0 and row["timeliness_rate"] is None
    # It belongs to February only.
    assert one_row(world, "2022-03", UNIT_D, "permit")["zero_report"] is False


# ============================================================================ drill-downs


def test_details_late(world):
    late = get_details(world, "2022-02", "late", unit=UNIT_A, kind="permit")
    rows = {r["doc_number"]: r for r in late.iter_rows(named=True)}
    assert set(rows) == {wsh(103), wsh(105), wsh(107), wsh(109)}
    assert rows[wsh(103)]["note"] == "决定日期无法识别"
    # P5 decided 02-15, received 02-11: a decision cannot be published before it is made.
    assert rows[wsh(105)]["note"] == "决定日期晚于上报日期"
    assert rows[wsh(103)]["decision_date"] is None
    assert rows[wsh(107)]["deadline"] == date(2022, 2, 11)
    assert rows[wsh(107)]["received_date"] == date(2022, 2, 14)
    assert rows[wsh(109)]["received_date"] == date(2022, 2, 12)
    assert rows[wsh(109)]["file_name"] == "许可_0212.csv"
    assert rows[wsh(109)]["row"] == 2
    # The count agrees with the rate row: uploaded 8 − timely 4 = 4.
    assert late.height == 8 - 4


def test_details_failing(world):
    failing = get_details(world, "2022-02", "failing", unit=UNIT_A)
    rows = {r["doc_number"]: r for r in failing.iter_rows(named=True)}
    # P2, P3, P5, P9; not the duplicate row of P1 (a second version), not penalties.
    assert set(rows) == {wsh(102), wsh(103), wsh(105), wsh(109)}
    assert failing.height == 8 - 4
    assert rows[wsh(109)]["file_name"] == "许可_0212.csv"


def test_details_failing_problems_are_the_records_own(world):
    """``problems`` lists the errors of that record only.  Unit B's penalties R2 and R3 (both
    with 处罚机关 blank) must not show up on unit A's permits."""
    failing = get_details(world, "2022-02", "failing", unit=UNIT_A)
    problems = {r["doc_number"]: r["problems"] for r in failing.iter_rows(named=True)}
    assert problems == {
        wsh(102): "XK_XKJG:required",
        wsh(103): "XK_JDRQ:date_format",
        wsh(105): "XK_JDRQ:date_range",
        wsh(109): "XK_XKJG:required",
    }
    pen = get_details(world, "2023-10", "failing", unit=UNIT_B, kind="penalty")
    assert pen["problems"].to_list() == ["CF_CFJG:required", "CF_CFJG:required"]


def test_details_missing(world):
    jan = get_details(world, "2022-01", "missing", unit=UNIT_A)
    got = sorted((r["kind"], r["doc_number"]) for r in jan.iter_rows(named=True))
    assert got == sorted(
        [
            ("permit", "长审批许〔2022〕199号"),
            ("permit", "长市监许〔2022〕2号"),
            ("penalty", "长审批罚〔2022〕1号"),
        ]
    )
    feb = get_details(world, "2022-02", "missing", unit=UNIT_A)
    assert feb["doc_number"].to_list() == [wsh(250)]  # v1's 777 is not in the current ledger
    assert feb["ledger_received"].to_list() == [date(2022, 3, 4)]
    apr = get_details(world, "2022-04", "missing", unit=UNIT_B)
    assert [(r["row"], r["subject_code"]) for r in apr.iter_rows(named=True)] == [
        (3, company(23)[1])
    ]


def test_details_for_a_unit_with_nothing(world):
    for which in ("late", "failing", "missing"):
        assert get_details(world, "2022-02", which, unit=UNIT_C).height == 0


def test_details_unknown_drilldown(world):
    with pytest.raises(ValueError):
        get_details(world, "2022-02", "everything")


def test_malformed_period_in_process(world):
    for period in ("2022-13", "2022-2", "202202", "2022-00", ""):
        with pytest.raises(PeriodError):
            get_rates(world, period)


def test_rates_do_not_modify_the_database(world):
    before = db_fingerprint(world)
    for period in ("2022-01", "2022-02", "2027-01"):
        get_rates(world, period)
        for which in ("late", "failing", "missing"):
            get_details(world, period, which)
    assert db_fingerprint(world) == before


# ============================================================================ the calendar gap
#
# G1, G2: decision Mon 2026-12-28; workdays after: Tue 12-29 (1), Wed 12-30 (2), Thu 12-31 (3),
# then 2027, which no calendar covers → deadline unknown → both undecided.
# With the test-only 2027 file (元旦 Fri 01-01 .. Sun 01-03): Mon 01-04 (4), 05 (5), 06 (6),
# Thu 01-07 (7) → deadline 2027-01-07: G1 (received 01-07) timely, G2 (01-08) late.


@pytest.fixture
def gap(tmp_path, monkeypatch) -> tuple[Path, Path]:
    root, holidays = tmp_path / "data", tmp_path / "holidays"
    holidays.mkdir()
    monkeypatch.setenv("SGS_DATA_DIR", str(root))
    monkeypatch.setenv("SGS_HOLIDAYS_DIR", str(holidays))
    monkeypatch.setenv("SGS_TODAY", "2027-01-31")  # files received in 2027 are not "future"
    monkeypatch.delenv("SGS_UNITS_FILE", raising=False)
    g1 = land(root, UNIT_A, "2027-01-07", "许可.csv", "permit", [Row(wsh(901, 2026), "2026/12/28")])
    g2 = land(root, UNIT_A, "2027-01-08", "许可.csv", "permit", [Row(wsh(902, 2026), "2026/12/28")])
    ingest_all([g1, g2], [0, 0])
    yield root, holidays
    workdays.reset_cache()


def test_calendar_gap_is_undecided(gap):
    root, _ = gap
    row = one_row(root, "2027-01", UNIT_A, "permit")
    assert row["uploaded"] == 2
    assert row["timeliness_undecided"] == 2
    assert row["timely"] == 0
    assert row["timeliness_rate"] is None  # 0 decided records: not applicable, not 0
    assert row["calendar_gap"] is True
    assert (row["compliant"], row["compliance_rate"]) == (2, 1.0)  # compliance does not care
    late = get_details(root, "2027-01", "late", unit=UNIT_A)
    assert late["note"].to_list() == ["日历未覆盖", "日历未覆盖"]
    assert late["deadline"].to_list() == [None, None]
    # The other kind has nothing undecided.
    assert one_row(root, "2027-01", UNIT_A, "penalty")["calendar_gap"] is False


def test_calendar_gap_closed_by_holiday_file_after_a_write(gap):
    root, holidays = gap
    (holidays / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    with database.writer(root):  # any write (an ingest, a ledger) refreshes the stored calendar
        pass
    row = one_row(root, "2027-01", UNIT_A, "permit")
    assert (row["uploaded"], row["timely"], row["timeliness_undecided"]) == (2, 1, 0)
    assert row["timeliness_rate"] == pytest.approx(0.5)
    assert row["calendar_gap"] is False
    late = get_details(root, "2027-01", "late", unit=UNIT_A)
    assert late["doc_number"].to_list() == [wsh(902, 2026)]
    assert late["deadline"].to_list() == [date(2027, 1, 7)]
    assert late["note"].to_list() == [None]


def test_calendar_gap_closed_by_holiday_file_without_a_write(gap):
    """Adding 2027.toml and asking for the rates must use it: POLICY.md takes the calendar
    from the editable file, and a stale calendar would silently report 'undecided'."""
    root, holidays = gap
    (holidays / "2027.toml").write_text(TEST_2027, encoding="utf-8")
    row = one_row(root, "2027-01", UNIT_A, "permit")
    assert (row["timely"], row["timeliness_undecided"], row["calendar_gap"]) == (1, 0, False)


def test_deadline_inside_calendar_received_after_it(tmp_path, monkeypatch):
    """Decision Tue 2026-12-01: 02 (1), 03 (2), 04 (3), 07 (4), 08 (5), 09 (6), Thu 12-10 (7).
    The deadline is covered; received 2027-01-08 is after it whatever 2027's holidays are, so
    no needed date is missing: late, not undecided."""
    root = tmp_path / "data"
    holidays = tmp_path / "holidays"
    holidays.mkdir()
    monkeypatch.setenv("SGS_DATA_DIR", str(root))
    monkeypatch.setenv("SGS_HOLIDAYS_DIR", str(holidays))
    monkeypatch.setenv("SGS_TODAY", "2027-01-31")
    path = land(
        root, UNIT_A, "2027-01-08", "许可.csv", "permit", [Row(wsh(903, 2026), "2026/12/01")]
    )
    ingest_all([path], [0])
    row = one_row(root, "2027-01", UNIT_A, "permit")
    assert (row["uploaded"], row["timely"], row["timeliness_undecided"]) == (1, 0, 0)
    assert row["timeliness_rate"] == 0.0
    assert row["calendar_gap"] is False


# ============================================================================ the command line


def sgs(*args: str, root: Path, holidays: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    env.pop("SGS_UNITS_FILE", None)
    if holidays is not None:
        env["SGS_HOLIDAYS_DIR"] = str(holidays)
    return warm_sgs.run([*args], env=env, timeout=120)


PERSON_ID = "140402198001011234"  # a person's ID number written in a ledger
DIGITS_ONLY_CODE = "911404237823524059"  # a company's credit code of digits only: public


@pytest.fixture(scope="module")
def cli_root(tmp_path_factory) -> Path:
    """Unit A, February 2022 uploads through ``sgs ingest`` of the landing folder:
    P1 (received 02-11, decided 01-28, deadline 02-11) timely, valid;
    P2 (02-11) timely, invalid; P7 (02-14) late, invalid; P3 (02-14, 2022/02/30) late, invalid
    → uploaded 4, timely 2, compliant 1.
    January ledger: 101 and 107 matched, 199 (a person, ID number given) missing → 2 / 3."""
    return shared_build(tmp_path_factory, "rates-cli", build_cli_world) / "data"


def build_cli_world(base: Path) -> None:
    root = base / "data"
    land(root, UNIT_A, "2022-02-11", "许可.csv", "permit", [
        Row(wsh(101), "2022/01/28", subject=1),
        Row(wsh(102), "2022/01/28", subject=2, broken=True),
    ])  # fmt: skip
    land(root, UNIT_A, "2022-02-14", "许可.xlsx", "permit", [
        Row(wsh(107), "2022/01/28", subject=7, broken=True),
        Row(wsh(103), "2022/02/30", subject=3),
    ])  # fmt: skip
    holidays = base / "holidays"
    holidays.mkdir()
    done = sgs("ingest", str(root / "raw"), "--json", root=root, holidays=holidays)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["status"] for line in done.stdout.splitlines()] == ["stored"] * 2
    ledger = write_ledger(base / "台账.csv", [
        ["1", PERMIT, wsh(101), *company(1), "2022-01-28"],
        ["2", PERMIT, wsh(107), *company(7), "2022-01-28"],
        ["3", PERMIT, wsh(199), "张三", PERSON_ID, "2022-01-27"],
        ["4", PERMIT, wsh(198), "长治市数字代码商贸有限公司", DIGITS_ONLY_CODE, "2022-01-27"],
    ])  # fmt: skip
    done = sgs(
        "ledger", str(ledger), "--unit", NAME_A, "--period", "2022-01", "--received", "2022-02-07",
        root=root, holidays=holidays,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def cli_json(root: Path, *args: str) -> list[dict]:
    done = sgs("rates", *args, "--json", root=root)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_cli_json_shape(cli_root):
    rows = cli_json(cli_root, "--period", "2022-02")
    assert isinstance(rows, list) and len(rows) == 2 * N_UNITS
    for r in rows:
        assert set(r) >= RATE_KEYS, RATE_KEYS - set(r)
        assert r["kind"] in ("permit", "penalty") and r["period"] == "2022-02"
    by = {(r["unit_code"], r["kind"]): r for r in rows}
    a = by[(UNIT_A, "permit")]
    assert a["unit_name"] == NAME_A
    assert (a["uploaded"], a["timely"], a["compliant"]) == (4, 2, 1)
    assert a["timeliness_rate"] == pytest.approx(0.5)
    assert a["compliance_rate"] == pytest.approx(0.25)
    assert a["calendar_gap"] is False and a["timeliness_undecided"] == 0
    # Empty denominators are JSON null.
    c = by[(UNIT_C, "permit")]
    assert c["timeliness_rate"] is None and c["compliance_rate"] is None
    assert c["completeness_rate"] is None and c["uploaded"] == 0


def test_cli_completeness_and_filters(cli_root):
    rows = cli_json(cli_root, "--period", "2022-01", "--unit", NAME_A, "--kind", "permit")
    assert len(rows) == 1
    (a,) = rows
    assert (a["unit_code"], a["kind"]) == (UNIT_A, "permit")
    assert (a["ledger_entries"], a["ledger_matched"]) == (4, 2)
    assert a["completeness_rate"] == pytest.approx(2 / 4)
    assert a["ledger_received"] == "2022-02-07"
    assert a["uploaded"] == 0 and a["timeliness_rate"] is None


def test_cli_csv(cli_root):
    done = sgs("rates", "--period", "2022-02", "--unit", UNIT_A, "--csv", root=cli_root)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 2
    assert set(rows[0]) >= RATE_KEYS
    by = {r["kind"]: r for r in rows}
    assert (by["permit"]["uploaded"], by["permit"]["timely"], by["permit"]["compliant"]) == (
        "4",
        "2",
        "1",
    )
    assert float(by["permit"]["timeliness_rate"]) == pytest.approx(0.5)
    assert float(by["permit"]["compliance_rate"]) == pytest.approx(0.25)
    assert by["penalty"]["timeliness_rate"] == ""  # null, not 0


def test_cli_details(cli_root):
    late = cli_json(cli_root, "--period", "2022-02", "--details", "late")
    assert sorted(r["doc_number"] for r in late) == [wsh(103), wsh(107)]
    failing = cli_json(cli_root, "--period", "2022-02", "--details", "failing", "--kind", "permit")
    assert sorted(r["doc_number"] for r in failing) == [wsh(102), wsh(103), wsh(107)]
    missing = cli_json(cli_root, "--period", "2022-01", "--details", "missing", "--unit", UNIT_A)
    assert sorted(r["doc_number"] for r in missing) == [wsh(198), wsh(199)]


def test_cli_details_mask_person_id(cli_root):
    """A person's ID number written in a ledger is masked in what people read (first 6 and
    last 4 characters kept), and the drill-down keeps its columns."""
    listed = cli_json(cli_root, "--period", "2022-01", "--details", "missing", "--unit", UNIT_A)
    codes = {r["doc_number"]: r["subject_code"] for r in listed}
    assert codes == {wsh(199): "140402********1234", wsh(198): DIGITS_ONLY_CODE}
    missing = [r for r in listed if r["doc_number"] == wsh(199)]
    assert set(missing[0]) == {
        "unit_code", "kind", "file_name", "sheet", "row", "doc_number", "subject_name", "subject_code",
        "decision_date", "ledger_received", "reason",
    }  # fmt: skip
    assert missing[0]["reason"] == "未上报"
    assert PERSON_ID not in json.dumps(missing)
    done = sgs("rates", "--period", "2022-01", "--details", "missing", "--csv", root=cli_root)
    assert done.returncode == 0
    assert PERSON_ID not in done.stdout and "140402********1234" in done.stdout
    assert DIGITS_ONLY_CODE in done.stdout  # a legal person's code is public, digits or not


def test_cli_text_output(cli_root):
    done = sgs("rates", "--period", "2022-02", "--unit", UNIT_A, root=cli_root)
    assert done.returncode == 0, done.stderr
    assert "50.0%" in done.stdout and "25.0%" in done.stdout and "—" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--period", "2022-13"],
        ["--period", "202202"],
        ["--period", "2022-02", "--unit", "不存在的单位"],
        ["--period", "2022-02", "--details", "everything"],
    ],
)
def test_cli_bad_arguments_exit_2(cli_root, args):
    done = sgs("rates", *args, "--json", root=cli_root)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    assert done.stderr.strip()


def test_cli_rates_do_not_modify_the_database(cli_root):
    before = db_fingerprint(cli_root)
    for args in (
        ["--period", "2022-02", "--csv"],
        ["--period", "2022-01", "--details", "missing"],
    ):
        assert sgs("rates", *args, root=cli_root).returncode == 0
    assert db_fingerprint(cli_root) == before


def test_cli_calendar_gap(gap):
    root, holidays = gap
    rows = [
        r
        for r in json.loads(
            sgs(
                "rates",
                "--period",
                "2027-01",
                "--unit",
                UNIT_A,
                "--json",
                root=root,
                holidays=holidays,
            ).stdout
        )
        if r["kind"] == "permit"
    ]
    assert len(rows) == 1
    assert rows[0]["calendar_gap"] is True
    assert rows[0]["timeliness_undecided"] == 2
    assert rows[0]["timeliness_rate"] is None
    text = sgs("rates", "--period", "2027-01", "--unit", UNIT_A, root=root, holidays=holidays)
    assert "日历未覆盖" in text.stdout
