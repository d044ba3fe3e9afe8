"""Figures the office can defend (issue 18): knowledge as of a day (events too), zero reports
checked against the data, the 台账未列 list (also on the unit's page), and the latest version's
value even when it is blank.

One November 2026, hand-built and worked out by hand, run as the office runs it (``sgs ingest``,
``sgs ledger``, ``sgs rates|points|feedback|report``) with the office's date fixed by
``SGS_TODAY`` so nothing depends on the real clock.  Received dates are the landing folders'.

Workdays (chinesecalendar; no holiday in November–December 2026): the 7th workday after Mon
11-02 is Wed 11-11; after Wed 11-18 it is Fri 11-27; after Fri 10-30 it is Tue 11-10.  The
November ledger is due on the 3rd workday of December: Tue 12-01 (1), Wed 12-02 (2), Thu 12-03.

A — 长治市行政审批服务管理局, permits:
  R1 decided 11-02, received 11-05, 许可机关 blank (error); corrected on 12-10.
  R2 decided 11-18, received 11-20, valid.
  R3 decided 11-25, received 12-03 (a December upload of a November decision).
  Ledger 1 (received 12-02) lists R1 and R2; ledger 2 (received 12-08) lists R1 only.
B — 长治市市场监督管理局: a zero report for November (12-02), then on 12-10 a permit decided
  11-20: the report is contradicted from 12-10 on.
C — 长治市生态环境局: a true zero report for November (12-01) and, in November (11-12), a
  permit decided 10-30 (late: deadline 11-10).
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import os
import subprocess
import warnings
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from support import warm_sgs
from support.rates_builders import (
    UNIT_A,
    UNIT_B,
    UNIT_C,
    Row,
    company,
    land,
    write_ledger,
)

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_as_of")

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2")
    from starlette.testclient import TestClient

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
P = "2026-11"
TODAY = "2026-12-20"


def wsh(n: int) -> str:
    return f"长审批许〔2026〕{n}号"


def sgs(
    root: Path, *args: str, today: str = TODAY, events: Path | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(root), "SGS_TODAY": today, "TZ": "UTC"}
    if events is not None:
        env["SGS_EVENTS_FILE"] = str(events)
    return warm_sgs.run([*args], env=env, timeout=300)


def ok(run: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert run.returncode == 0, run.stderr
    return run


def ledger_rows(*subjects: tuple[int, int, str]) -> list[list[str | None]]:
    """Ledger rows (序号, 类别, 文书号, 名称, 代码, 决定日期) for (n, subject, decided)."""
    return [
        [str(i), "行政许可", wsh(n), *company(s), decided]
        for i, (n, s, decided) in enumerate(subjects, 1)
    ]


#: Every file of the month by received date: (day, unit, name, kind, rows) or a ledger.
def files(root: Path) -> dict[str, list[tuple]]:
    def up(unit: str, day: str, name: str, rows: list[Row]) -> tuple:
        return ("upload", land(root, unit, day, name, "permit", rows))

    def led(unit: str, day: str, name: str, rows: list) -> tuple:
        path = write_ledger(root / "ledgers" / unit / day / name, rows)
        return ("ledger", unit, day, path)

    return {
        "2026-11-05": [up(UNIT_A, "2026-11-05", "许可_1105.csv",
                          [Row(wsh(1), "2026/11/02", subject=1, broken=True)])],
        "2026-11-12": [up(UNIT_C, "2026-11-12", "许可_1112.csv",
                          [Row("长环许〔2026〕7号", "2026/10/30", subject=7)])],
        "2026-11-20": [up(UNIT_A, "2026-11-20", "许可_1120.csv",
                          [Row(wsh(2), "2026/11/18", subject=2)])],
        "2026-12-01": [("zero", UNIT_C, "2026-12-01")],
        "2026-12-02": [led(UNIT_A, "2026-12-02", "台账_2026-11.csv",
                           ledger_rows((1, 1, "2026/11/02"), (2, 2, "2026/11/18"))),
                       ("zero", UNIT_B, "2026-12-02")],
        "2026-12-03": [up(UNIT_A, "2026-12-03", "许可_1203.csv",
                          [Row(wsh(3), "2026/11/25", subject=3)])],
        "2026-12-08": [led(UNIT_A, "2026-12-08", "台账_2026-11_更正.csv",
                           ledger_rows((1, 1, "2026/11/02")))],
        "2026-12-10": [up(UNIT_A, "2026-12-10", "许可_更正.csv",
                          [Row(wsh(1), "2026/11/02", subject=1)]),
                       up(UNIT_B, "2026-12-10", "许可_补报.csv",
                          [Row("长市监许〔2026〕5号", "2026/11/20", subject=5)])],
    }  # fmt: skip


def ingest_day(root: Path, items: list[tuple]) -> None:
    """The day's files, in process (the office's date is fixed by the caller)."""
    from sgs.store.ingest import ingest_files, ingest_ledger

    # the uploads between two ledgers in one run, as file after file would store them
    for is_upload, run in itertools.groupby(items, key=lambda item: item[0] == "upload"):
        if is_upload:
            for _, result in ingest_files([item[1] for item in run], root=root):
                assert result.status == "stored", result
            continue
        for item in run:
            path = item[3] if item[0] == "ledger" else None
            received = date.fromisoformat(item[2])
            ingest_ledger(path, unit=item[1], period=P, received=received, zero=path is None,
                          root=root)  # fmt: skip


def figures_in_process(root: Path, as_of: str) -> tuple[list, list]:
    """What ``sgs rates|points --json`` print, computed in this process."""
    from sgs.measure.points import monthly_points
    from sgs.measure.rates import rates
    from sgs.store import database

    day = date.fromisoformat(as_of)
    with database.reader(root) as con:
        r = rates(con, P, as_of=day).write_json()
        p = monthly_points(con, P, day).write_json()
    return json.loads(r), json.loads(p)


@functools.cache
def _figures(root: str, as_of: str, today: str) -> tuple[list, list]:
    rates = json.loads(ok(sgs(Path(root), "rates", "--period", P, "--as-of", as_of, "--json",
                              today=today)).stdout)  # fmt: skip
    points = json.loads(ok(sgs(Path(root), "points", "--period", P, "--as-of", as_of, "--json",
                               today=today)).stdout)  # fmt: skip
    return rates, points


def figures(root: Path, as_of: str, today: str = TODAY) -> tuple[list, list]:
    """``sgs rates|points --period P --as-of D --json`` (each asked once per module)."""
    return _figures(str(root), as_of, today)


@pytest.fixture(scope="module")
def grown(tmp_path_factory) -> tuple[Path, dict[str, tuple[list, list]]]:
    """The store grown day by day, with the figures computed on each day as of that day (the
    office's date set to that day, so a later file cannot be known yet)."""
    root = tmp_path_factory.mktemp("as_of") / "data"
    on_the_day = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("SGS_UNITS_FILE", raising=False)
        mp.setenv("SGS_DATA_DIR", str(root))
        for day, items in files(root).items():
            mp.setenv("SGS_TODAY", day)
            ingest_day(root, items)
            on_the_day[day] = figures_in_process(root, day)
    return root, on_the_day


def row(rates: list, unit: str, kind: str = "permit") -> dict:
    return next(r for r in rates if r["unit_code"] == unit and r["kind"] == kind)


def points_of(points: list, unit: str) -> dict:
    return next(p for p in points if p["unit_code"] == unit)


# ----------------------------------------------------------------------------- as of a day


def test_figures_as_of_a_past_day_equal_those_computed_on_that_day(grown):
    """``sgs rates|points --as-of D`` on the whole store equal what was computed on day D."""
    root, on_the_day = grown
    for day, (rates, points) in on_the_day.items():
        assert figures(root, day) == (rates, points), day


@pytest.mark.parametrize(
    ("as_of", "uploaded", "timely", "compliant"),
    [
        ("2026-11-04", 0, 0, 0),  # nothing received yet
        ("2026-11-05", 1, 1, 0),  # R1: timely, 许可机关 blank
        ("2026-11-19", 1, 1, 0),
        ("2026-11-20", 2, 2, 1),  # R2 too; R3 (12-03) is a December upload
        ("2026-12-15", 2, 2, 1),  # the correction of R1 (12-10) never counts again
    ],
)
def test_as_of_limits_the_data_by_received_date(grown, as_of, uploaded, timely, compliant):
    root, _ = grown
    r = row(figures(root, as_of)[0], UNIT_A)
    assert (r["uploaded"], r["timely"], r["compliant"]) == (uploaded, timely, compliant)


def test_the_ledger_that_counts_is_the_latest_received_by_the_day(grown):
    root, _ = grown
    before, after = figures(root, "2026-12-05"), figures(root, "2026-12-15")
    counts = ("ledger_entries", "ledger_matched")
    assert tuple(row(before[0], UNIT_A)[c] for c in counts) == (2, 2)
    assert tuple(row(after[0], UNIT_A)[c] for c in counts) == (1, 1)
    # item 5 scores the first receipt (12-02, due 12-03) on both days
    for _, points in (before, after):
        assert points_of(points, UNIT_A)["item_5"] == 10.0
        assert points_of(points, UNIT_A)["ledger_received"] == "2026-12-02"
    # before the ledger arrived there is none, and the item is not yet due
    early = figures(root, "2026-12-01")
    assert row(early[0], UNIT_A)["ledger_received"] is None
    assert points_of(early[1], UNIT_A)["item_5"] is None


def test_a_problem_is_open_unless_a_version_received_by_the_day_corrected_it(grown, tmp_path):
    root, _ = grown

    def open_problems(as_of: str) -> list[tuple]:
        out = tmp_path / f"反馈_{as_of}.xlsx"
        ok(sgs(root, "feedback", "--unit", UNIT_A, "--out", str(out), "--as-of", as_of))
        rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
        return [r for r in rows if r and any(c == "许可_1105.csv" for c in r)]

    assert len(open_problems("2026-12-09")) == 1  # R1's blank 许可机关, not yet corrected
    assert open_problems("2026-12-10") == []  # corrected by the version received 12-10


@pytest.mark.parametrize("command", ["rates", "points", "report", "feedback"])
def test_a_day_after_today_is_refused(grown, tmp_path, command):
    root, _ = grown
    extra = {"feedback": ["--unit", UNIT_A, "--out", str(tmp_path / "f.xlsx")],
             "report": ["--out", str(tmp_path / "b.xlsx")]}.get(command, [])  # fmt: skip
    period = [] if command == "feedback" else ["--period", P]
    run = sgs(root, command, *period, *extra, "--as-of", "2026-12-21")
    assert run.returncode == 2
    assert "截至日期 2026-12-21 晚于今天（2026-12-20）" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "f.xlsx").exists() and not (tmp_path / "b.xlsx").exists()


