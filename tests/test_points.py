"""The monthly points (items 1–10) and the year total (items 11–13) of POLICY.md, on a small
hand-made world (tests/points_builders.py).  Every score is worked out by hand below.

Rules under test (the city notice, seeds/000_e1127192913e1608.txt, and POLICY.md):

- items 1–5: "按时…积10分，每延迟一个工作日积分少1分，超出10个工作日，不积分".  Read literally:
  k workdays late (1 ≤ k ≤ 10) gives 10 − k, so exactly 10 late gives 0; more than 10 ("超出10个
  工作日") gives nothing, i.e. 0 as well.  "k workdays late" = the workdays in (due, done]; done on
  the due date is on time ("1月10日前" is read inclusively, as POLICY.md does: "10 if by Jan 10");
- item 4: 10 per task due in the month, same rule; item 5: the ledger (or zero-increment report)
  of month P, due on the 3rd workday of the next month, counted on its first receipt;
- items 6–8: 10 × rate over both kinds together; not applicable (null) when the denominator is
  empty; a unit with a zero-increment report and no uploads gets 10 for each (choice);
- item 9: 10, −1 per workday each error (reported in the month) stays uncorrected past its
  deadline, 5 workdays after it was reported (choice, setting ``correction_workdays``);
- item 10: counties only ("此项指标只对县区进行考核"), 1 per repair in the month, at most 10;
- total = the sum of the applicable items; competition ranking (1, 2, 2, 4) within 县区 (counties
  and zones) and 市直部门; the year: ranked by the sum of the monthly totals, year total =
  0.9 × (mean of the monthly totals) + 0.1 × (items 11 + 12 + 13).

Workday facts used below (chinesecalendar; checked with ``sgs workdays add``):
- 2022 Mid-Autumn: holiday Sat 09-10 .. Mon 09-12 (no makeup day).
- 2022 National Day: holiday Sat 10-01 .. Fri 10-07; makeup workdays Sat 10-08 and Sun 10-09.
- 2023 New Year: holiday Sat 12-31 .. Mon 01-02 (no makeup day).
- 2023 Spring Festival: holiday Sat 01-21 .. Fri 01-27; makeup workdays Sat 01-28 and Sun 01-29.
- 2026 New Year: holiday Thu 01-01 .. Sat 01-03; makeup workday Sun 01-04.  Sat 01-10 is a
  weekend day.

Key counts:
- 2022-09 ledger due = 3rd workday after Fri 09-30: Sat 10-08 (1), Sun 10-09 (2), Mon 10-10 (3).
- October 2022 workdays after Mon 10-10: 11, 12, 13, 14 (4), 17 .. 21 (9), 24 (10), 25 (11),
  26, 27, 28 (14), Mon 31 (15).
- 2023 directory due Tue 01-10: 11 (1), 12 (2), 13 (3), 16 (4), 17 (5), 18 (6), 19 (7), 20 (8),
  [Sat 01-21 .. Fri 01-27 holiday], Sat 01-28 (9), Sun 01-29 (10), Mon 01-30 (11).
- 2023 plan / 双员 due Thu 01-05: Fri 06 (1), Mon 09 (2), 10 (3), 11 (4), 12 (5), 13 (6), 16 (7),
  17 (8), 18 (9), Thu 19 (10), Fri 20 (11).
- 2023-01 ledger due = 3rd workday of February: Wed 02-01 (1), Thu 02-02 (2), Fri 02-03 (3);
  Mon 02-06 is 1 late; Tue 02-28 is 17 late.  2023-02 ledger due Fri 03-03.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support.points_builders import (
    COUNTY_X,
    COUNTY_Y,
    DEPARTMENTS,
    DEPT_A,
    DEPT_B,
    DEPT_C,
    DEPT_D,
    LOCALS,
    NAMES,
    UNITS,
    ZONE_Z,
    build_store,
    write_events,
    write_units,
)
from support.rates_builders import shared_build

from sgs.config import PROJECT_ROOT
from sgs.measure.points import ITEMS, late_score, monthly_points, yearly_points
from sgs.reference.settings import Settings, load_settings
from sgs.store import database

SETTING_ENV = [f"SGS_{f.name.upper()}" for f in fields(Settings)]


def _point_env(mp: pytest.MonkeyPatch, base: Path) -> None:
    mp.setenv("SGS_DATA_DIR", str(base / "data"))
    mp.setenv("SGS_HOLIDAYS_DIR", str(base / "holidays"))  # empty: the calendar is 2004–2026
    mp.setenv("SGS_UNITS_FILE", str(base / "units.csv"))
    mp.setenv("SGS_EVENTS_FILE", str(base / "events.csv"))
    mp.delenv("SGS_SETTINGS_FILE", raising=False)
    for name in SETTING_ENV:
        mp.delenv(name, raising=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    def build(base: Path) -> None:
        (base / "holidays").mkdir()
        write_units(base / "units.csv")
        write_events(base / "events.csv")
        with pytest.MonkeyPatch.context() as mp:
            _point_env(mp, base)
            build_store(base / "data")

    return shared_build(tmp_path_factory, "points-world", build)


@pytest.fixture(autouse=True)
def _env(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs against the hand-made world, with the documented settings."""
    _point_env(monkeypatch, world)


_CACHE: dict[tuple, pl.DataFrame] = {}


def _env_key() -> tuple:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SGS_")))


def month(period: str, as_of: date) -> pl.DataFrame:
    """monthly_points of the world (cached per period, as_of and SGS_* environment)."""
    key = ("month", period, as_of, _env_key())
    if key not in _CACHE:
        with database.reader(Path(os.environ["SGS_DATA_DIR"])) as con:
            _CACHE[key] = monthly_points(con, period, as_of=as_of)
    return _CACHE[key]


def year(y: int, as_of: date) -> pl.DataFrame:
    key = ("year", y, as_of, _env_key())
    if key not in _CACHE:
        with database.reader(Path(os.environ["SGS_DATA_DIR"])) as con:
            _CACHE[key] = yearly_points(con, y, as_of=as_of)
    return _CACHE[key]


def row(frame: pl.DataFrame, unit: str) -> dict:
    hit = frame.filter(pl.col("unit_code") == unit)
    assert hit.height == 1, unit
    return hit.row(0, named=True)


SEP = ("2022-09", date(2022, 10, 31))  # the main month and the day it is computed
JAN23 = ("2023-01", date(2023, 2, 28))
FEB23 = ("2023-02", date(2023, 2, 28))


# ============================================================================ settings


def test_documented_defaults_are_settings():
    """POLICY.md's choices are settings whose defaults are the documented ones."""
    s = load_settings()
    assert s.correction_workdays == 5  # item 9: deadline 5 workdays after the error is reported
    assert s.plan_due == "01-05"  # item 2 due Jan 5 (section 二 of the notice)
    assert s.staff_due == "01-05"  # item 3 due Jan 5
    assert s.directory_due == "01-10"  # item 1 due Jan 10
    assert s.zero_report_full_marks is True  # items 5–8 full for a zero-increment report
    assert s.ledger_due_workday == 3  # item 5: by the 3rd workday of the next month
    assert s.deadline_workdays == 7  # timeliness: within 7 workdays
    assert (s.points_per_item, s.late_workdays_limit) == (10, 10)  # −1 per workday, 0 after 10
    assert (s.repair_points_each, s.repair_points_cap) == (1, 10)  # item 10
    assert s.monthly_weight == pytest.approx(0.9)  # 90% monthly, 10% year-end
    # and they come from the documented file, not from constants in code
    raw = tomllib.loads((PROJECT_ROOT / "config" / "settings.toml").read_text(encoding="utf-8"))
    assert {f.name: getattr(s, f.name) for f in fields(Settings)} == {
        f.name: raw[f.name] for f in fields(Settings)
    }


def test_monthly_normalisation_is_a_setting():
    """POLICY.md: "Year total = 90% × (sum of the monthly points, normalised as the office
    decides **(choice:** mean of monthly totals**)**)", and "it must be a setting, not a constant
    buried in code".  Some setting must therefore hold the normalisation, with default "mean"."""
    s = load_settings()
    found = [f.name for f in fields(Settings) if getattr(s, f.name) == "mean"]
    assert len(found) == 1, (
        "no setting chooses how the monthly totals are normalised for the year total "
        "(POLICY.md choice: mean of monthly totals); sgs.measure.points.yearly_points hard-codes the mean"
    )


# ============================================================================ the lateness rule


@pytest.mark.parametrize(
    ("done", "due", "expected"),
    [
        # 2023 directory due Tue 01-10 (counts in the module docstring)
        (date(2023, 1, 9), date(2023, 1, 10), 10.0),  # early
        (date(2023, 1, 10), date(2023, 1, 10), 10.0),  # on the due date
        (date(2023, 1, 11), date(2023, 1, 10), 9.0),  # 1 late
        (date(2023, 1, 27), date(2023, 1, 10), 2.0),  # Fri in the holiday: 8 late
        (date(2023, 1, 28), date(2023, 1, 10), 1.0),  # makeup Sat: 9 late
        (date(2023, 1, 29), date(2023, 1, 10), 0.0),  # makeup Sun: 10 late → 10 − 10 = 0
        (date(2023, 1, 30), date(2023, 1, 10), 0.0),  # 11 late: "超出10个工作日，不积分"
        (date(2023, 3, 31), date(2023, 1, 10), 0.0),  # far beyond: still 0, never negative
        # 2026 directory due Sat 01-10: Sun 01-11 has no workday in (01-10, 01-11] → 0 late
        (date(2026, 1, 11), date(2026, 1, 10), 10.0),
        (date(2026, 1, 12), date(2026, 1, 10), 9.0),  # Mon 01-12: 1 late
    ],
)
def test_late_score_rule(done, due, expected):
    assert late_score(done, due, date(2026, 6, 30), load_settings()) == expected


def test_late_score_not_done():
    s = load_settings()
    due = date(2023, 1, 10)
    assert late_score(None, due, date(2023, 1, 9), s) is None  # not due yet: pending
    assert late_score(None, due, due, s) is None  # due today, not done: still pending
    assert late_score(None, due, date(2023, 1, 11), s) == 9.0  # overdue: as if done on as_of
    assert late_score(None, due, date(2023, 1, 28), s) == 1.0  # 9 late across Spring Festival
    assert late_score(None, due, date(2023, 1, 29), s) == 0.0  # 10 late