def test_an_event_dated_after_the_day_has_not_happened_as_of_it(grown, tmp_path):
    """The events file (points items 1–4 and 10–13) is known as of a day too.  A's tasks: one due
    Wed 11-18 and done Fri 11-20 (2 workdays late: 8), one due 11-30 and done 11-25 (10).  As of
    11-19 the first is overdue and not yet done (9, as if done that day) and the second pending;
    as of 11-24 the first is done (8); from 11-25 both count (18).  A media report dated 11-25
    counts for the year (item 12) from that day on."""
    root, _ = grown
    events = tmp_path / "events.csv"
    events.write_text(
        "unit,type,date,due,count,note\n"
        f"{UNIT_A},阶段性工作,2026-11-20,2026-11-18,,晚 2 个工作日\n"
        f"{UNIT_A},阶段性工作,2026-11-25,2026-11-30,,按时完成\n"
        f"{UNIT_A},宣传报道,2026-11-25,,2,两篇\n",
        encoding="utf-8",
    )

    def points(*args: str) -> dict:
        run = sgs(root, "points", *args, "--json", events=events)
        return points_of(json.loads(ok(run).stdout), UNIT_A)

    item_4 = {day: points("--period", P, "--as-of", day)["item_4"]
              for day in ("2026-11-19", "2026-11-24", "2026-11-25")}  # fmt: skip
    assert item_4 == {"2026-11-19": 9.0, "2026-11-24": 8.0, "2026-11-25": 18.0}
    assert points("--year", "2026", "--as-of", "2026-11-24")["item_12"] == 0.0
    assert points("--year", "2026", "--as-of", "2026-11-25")["item_12"] == 2.0