# ============================================================================ items 1–3


# 2023-01 computed on 2023-02-28 — (item 1 directory due Tue 01-10, item 2 plan due Thu 01-05,
# item 3 双员 due Thu 01-05):
ITEMS_1_3 = [
    # A: directory 01-10 (on the due date) 10; plan 01-05 (due date) 10; staff 01-03 (early) 10.
    pytest.param(DEPT_A, (10.0, 10.0, 10.0), id="A on time"),
    # B: directory Sat 01-28 = 9 workdays late across the Spring Festival (8 workdays to Fri
    # 01-20, the holiday 01-21..01-27 counts none, makeup Sat 01-28 is the 9th) → 1;
    # plan Thu 01-19 = 10 late → 0; staff Fri 01-20 = 11 late → 0.
    pytest.param(DEPT_B, (1.0, 0.0, 0.0), id="B 9, 10, 11 late"),
    # C: 01-09, 01-04, 01-04, all early → 10 each.
    pytest.param(DEPT_C, (10.0, 10.0, 10.0), id="C early"),
    # D: nothing done; on 2023-02-28 every due date is more than 10 workdays past → 0 each.
    pytest.param(DEPT_D, (0.0, 0.0, 0.0), id="D never done"),
    # X: directory makeup Sun 01-29 = 10 late → 0; plan Wed 01-18 = 9 late → 1;
    # staff never done, on 02-28 far overdue → 0.
    pytest.param(COUNTY_X, (0.0, 1.0, 0.0), id="X 10 late, 9 late, never"),
    # Y: directory Mon 01-30 = 11 late → 0; plan Fri 01-06 = 1 late → 9;
    # staff Mon 01-09 = 2 late (Fri 06, Mon 09) → 8.
    pytest.param(COUNTY_Y, (0.0, 9.0, 8.0), id="Y 11, 1, 2 late"),
    # Z: directory Fri 01-27, a holiday: workdays in (01-10, 01-27] = 8 → 2; plan and staff on
    # the due date → 10, 10.
    pytest.param(ZONE_Z, (2.0, 10.0, 10.0), id="Z done during the holiday"),
]


@pytest.mark.parametrize(("unit", "expected"), ITEMS_1_3)
def test_items_1_to_3(unit, expected):
    r = row(month(*JAN23), unit)
    assert (r["item_1"], r["item_2"], r["item_3"]) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2023, 1, 5), None),  # the due date itself: not done, not yet due → pending
        (date(2023, 1, 9), 8.0),  # Fri 06, Mon 09: 2 workdays overdue → 8
        (date(2023, 1, 18), 1.0),  # 9 overdue → 1
        (date(2023, 1, 19), 0.0),  # 10 overdue → 0
        (date(2023, 2, 28), 0.0),
    ],
)
def test_item_3_never_done_is_pending_then_overdue(as_of, expected):
    # COUNTY_X never named its "双员" (due Thu 2023-01-05): scored as if done on as_of.
    assert row(month("2023-01", as_of), COUNTY_X)["item_3"] == expected


def test_items_1_to_3_only_in_the_month_they_are_due():
    for period, as_of in (SEP, FEB23):
        frame = month(period, as_of)
        assert frame["item_1"].null_count() == frame.height
        assert frame["item_2"].null_count() == frame.height
        assert frame["item_3"].null_count() == frame.height


def test_item_1_due_on_a_saturday_2026():
    # Directory due Sat 2026-01-10.  A: Sun 01-11, no workday in (01-10, 01-11] → on time, 10.
    # B: Mon 01-12, one workday → 9.  C: nothing in 2026, overdue on 02-27 → 0.
    frame = month("2026-01", date(2026, 2, 27))
    assert row(frame, DEPT_A)["item_1"] == 10.0
    assert row(frame, DEPT_B)["item_1"] == 9.0
    assert row(frame, DEPT_C)["item_1"] == 0.0


def test_item_2_due_date_is_a_setting(monkeypatch):
    # Plan due moved to Tue 01-10: B's plan Thu 01-19 is 7 late (11, 12, 13, 16, 17, 18, 19) → 3
    # (10 late → 0 with the default); Y's plan Fri 01-06 is now on time → 10 (9 by default).
    # Item 3 keeps its own due date: B's staff Fri 01-20 still 11 late → 0.
    monkeypatch.setenv("SGS_PLAN_DUE", "01-10")
    frame = month(*JAN23)
    assert row(frame, DEPT_B)["item_2"] == 3.0
    assert row(frame, COUNTY_Y)["item_2"] == 10.0
    assert row(frame, DEPT_B)["item_3"] == 0.0
    assert row(frame, COUNTY_Y)["item_3"] == 8.0


# ============================================================================ item 4


# 2022-09 computed on 2022-10-31 — tasks due in September:
ITEM_4 = [
    # A: task due Thu 09-15 done 09-14 → 10; task due Thu 09-29 done Mon 10-10: Fri 09-30 (1),
    # [National Day 10-01..10-07], Sat 10-08 (2), Sun 10-09 (3), Mon 10-10 (4) → 4 late → 6.
    # 16 of the 20 possible.
    pytest.param(DEPT_A, 16.0, id="A one on time, one 4 late over National Day"),
    # B: due Fri 09-09 done 09-09 → 10; due Fri 09-30 done 09-28 → 10: the full 20.
    pytest.param(DEPT_B, 20.0, id="B two tasks on time = 20"),
    # D: due 09-29, never done: on 10-31 it is 19 workdays overdue → 0.
    pytest.param(DEPT_D, 0.0, id="D never done"),
    # X: due Thu 09-29 done Fri 10-14: 09-30 (1), 10-08 (2), 10-09 (3), 10-10 .. 10-14 (8) → 2.
    pytest.param(COUNTY_X, 2.0, id="X 8 late over National Day"),
    # C, Y, Z: no task due in September → not applicable.
    pytest.param(DEPT_C, None, id="C no task"),
    pytest.param(COUNTY_Y, None, id="Y no task"),
    pytest.param(ZONE_Z, None, id="Z no task"),
]


@pytest.mark.parametrize(("unit", "expected"), ITEM_4)
def test_item_4(unit, expected):
    assert row(month(*SEP), unit)["item_4"] == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2022, 9, 29), None),  # due today, not done: pending
        (date(2022, 10, 9), 7.0),  # 09-30, 10-08, 10-09: 3 overdue → 7
        (date(2022, 10, 10), 6.0),  # 4 overdue → 6
    ],
)
def test_item_4_task_not_done(as_of, expected):
    assert row(month("2022-09", as_of), DEPT_D)["item_4"] == expected


def test_item_4_in_february_2023():
    # A: due Fri 02-10 done 02-10 → 10.  B and C: done Mon 02-13, 1 workday late → 9.
    frame = month(*FEB23)
    assert [row(frame, u)["item_4"] for u in (DEPT_A, DEPT_B, DEPT_C, DEPT_D)] == [
        10.0,
        9.0,
        9.0,
        None,
    ]


# ============================================================================ item 5


# 2022-09 ledger due Mon 2022-10-10 (3rd workday of October across National Day); on 10-31:
ITEM_5 = [
    # A: first sent Mon 10-10 (= due) → 10; the re-send of 10-20 does not make it late.
    pytest.param(DEPT_A, 10.0, date(2022, 10, 10), id="A on the due date, re-sent later"),
    # B: Wed 10-12 → 11, 12: 2 late → 8.
    pytest.param(DEPT_B, 8.0, date(2022, 10, 12), id="B 2 late"),
    # C: zero-increment report on the makeup Sunday 10-09 → on time, 10.
    pytest.param(DEPT_C, 10.0, date(2022, 10, 9), id="C zero report on makeup sunday"),
    # D: never sent; on 10-31 15 workdays overdue → 0.
    pytest.param(DEPT_D, 0.0, None, id="D never sent"),
    # X: never sent either → 0.
    pytest.param(COUNTY_X, 0.0, None, id="X never sent"),
    # Y: Fri 10-21 → 9 late → 1.
    pytest.param(COUNTY_Y, 1.0, date(2022, 10, 21), id="Y 9 late"),
    # Z: zero-increment report Mon 10-24 → exactly 10 late → 0.
    pytest.param(ZONE_Z, 0.0, date(2022, 10, 24), id="Z 10 late"),
]


@pytest.mark.parametrize(("unit", "expected", "received"), ITEM_5)
def test_item_5(unit, expected, received):
    r = row(month(*SEP), unit)
    assert r["item_5"] == expected
    assert r["ledger_due"] == date(2022, 10, 10)
    assert r["ledger_received"] == received


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2022, 10, 7), None),  # before the due date: not yet due
        (date(2022, 10, 10), None),  # the due date itself: still not late
        (date(2022, 10, 11), 9.0),  # 1 workday overdue
        (date(2022, 10, 21), 1.0),  # 9 overdue
        (date(2022, 10, 24), 0.0),  # 10 overdue
        (date(2022, 10, 25), 0.0),  # 11 overdue
    ],
)
def test_item_5_never_sent(as_of, expected):
    assert row(month("2022-09", as_of), DEPT_D)["item_5"] == expected


def test_item_5_zero_reports_of_january_2023():
    # Due Fri 2023-02-03.  A: zero report on 02-03 → 10; C: 02-01 → 10; X: Mon 02-06, 1 late → 9
    # (the notice's lateness rule covers the zero-increment report too: "没有产生信息的单位需要
    # 报送'零增量'报告。按时报送的积10分，每延迟一个工作日积分少1分").  Items 6–8: all three sent
    # a zero report and uploaded nothing → 10 each, the late one too.
    frame = month(*JAN23)
    for unit, item_5 in ((DEPT_A, 10.0), (DEPT_C, 10.0), (COUNTY_X, 9.0)):
        r = row(frame, unit)
        assert r["zero_report"] is True
        assert (r["item_5"], r["item_6"], r["item_7"], r["item_8"]) == (item_5, 10.0, 10.0, 10.0)
    # B, D, Y, Z sent nothing: 17 workdays overdue on 02-28 → 0.
    for unit in (DEPT_B, DEPT_D, COUNTY_Y, ZONE_Z):
        assert row(frame, unit)["item_5"] == 0.0