# ----------------------------------------------------------------------------- zero reports


def test_a_false_zero_report_loses_item_8(grown):
    root, _ = grown
    # Before the November decision arrived (12-10) the report stands: 10 on items 6–8.
    before = figures(root, "2026-12-09")
    b = points_of(before[1], UNIT_B)
    assert (b["item_6"], b["item_7"], b["item_8"]) == (10.0, 10.0, 10.0)
    assert row(before[0], UNIT_B)["zero_report_contradicted"] == 0
    # From 12-10: contradicted.  Item 8 = 0; nothing was uploaded in November → 6–7 "—".
    rates, points = figures(root, "2026-12-15")
    b = points_of(points, UNIT_B)
    assert (b["item_6"], b["item_7"], b["item_8"]) == (None, None, 0.0)
    assert b["zero_report_contradicted"] == 1
    assert row(rates, UNIT_B, "permit")["zero_report_contradicted"] == 1
    assert row(rates, UNIT_B, "penalty")["zero_report_contradicted"] == 0
    # item 5 still scores the report's punctuality (12-02, due 12-03)
    assert b["item_5"] == 10.0


def test_a_true_zero_report_with_an_earlier_months_decision_handed_in(grown):
    root, _ = grown
    rates, points = figures(root, "2026-12-15")
    c = points_of(points, UNIT_C)
    # The October decision handed in on 11-12 (deadline 11-10) is scored on its own: late,
    # valid; it does not contradict a report about decisions made in November.
    assert (c["item_6"], c["item_7"], c["item_8"]) == (0.0, 10.0, 10.0)
    assert row(rates, UNIT_C)["zero_report_contradicted"] == 0
    # ... and the unit that told the truth now ranks above the one that did not.
    assert points_of(points, UNIT_C)["total"] > points_of(points, UNIT_B)["total"]