def test_item_5_february_2023_not_yet_due():
    # The February ledger is due Fri 2023-03-03; on 02-28 nobody is late yet.
    frame = month(*FEB23)
    assert frame["item_5"].null_count() == frame.height
    assert frame["ledger_due"].unique().to_list() == [date(2023, 3, 3)]


# ============================================================================ items 6–8


# 2022-09, both kinds together (timeliness and compliance: uploads received in September;
# completeness: the current September ledger):
ITEMS_6_8 = [
    # A: uploaded A1, A2 (permits, Mon 09-05, decided 09-01/09-02: timely, valid), A3 (permit
    # decided Thu 09-01, deadline 02, 05, 06, 07, 08, 09, [Mid-Autumn 09-10..09-12], Tue 09-13;
    # received 09-14 → late, valid), A4 (penalty decided 09-20, deadline 09-29, received 09-26 →
    # timely; 处罚机关 blank → invalid).  Timely 3/4 → 7.5 (the mean of the kinds' rates would
    # be (2/3 + 1)/2 → 8.33); compliant 3/4 → 7.5 (the mean of the kinds' would be 5.0).
    # Ledger (current = the 10-20 re-send): A1, A2, A3, A4 matched, A5 never uploaded → 4/5 → 8.
    pytest.param(DEPT_A, (7.5, 7.5, 8.0), id="A both kinds"),
    # B: B1, B2 (permits decided 08-31/08-30, received Thu 09-01: timely; B2 invalid), B3 (penalty
    # decided and received Tue 09-27: timely, invalid).  B2's correction of 09-08 is a second
    # version: not counted again.  Timely 3/3 → 10; compliant 1/3 → 3.33; ledger: B3 matched,
    # 1/1 → 10 (B1, B2 were decided in August: they belong to August's ledger).
    pytest.param(DEPT_B, (10.0, 3.33, 10.0), id="B"),
    # C: a zero-increment report and no uploads → full marks (setting zero_report_full_marks).
    pytest.param(DEPT_C, (10.0, 10.0, 10.0), id="C zero report"),
    # D: nothing uploaded, no ledger → every denominator empty → not applicable.
    pytest.param(DEPT_D, (None, None, None), id="D nothing"),
    # X: X1 decided Fri 09-16, deadline 19, 20, 21, 22, 23, 26, Tue 09-27; received Fri 09-30 →
    # late, valid: 0/1 → 0, 1/1 → 10; no ledger → completeness not applicable.
    pytest.param(COUNTY_X, (0.0, 10.0, None), id="X late upload, no ledger"),
    # Y: no uploads (6, 7 not applicable); a ledger whose one entry was never uploaded → 0/1 → 0.
    pytest.param(COUNTY_Y, (None, None, 0.0), id="Y ledger only"),
    # Z: a zero-increment report (even a late one) and no uploads → 10, 10, 10.
    pytest.param(ZONE_Z, (10.0, 10.0, 10.0), id="Z late zero report"),
]


@pytest.mark.parametrize(("unit", "expected"), ITEMS_6_8)
def test_items_6_to_8(unit, expected):
    r = row(month(*SEP), unit)
    assert (r["item_6"], r["item_7"], r["item_8"]) == expected


def test_zero_report_full_marks_is_a_setting(monkeypatch):
    # Without the choice, C and Z (zero reports, no uploads) have empty denominators → null;
    # item 5 is unchanged: C 10 (on time), Z 0 (10 late).
    monkeypatch.setenv("SGS_ZERO_REPORT_FULL_MARKS", "false")
    frame = month(*SEP)
    for unit, item_5 in ((DEPT_C, 10.0), (ZONE_Z, 0.0)):
        r = row(frame, unit)
        assert (r["item_5"], r["item_6"], r["item_7"], r["item_8"]) == (item_5, None, None, None)
    # C: item 5 10 + item 9 10 = 20; Z: 0 + 10 = 10.
    assert row(frame, DEPT_C)["total"] == 20.0
    assert row(frame, ZONE_Z)["total"] == 10.0
    # the others do not change
    assert row(frame, DEPT_A)["item_8"] == 8.0


def test_resubmission_is_not_an_upload_of_its_month():
    # October 2022: A's only upload is the correction of A4 (first received in September), so
    # nothing was uploaded in October → items 6 and 7 not applicable; no October ledger → 8 too.
    r = row(month("2022-10", date(2022, 10, 31)), DEPT_A)
    assert (r["item_6"], r["item_7"], r["item_8"]) == (None, None, None)


# ============================================================================ item 9


# 2022-09 computed on 2022-10-31, deadline 5 workdays after the report:
ITEM_9 = [
    # A: A4's error reported Mon 09-26; deadline: 27 (1), 28 (2), 29 (3), 30 (4), [National
    # Day], Sat 10-08 (5).  Corrected Mon 10-10: workdays in (10-08, 10-10] = Sun 10-09 (makeup),
    # Mon 10-10 → 2 late → 8.
    pytest.param(DEPT_A, 8.0, 1, 2, id="A corrected 2 late across National Day"),
    # B: B2 reported Thu 09-01, deadline 02, 05, 06, 07, Thu 09-08; corrected 09-08 → 0 late.
    # B3 reported Tue 09-27, deadline 28, 29, 30, Sat 10-08, Sun 10-09; still open on 10-31:
    # (10-09, 10-31] = 16 workdays → 10 − 16 → 0 (never negative).
    pytest.param(DEPT_B, 0.0, 2, 16, id="B one in time, one still open"),
    # Everybody else: no error reported in September → 10.
    pytest.param(DEPT_C, 10.0, 0, 0, id="C"),
    pytest.param(DEPT_D, 10.0, 0, 0, id="D"),
    pytest.param(COUNTY_X, 10.0, 0, 0, id="X"),
    pytest.param(COUNTY_Y, 10.0, 0, 0, id="Y"),
    pytest.param(ZONE_Z, 10.0, 0, 0, id="Z"),
]


@pytest.mark.parametrize(("unit", "expected", "errors", "late"), ITEM_9)
def test_item_9(unit, expected, errors, late):
    r = row(month(*SEP), unit)
    assert r["item_9"] == expected
    assert (r["errors_reported"], r["error_late_workdays"]) == (errors, late)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2022, 10, 9), 10.0),  # B3's deadline day: not late yet (B2 was in time)
        (date(2022, 10, 10), 9.0),  # 1 workday past the deadline
        (date(2022, 10, 14), 5.0),  # 10-10 .. 10-14: 5 late
        (date(2022, 10, 20), 1.0),  # 5 + 17, 18, 19, 20: 9 late
        (date(2022, 10, 21), 0.0),  # 10 late
        (date(2022, 10, 24), 0.0),  # 11 late
    ],
)
def test_item_9_open_error_counts_until_as_of(as_of, expected):
    assert row(month("2022-09", as_of), DEPT_B)["item_9"] == expected


@pytest.mark.parametrize(
    ("days", "a_expected", "b_expected"),
    [
        # 3 workdays — A: deadline Thu 09-29; corrected 10-10: Fri 09-30, Sat 10-08, Sun 10-09,
        # Mon 10-10 → 4 late → 6.  B on 10-14: B2 deadline Tue 09-06, corrected Thu 09-08 → 2
        # late; B3 deadline Fri 09-30, open: 10-08, 10-09, 10-10 .. 10-14 → 7 late; 9 → 1.
        (3, 6.0, 1.0),
        # 7 workdays — A: deadline Mon 10-10 = the correction → 10.  B: B2 deadline 09-13,
        # corrected 09-08 → 0; B3 deadline Tue 10-11, open until 10-14: 12, 13, 14 → 3 → 7.
        (7, 10.0, 7.0),
    ],
)
def test_correction_workdays_is_a_setting(monkeypatch, days, a_expected, b_expected):
    monkeypatch.setenv("SGS_CORRECTION_WORKDAYS", str(days))
    assert row(month(*SEP), DEPT_A)["item_9"] == a_expected
    assert row(month("2022-09", date(2022, 10, 14)), DEPT_B)["item_9"] == b_expected


def test_item_9_errors_belong_to_the_month_reported():
    # In October 2022 no new error was reported (A4's correction carries none): 10 for all.
    frame = month("2022-10", date(2022, 10, 31))
    assert frame["item_9"].to_list() == [10.0] * len(UNITS)
    assert frame["errors_reported"].to_list() == [0] * len(UNITS)


# ============================================================================ item 10


@pytest.mark.parametrize(
    ("period", "unit", "expected"),
    [
        # X: 10 (09-05) + 3 (09-20) = 13 repaired in September → capped at 10.
        pytest.param("2022-09", COUNTY_X, 10.0, id="X 13 capped at 10"),
        # Y: 1 (empty count) + 2 = 3 → 3.
        pytest.param("2022-09", COUNTY_Y, 3.0, id="Y 3"),
        # Z is a development zone, not a county or district: not assessed, although it has a
        # repair event of 5 ("此项指标只对县区进行考核").
        pytest.param("2022-09", ZONE_Z, None, id="Z zone not assessed"),
        # Departments: not assessed (A has a repair event of 3).
        pytest.param("2022-09", DEPT_A, None, id="A department not assessed"),
        pytest.param("2022-09", DEPT_B, None, id="B department"),
        # October: X repaired 2 (10-13) → 2; Y none → 0 (assessed, nothing repaired).
        pytest.param("2022-10", COUNTY_X, 2.0, id="X October 2"),
        pytest.param("2022-10", COUNTY_Y, 0.0, id="Y October 0"),
    ],
)
def test_item_10(period, unit, expected):
    assert row(month(period, date(2022, 10, 31)), unit)["item_10"] == expected


def test_item_10_cap_is_a_setting(monkeypatch):
    monkeypatch.setenv("SGS_REPAIR_POINTS_CAP", "15")
    assert row(month(*SEP), COUNTY_X)["item_10"] == 13.0


# ============================================================================ totals and ranks