def test_the_contradiction_is_a_note_in_the_tables(grown):
    root, _ = grown
    text = ok(sgs(root, "rates", "--period", P, "--as-of", "2026-12-15", "--unit", UNIT_B)).stdout
    assert "零增量报告不实：已上报该月作出的决定 1 条" in text
    text = ok(sgs(root, "points", "--period", P, "--as-of", "2026-12-15")).stdout
    line = next(line for line in text.splitlines() if "长治市市场监督管理局" in line)
    assert "零增量报告不实" in line
    assert "零增量报告不实" not in ok(sgs(root, "rates", "--period", P, "--as-of", "2026-12-09",
                                           "--unit", UNIT_B)).stdout  # fmt: skip


def test_the_csv_carries_the_contradiction(grown):
    root, _ = grown
    text = ok(sgs(root, "rates", "--period", P, "--as-of", "2026-12-15", "--csv")).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    b = next(r for r in rows if r["unit_code"] == UNIT_B and r["kind"] == "permit")
    assert b["zero_report_contradicted"] == "1"


# ----------------------------------------------------------------------------- 台账未列


def _unlisted(root: Path, as_of: str, unit: str | None = None) -> list[dict]:
    args = ["--unit", unit] if unit else []
    run = sgs(root, "rates", "--period", P, "--details", "unlisted", "--as-of", as_of, "--json",
              *args)  # fmt: skip
    return json.loads(ok(run).stdout)