# 2022-09 on 2022-10-31, the applicable items summed:
TOTALS_SEP = {
    DEPT_A: 57.0,  # 4: 16 + 5: 10 + 6: 7.5 + 7: 7.5 + 8: 8 + 9: 8
    DEPT_B: 51.33,  # 20 + 8 + 10 + 3.33 + 10 + 0
    DEPT_C: 50.0,  # 5: 10 + 6–8: 30 + 9: 10
    DEPT_D: 10.0,  # 4: 0 + 5: 0 + 9: 10
    COUNTY_X: 32.0,  # 4: 2 + 5: 0 + 6: 0 + 7: 10 + 9: 10 + 10: 10
    COUNTY_Y: 14.0,  # 5: 1 + 8: 0 + 9: 10 + 10: 3
    ZONE_Z: 40.0,  # 5: 0 + 6–8: 30 + 9: 10
}


def test_totals_and_ranks_september_2022():
    frame = month(*SEP)
    assert dict(zip(frame["unit_code"], frame["total"], strict=True)) == TOTALS_SEP
    # 县区 (counties and the zone) first, then 市直部门, each by rank.
    assert frame.select("unit_code", "group", "rank").rows() == [
        (ZONE_Z, "县区", 1),
        (COUNTY_X, "县区", 2),
        (COUNTY_Y, "县区", 3),
        (DEPT_A, "市直部门", 1),
        (DEPT_B, "市直部门", 2),
        (DEPT_C, "市直部门", 3),
        (DEPT_D, "市直部门", 4),
    ]
    assert frame["period"].unique().to_list() == ["2022-09"]
    assert dict(zip(frame["unit_code"], frame["unit_name"], strict=True)) == NAMES


def test_ties_get_competition_ranks():
    # February 2023 on 02-28 (item 5 not yet due, items 6–8 not applicable):
    #   A: task 10 + item 9 10 = 20; B: 9 + 10 = 19; C: 9 + 10 = 19; D: item 9 alone = 10
    #   → ranks 1, 2, 2, 4.
    #   X: repairs 13 → 10, + 10 = 20; Y: repairs 5 + 10 = 15; Z: 10 → 1, 2, 3.
    frame = month(*FEB23)
    got = {u: (row(frame, u)["total"], row(frame, u)["rank"]) for u in DEPARTMENTS + LOCALS}
    assert got == {
        DEPT_A: (20.0, 1),
        DEPT_B: (19.0, 2),
        DEPT_C: (19.0, 2),
        DEPT_D: (10.0, 4),
        COUNTY_X: (20.0, 1),
        COUNTY_Y: (15.0, 2),
        ZONE_Z: (10.0, 3),
    }


def test_january_2023_totals_and_ranks():
    # Items 1–3 (above) + item 5 + items 6–8 + item 9 (10 each: no error) + item 10:
    #   A 30 + 10 + 30 + 10 = 80;  C the same, 80;  B 1 + 0 + 10 = 11;  D 0 + 0 + 10 = 10
    #   X 1 + 9 + 30 + 10 + repairs 4 = 54;  Z 22 + 0 + 10 = 32;  Y 17 + 0 + 10 + 0 = 27
    frame = month(*JAN23)
    got = {u: (row(frame, u)["total"], row(frame, u)["rank"]) for u in DEPARTMENTS + LOCALS}
    assert got == {
        DEPT_A: (80.0, 1),
        DEPT_C: (80.0, 1),
        DEPT_B: (11.0, 3),
        DEPT_D: (10.0, 4),
        COUNTY_X: (54.0, 1),
        ZONE_Z: (32.0, 2),
        COUNTY_Y: (27.0, 3),
    }


@pytest.mark.parametrize(("period", "as_of"), [SEP, JAN23, FEB23, ("2022-10", date(2022, 10, 31))])
def test_total_is_the_sum_of_the_applicable_items(period, as_of):
    frame = month(period, as_of)
    for r in frame.iter_rows(named=True):
        assert r["total"] == pytest.approx(sum(r[i] for i in ITEMS if r[i] is not None))
        assert r["calendar_gap"] is False


def test_ledger_due_beyond_the_calendar_is_a_visible_gap(monkeypatch):
    # December 2026: the ledger is due in January 2027, which no calendar source covers here.
    monkeypatch.setenv("SGS_TODAY", "2026-12-31")  # as of a day that must not be after today
    frame = month("2026-12", date(2026, 12, 31))
    assert frame["item_5"].null_count() == frame.height
    assert frame["ledger_due"].null_count() == frame.height
    assert frame["calendar_gap"].to_list() == [True] * frame.height


# ============================================================================ the year