def test_records_decided_in_the_month_that_the_ledger_does_not_list(grown):
    root, _ = grown
    # As of 12-05 ledger 1 lists R1 and R2: R3 (uploaded 12-03) is not listed.
    assert [(r["unit_code"], r["doc_number"]) for r in _unlisted(root, "2026-12-05")] == [
        (UNIT_A, wsh(3))
    ]
    # As of 12-15 ledger 2 lists R1 only; B's zero report lists nothing; C's October decision
    # was not decided in November.
    found = sorted((r["unit_code"], r["doc_number"]) for r in _unlisted(root, "2026-12-15"))
    assert found == sorted([(UNIT_A, wsh(2)), (UNIT_A, wsh(3)), (UNIT_B, "长市监许〔2026〕5号")])
    r3 = next(r for r in _unlisted(root, "2026-12-15", UNIT_A) if r["doc_number"] == wsh(3))
    assert (r3["decision_date"], r3["received_date"], r3["file_name"]) == (
        "2026-11-25",
        "2026-12-03",
        "许可_1203.csv",
    )
    # Before any ledger arrived there is nothing to compare with.
    assert _unlisted(root, "2026-12-01", UNIT_A) == []
    text = ok(sgs(root, "rates", "--period", P, "--details", "unlisted")).stdout
    assert "已上报但台账未列的决定：3 条" in text


def test_the_bulletin_has_the_unlisted_sheet_and_names_the_false_zero_report(grown, tmp_path):
    root, _ = grown
    out = tmp_path / "月通报.xlsx"
    ok(sgs(root, "report", "--period", P, "--as-of", "2026-12-15", "--out", str(out)))
    book = openpyxl.load_workbook(out)
    assert "台账未列" in book.sheetnames
    cells = [c for r in book["台账未列"].iter_rows(values_only=True) for c in r if c]
    assert wsh(2) in cells and wsh(3) in cells and "长市监许〔2026〕5号" in cells
    cover = [c for r in book["封面"].iter_rows(values_only=True) for c in r if c]
    assert any("长治市市场监督管理局" in str(c) and "第 8 项计 0 分" in str(c) for c in cover)
    # As of 12-05 the report stood and ledger 1 was current: no such line, only R3 unlisted.
    ok(sgs(root, "report", "--period", P, "--as-of", "2026-12-05", "--out", str(out)))
    book = openpyxl.load_workbook(out)
    cover = [str(c) for r in book["封面"].iter_rows(values_only=True) for c in r if c]
    assert not any("零增量报告不实" in c for c in cover)
    cells = [c for r in book["台账未列"].iter_rows(values_only=True) for c in r if c]
    assert wsh(3) in cells and wsh(2) not in cells


def test_the_units_start_page_lists_the_unlisted_and_names_the_false_zero_report(
    grown, monkeypatch
):
    """A unit's own page (today 12-20, November): A sees R2 and R3 in its 台账未列 list and no
    zero-report line; B sees that its zero report is contradicted, and its November permit."""
    from support.web_login import login, token_for

    from sgs.web.app import create_app

    root, _ = grown
    monkeypatch.setenv("SGS_TODAY", TODAY)

    def page(unit: str) -> str:
        client = TestClient(create_app(root, "口令-units"))
        assert login(client, token_for(root, unit)).status_code == 303
        got = client.get(f"/?period={P}")
        assert got.status_code == 200
        return got.text

    def unlisted(text: str) -> str:
        start = text.index('<table id="unlisted">')
        return text[start : text.index("</table>", start)]

    a = page(UNIT_A)
    assert wsh(2) in unlisted(a) and wsh(3) in unlisted(a) and wsh(1) not in unlisted(a)
    assert "台账未列（2 条）" in a
    assert 'id="zero-report-contradicted"' not in a
    b = page(UNIT_B)
    line = b[b.index('id="zero-report-contradicted"') :]
    assert "零增量报告不实：已上报该月作出的决定 1 条" in line[: line.index("</p>")]
    assert "长市监许〔2026〕5号" in unlisted(b)


# ----------------------------------------------------------------------------- latest is latest