# 2023 on 2023-02-28: January and February (totals above).
#          monthly_sum     mean   11  12  13  year_end  year_total = 0.9 × mean + 0.1 × year_end
# A  80 + 20 = 100         50     10  15  10  35        45 + 3.5   = 48.5   (media 7 + 8, no cap;
#                                                                             cooperation twice = 10)
# C  80 + 19 = 99          49.5    0   0   0   0        44.55
# B  11 + 19 = 30          15      0   2   0   2        13.5 + 0.2 = 13.7   (its summary is of 2022)
# D  10 + 10 = 20          10     10  50  10  70        9 + 7      = 16.0
# X  54 + 20 = 74          37      0   0  10  10        33.3 + 1   = 34.3
# Y  27 + 15 = 42          21      0   0   0   0        18.9
# Z  32 + 10 = 42          21     10   0   0  10        18.9 + 1   = 19.9
YEAR_2023 = {
    DEPT_A: (100.0, 50.0, 10.0, 15.0, 10.0, 35.0, 48.5, 1),
    DEPT_C: (99.0, 49.5, 0.0, 0.0, 0.0, 0.0, 44.55, 2),
    DEPT_B: (30.0, 15.0, 0.0, 2.0, 0.0, 2.0, 13.7, 3),
    # D's year total (16.0) beats B's (13.7), but units are ranked by the monthly sum.
    DEPT_D: (20.0, 10.0, 10.0, 50.0, 10.0, 70.0, 16.0, 4),
    COUNTY_X: (74.0, 37.0, 0.0, 0.0, 10.0, 10.0, 34.3, 1),
    COUNTY_Y: (42.0, 21.0, 0.0, 0.0, 0.0, 0.0, 18.9, 2),  # tied with Z on the monthly sum
    ZONE_Z: (42.0, 21.0, 10.0, 0.0, 0.0, 10.0, 19.9, 2),
}
YEAR_COLUMNS = ["monthly_sum", "monthly_mean", "item_11", "item_12", "item_13", "year_end",
                "year_total", "rank"]  # fmt: skip


def test_yearly_points():
    frame = year(2023, date(2023, 2, 28))
    got = {r["unit_code"]: tuple(r[c] for c in YEAR_COLUMNS) for r in frame.iter_rows(named=True)}
    assert got.keys() == YEAR_2023.keys()
    for unit, expected in YEAR_2023.items():
        assert got[unit] == pytest.approx(expected), NAMES[unit]
    assert set(frame["months"].to_list()) == {2}
    assert frame["group"].to_list() == ["县区"] * 3 + ["市直部门"] * 4


def test_year_end_items_count_for_the_year_they_are_for():
    # C's summary dated 2023-01-20 is due 2022-12-31: it is 2022's (item 13 = 10 there, 0 in
    # 2023, table above); B's summary dated 2022-12-20 (no due date) is 2022's by its date.
    frame = year(2022, date(2023, 2, 28))
    items = dict(zip(frame["unit_code"], frame["item_13"], strict=True))
    assert items[DEPT_C] == 10.0 and items[DEPT_B] == 10.0
    assert items[DEPT_A] == 0.0


def test_yearly_monthly_sum_is_the_sum_of_the_months():
    frame = year(2023, date(2023, 2, 28))
    jan, feb = month(*JAN23), month(*FEB23)
    for r in frame.iter_rows(named=True):
        u = r["unit_code"]
        assert r["monthly_sum"] == pytest.approx(row(jan, u)["total"] + row(feb, u)["total"])


def test_monthly_weight_is_a_setting(monkeypatch):
    # 0.8 × mean + 0.2 × year_end: A 40 + 7 = 47; D 8 + 14 = 22; X 29.6 + 2 = 31.6; Y 16.8.
    monkeypatch.setenv("SGS_MONTHLY_WEIGHT", "0.8")
    frame = year(2023, date(2023, 2, 28))
    totals = dict(zip(frame["unit_code"], frame["year_total"], strict=True))
    assert totals[DEPT_A] == pytest.approx(47.0)
    assert totals[DEPT_D] == pytest.approx(22.0)
    assert totals[COUNTY_X] == pytest.approx(31.6)
    assert totals[COUNTY_Y] == pytest.approx(16.8)
    # the ranking (by the monthly sum) does not depend on the weight
    assert row(frame, DEPT_D)["rank"] == 4


def test_year_without_year_end_items():
    # 2026 on Fri 2026-02-27: nobody has a year-end item yet (the usual case during the year).
    # January: item 1 (directory due Sat 01-10) A 10 (Sun 01-11), B 9 (Mon 01-12), others 0;
    # items 2, 3 (due Mon 01-05) never done → 0; item 5 due Wed 02-04 (02, 03, 04), not sent,
    # 12 workdays overdue on 02-27 (05, 06, 09 .. 13, Sat 02-14 makeup, [Spring Festival
    # 02-15 .. 02-23], 24 .. 27) → 0; item 9 10; item 10 (counties) 0.  → A 20, B 19, others 10.
    # February: item 5 not yet due (March), item 9 10 → 10 each.
    # Sums A 30, B 29, others 20; means 15, 14.5, 10; year total 0.9 × mean: 13.5, 13.05, 9.
    frame = year(2026, date(2026, 2, 27))
    got = {r["unit_code"]: (r["monthly_sum"], r["year_end"], r["year_total"], r["rank"])
           for r in frame.iter_rows(named=True)}  # fmt: skip
    assert got == {
        DEPT_A: (30.0, 0.0, 13.5, 1),
        DEPT_B: (29.0, 0.0, 13.05, 2),
        DEPT_C: (20.0, 0.0, 9.0, 3),
        DEPT_D: (20.0, 0.0, 9.0, 3),
        COUNTY_X: (20.0, 0.0, 9.0, 1),
        COUNTY_Y: (20.0, 0.0, 9.0, 1),
        ZONE_Z: (20.0, 0.0, 9.0, 1),
    }  # fmt: skip
    assert frame.select("item_11", "item_12", "item_13").sum().row(0) == (0.0, 0.0, 0.0)