def test_a_problem_shows_the_latest_version_even_where_it_is_blank(tmp_path):
    """v1 (XLSX, sheet 许可) and v2 (CSV) of one record fail the same rules: the problem list
    shows v2's file and no sheet (a CSV has none), not v1's sheet; v2's blank 许可机关, not v1's
    「无」 (issue 18's case); and v2's suggestion for 有效期至, none, not v1's."""
    import polars as pl
    from support.rates_builders import upload_frame

    from sgs.samples.writers import write_upload

    root = tmp_path / "data"
    frame = upload_frame("permit", UNIT_A, [Row(wsh(1), "2026/11/02", subject=1)])

    def version(authority: str | None, valid_to: str) -> pl.DataFrame:
        # 许可机关 fails `required` either way; 有效期至 fails `date_format` either way, and only
        # year-first 2099.12.31 has one corrected value (the suggestion 2099/12/31)
        return frame.with_columns(
            pl.lit(authority, dtype=pl.String).alias("XK_XKJG"), pl.lit(valid_to).alias("XK_YXQZI")
        )

    v1 = root / "raw" / UNIT_A / "2026-11-05" / "许可.xlsx"
    write_upload(version("无", "2099.12.31"), v1)
    wb = openpyxl.load_workbook(v1)
    wb.active.title = "许可"
    wb.save(v1)
    v2 = root / "raw" / UNIT_A / "2026-11-09" / "许可_更正.csv"
    write_upload(version(None, "31/12/2099"), v2)
    ok(sgs(root, "ingest", str(v1)))
    ok(sgs(root, "ingest", str(v2)))
    out = tmp_path / "反馈.xlsx"
    ok(sgs(root, "feedback", "--unit", UNIT_A, "--out", str(out)))
    sheet = openpyxl.load_workbook(out).active
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and "文件" in r)
    problems = {
        (cells["字段代码"], cells["规则代码"]): cells
        for cells in (dict(zip(header, r, strict=False)) for r in rows if r and r is not header)
        if str(cells.get("字段代码")).startswith("XK_")
    }
    assert set(problems) == {("XK_XKJG", "required"), ("XK_YXQZI", "date_format")}, rows
    for cells in problems.values():
        assert cells["文件"] == "许可_更正.csv"  # the latest version's file, without v1's sheet
        assert cells["反馈日期"].date() == date(2026, 11, 5)  # reported by the first version
    authority, valid_to = problems["XK_XKJG", "required"], problems["XK_YXQZI", "date_format"]
    assert authority["原始值"] in (None, "")  # v2 left it blank: not v1's 「无」
    assert (valid_to["原始值"], valid_to["修改建议"]) == ("31/12/2099", None)  # not 2099/12/31


# ----------------------------------------------------------------------------- the month page


def test_the_month_page_as_of_a_day(grown, monkeypatch):
    from support.web_login import login

    from sgs.web.app import create_app

    root, _ = grown
    monkeypatch.setenv("SGS_TODAY", TODAY)
    client = TestClient(create_app(root, "口令-as-of"))
    assert login(client, "口令-as-of").status_code == 303

    def b_row(page: str) -> str:
        start = page.index('data-unit="11140400041270234C"')
        return page[start : page.index("</tr>", start)]

    stood = client.get(f"/?period={P}&as_of=2026-12-09")
    assert stood.status_code == 200
    assert "按 2026-12-09 当日结束时已收到的文件计算" in stood.text
    assert "零增量报告不实" not in b_row(stood.text)
    now = client.get(f"/?period={P}")
    assert "零增量报告不实：已上报该月作出的决定 1 条" in b_row(now.text)
    assert 'id="as-of-note"' not in now.text  # today's figures need no such note
    for bad, said in (
        ("2026-12-21", "晚于今天"),
        ("2026-13-01", "格式不正确"),
        ("x", "格式不正确"),
    ):
        r = client.get(f"/?period={P}&as_of={bad}")
        assert r.status_code == 400 and said in r.text, bad
