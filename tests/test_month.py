"""Two months of real life, replayed: the store's figures as of each day equal an oracle's.

:mod:`support.month_scenario` generates September and October 2026 (across the Mid-Autumn
festival and the Golden Week) — uploads, corrections (one after the bulletin), re-sent files,
ledgers, true and false zero reports, a county whose ledgers cover one of its departments while
the other sends its own; :mod:`support.month_oracle` computes by its own loops what the office
should see as of any day — a county's rows and points over its family, each department's
own, shown under its county and not ranked.  Each test compares the figures — rates, points items
5–9, the 台账未列 drill-down, the open problems — as of several days twice: on a store grown day
by day (the files received by the day ingested, then computed as of the day) and on the store
holding everything (computed ``--as-of`` the day).  The first test runs it as the office does
(``sgs ingest``, ``sgs ledger --zero``, ``sgs rates``, ``sgs points``, ``sgs feedback``) on a
store the next one shares, where September was published (``sgs publish``) on its bulletin's day
as the store stood then: the published figures stay the oracle's of that day, the 修订 sheet of
a later bulletin names exactly the figures the oracle sees change since, and a second revision
equals the live figures.  The others run more seeds in-process: ingest order does not change
the figures, re-ingesting changes nothing, every decision counts once per unit, and the rows in
the files equal the rows stored.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

import openpyxl
import pytest
from click.testing import Result
from support import warm_sgs
from support.month_oracle import Expected, expected, stored_uploads
from support.month_scenario import (
    BULLETIN,
    COUNTY,
    DAYS,
    DEP_COVERED,
    DEP_OWN,
    FAMILY,
    LAST_DAY,
    MONTHS,
    PARENT,
    PERIODS,
    UNIT_E,
    UNIT_F,
    UNITS,
    UPLOADING,
    Landed,
    Scenario,
    Zero,
    generate,
    land,
)
from support.rates_builders import db_fingerprint

from sgs.clock import office_today
from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_month")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
KINDS = ("permit", "penalty")
ITEMS = ("item_5", "item_6", "item_7", "item_8", "item_9")
COUNTS = ("uploaded", "timely", "timeliness_undecided", "compliant", "ledger_entries",
          "ledger_matched", "zero_report", "zero_report_contradicted", "ledger_received",
          "parent_code")  # fmt: skip
UNLISTED = ("unit_code", "kind", "doc_number", "subject_name", "decision_date", "received_date",
            "file_name")  # fmt: skip


def months_by(day: date) -> list[str]:
    """The months begun by ``day`` (the later ones have nothing yet)."""
    return [m for m in MONTHS if f"{m}-01" <= day.isoformat()]


@dataclass
class Seen:
    """What sgs shows as of a day."""

    rates: list[dict]  # rows of every month begun
    points: dict[str, list[dict]]  # period -> rows
    unlisted: dict[str, list[dict]]  # period -> rows of 台账未列
    problems: dict[str, list[tuple[str, int, str]]] | None  # unit -> open errors


def _text(value: object) -> str:
    return str(value)  # a date and its JSON text alike


def _value(value: object) -> object:
    """A figure as compared: a date as its JSON text, anything else as it is."""
    return value.isoformat() if isinstance(value, date) else value


def compare(exp: Expected, seen: Seen, where: str, months: tuple[str, ...] = ()) -> None:
    """Every difference between the oracle and sgs, listed at once; the rates of ``months``
    (default: every month begun by the day)."""
    wrong: list[str] = []
    got = {
        (r["unit_code"], r["kind"], r["period"]): tuple(_value(r.get(c)) for c in COUNTS)
        for r in seen.rates
        if r["unit_code"] in UNITS
    }
    for month in months or months_by(exp.as_of):
        for unit in UNITS:
            for kind in KINDS:
                want = tuple(_value(exp.rates[(unit, kind, month)][c]) for c in COUNTS)
                if got.get((unit, kind, month)) != want:
                    wrong.append(f"rates {unit} {kind} {month} {COUNTS}: "
                                 f"got {got.get((unit, kind, month))}, expected {want}")  # fmt: skip
    for r in seen.rates:
        if r["unit_code"] in UNITS and r["period"] in PERIODS:
            want_n = exp.unclassified.get((r["unit_code"], r["period"]), 0)
            if r["ledger_unclassified"] != want_n:
                wrong.append(f"ledger_unclassified {r['unit_code']} {r['period']}: "
                             f"got {r['ledger_unclassified']}, expected {want_n}")  # fmt: skip
    for period, rows in seen.points.items():
        by_unit = {p["unit_code"]: p for p in rows}
        for unit in UNITS:
            # A county's department is shown in its own group, under its county, not ranked.
            row, group = by_unit[unit], exp.groups[unit]
            ranked = group != "县区部门"
            want_parent = exp.rates[(unit, KINDS[0], period)]["parent_code"]
            got_place = (row["group"], row["rank"] is not None, row["parent_code"])
            if got_place != (group, ranked, want_parent):
                wrong.append(f"points {period} {unit} (group, ranked, parent_code): got "
                             f"{got_place}, expected {(group, ranked, want_parent)}")  # fmt: skip
            for item in ITEMS:
                want_item, got_item = exp.points[(unit, period)][item], by_unit[unit][item]
                same = (got_item is None) == (want_item is None) and (
                    want_item is None or abs(got_item - want_item) <= 0.0051
                )
                if not same:
                    wrong.append(f"points {period} {unit} {item}: got {got_item}, "
                                 f"expected {want_item}")  # fmt: skip
    for period, rows in seen.unlisted.items():
        got_rows = sorted(
            tuple(_text(r[c]) for c in UNLISTED) for r in rows if r["unit_code"] in UNITS
        )
        want_rows = [tuple(_text(x) for x in row) for row in exp.unlisted[period]]
        if got_rows != want_rows:
            missing = sorted(set(want_rows) - set(got_rows))
            extra = sorted(set(got_rows) - set(want_rows))
            wrong.append(f"unlisted {period}: missing {missing}, unexpected {extra}")
    if seen.problems is not None:
        for unit, got_problems in seen.problems.items():
            want_problems = exp.open_problems.get(unit, [])
            if got_problems != want_problems:
                wrong.append(f"open problems {unit}: missing "
                             f"{sorted(set(want_problems) - set(got_problems))}, unexpected "
                             f"{sorted(set(got_problems) - set(want_problems))}")  # fmt: skip
    assert not wrong, f"{where} (seed {exp.seed}):\n" + "\n".join(wrong)


def test_the_scenario_has_what_it_is_about():
    """Each seed's scenario holds the cases the figures are compared on."""
    for seed in (1, 2, 3, 4):
        sc = generate(seed)
        zero_months = {(z.unit, z.period) for z in sc.zeros}
        assert (UNIT_E, "2026-09") in zero_months and (UNIT_F, "2026-10") in zero_months
        e_up = [up for up in sc.uploads if up.unit == UNIT_E]
        e_zero = next(z for z in sc.zeros if z.unit == UNIT_E)
        assert all(up.received > e_zero.received for up in e_up), "true first, then false"
        assert any(ln.decided.month == 9 for up in e_up for ln in up.lines), "a false report"
        f_up = [up for up in sc.uploads if up.unit == UNIT_F]
        assert [up.received.month for up in f_up] == [10]
        assert all(ln.decided.month == 9 for up in f_up for ln in up.lines)
        ahead = [ln for up in sc.uploads for ln in up.lines if ln.decided > up.received]
        assert ahead, "a decision dated after its upload"
        late_fix = sorted(up.received for up in sc.uploads if up.unit == UPLOADING[0]
                          and any("〔2026〕50号" in ln.doc for ln in up.lines))  # fmt: skip
        assert len(late_fix) == 2, "an error reported in September, corrected once"
        assert late_fix[0].month == 9 and late_fix[1] > BULLETIN["2026-09"]
        golden = [up for up in sc.uploads if date(2026, 9, 25) <= up.received <= date(2026, 10, 12)]
        assert golden, "uploads around the holidays"
        # The county's family: every member uploads, DEP_COVERED sends no ledger, the county's
        # ledgers list its decisions, and the county shares a 文书号 with it.
        assert {up.unit for up in sc.uploads} >= set(FAMILY)
        assert {led.unit for led in sc.ledgers} & set(FAMILY) == {COUNTY, DEP_OWN}
        covered_docs = {ln.doc for up in sc.uploads if up.unit == DEP_COVERED for ln in up.lines}
        listed = {e[1] for led in sc.ledgers if led.unit == COUNTY for e in led.entries}
        assert covered_docs & listed, "the county's ledger lists DEP_COVERED's decisions"
        county_docs = {ln.doc for up in sc.uploads if up.unit == COUNTY for ln in up.lines}
        assert county_docs & covered_docs, "one 文书号 for a record of each"
        assert {(z.unit, z.period) for z in sc.zeros} >= {(COUNTY, "2026-10"), (DEP_OWN, "2026-10")}
    # ... registered so in the shipped registry.
    with (PROJECT_ROOT / "config" / "units.csv").open(encoding="utf-8") as fh:
        registry = {r["code"]: r for r in csv.DictReader(fh)}
    assert registry[COUNTY]["type"] == "county" and not registry[COUNTY]["parent"]
    assert {u: registry[u]["parent"] for u in PARENT} == PARENT


# ----------------------------------------------------------------------------- as the office


def invoke(root: Path, *args: str) -> Result:
    """A command of ``sgs`` run in this process: a process per command would cost a second
    each (``sgs ingest`` runs as a process of its own, see :func:`cli_arrive`).  The commands
    end with ``os._exit`` (``sgs.cli.common.exit_now``, a fast exit); here it raises
    SystemExit, which the runner takes as the exit status."""
    from click.testing import CliRunner

    from sgs.cli.main import main

    env = {"SGS_DATA_DIR": str(root), "SGS_UNITS_FILE": None}
    with mock.patch.object(os, "_exit", new=sys.exit):
        return CliRunner().invoke(main, list(args), env=env)


def sgs(root: Path, *args: str) -> str:
    """A command that must succeed; its standard output."""
    run = invoke(root, *args)
    assert run.exit_code == 0, (args, run.output, run.exception)
    return run.stdout


def sgs_json(root: Path, *args: str) -> list[dict]:
    return json.loads(sgs(root, *args, "--json"))


def feedback_problems(root: Path, unit: str, day: date) -> list[tuple[str, int, str]]:
    out = root / f"反馈_{unit}_{day}.xlsx"
    sgs(root, "feedback", "--unit", unit, "--out", str(out), "--as-of", day.isoformat())
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "类别")
    cols = {name: rows[head].index(name) for name in ("文件", "行号", "字段代码", "级别")}
    return sorted(
        (r[cols["文件"]], int(r[cols["行号"]]), r[cols["字段代码"]])
        for r in rows[head + 1 :]
        if r and r[cols["字段代码"]] and r[cols["级别"]] == "错误"
    )


def cli_seen(root: Path, day: date, feedback_units: tuple[str, ...]) -> Seen:
    as_of = ("--as-of", day.isoformat())
    rates = [r for m in months_by(day) for r in sgs_json(root, "rates", "--period", m, *as_of)]
    points = {p: sgs_json(root, "points", "--period", p, *as_of) for p in PERIODS}
    unlisted = {p: sgs_json(root, "rates", "--period", p, "--details", "unlisted", *as_of)
                for p in PERIODS}  # fmt: skip
    problems = {u: feedback_problems(root, u, day) for u in feedback_units}
    return Seen(rates, points, unlisted, problems or None)


def cli_arrive(root: Path, sc: Scenario, files: list[Landed], after: date, day: date) -> None:
    """What was received in (after, day]: the files by one ``sgs ingest`` process, as the
    daily run does, and the zero reports by ``sgs ledger --zero``."""
    chunk = [str(f.path) for f in files if after < f.received <= day]
    if chunk:
        env = {**os.environ, "SGS_DATA_DIR": str(root)}
        env.pop("SGS_UNITS_FILE", None)
        run = warm_sgs.run(["ingest", *chunk], env=env, timeout=600)
        assert run.returncode == 0, run.stdout + run.stderr
    for z in sc.zeros:
        if after < z.received <= day:
            sgs(root, "ledger", "--zero", "--unit", z.unit, "--period", z.period,
                "--received", z.received.isoformat())  # fmt: skip


#: The month published on its bulletin's day, then revised by later files (issue 19, item 2).
P = "2026-09"
STAMP = ("revision", "published_at", "as_of")
#: The 修订 sheet's column of the files behind a unit's changes.
RECORDS = "相关文件与记录（发布后收到或入库）"


@dataclass
class Office:
    """Seed 1 as the office lived it (:func:`office`)."""

    sc: Scenario
    root: Path
    wanted: dict[date, Expected]  # the oracle as of the days below
    early: Seen  # what sgs showed on the store grown to 10-10
    at_publication: dict[str, list[dict]]  # ``rates``/``points --json`` as of the bulletin day
    published: dict  # what ``sgs publish --json`` printed


@pytest.fixture(scope="module")
def office(tmp_path_factory) -> Office:
    """The store grown as the office grows it, through the CLI: to September's bulletin day
    (10-04), when the month is published; to 10-10, when what sgs shows is kept; then to the
    end (11-05 and the last day: only as of them)."""
    root = tmp_path_factory.mktemp("month")
    sc = generate(seed=1)
    files = land(sc, root)
    bulletin, early, middle = BULLETIN[P], date(2026, 10, 10), date(2026, 11, 5)
    wanted = {day: expected(sc, files, day) for day in (bulletin, early, middle, LAST_DAY)}
    cli_arrive(root, sc, files, date.min, bulletin)
    as_of = ("--period", P, "--as-of", bulletin.isoformat())
    at_publication = {cmd: sgs_json(root, cmd, *as_of) for cmd in ("rates", "points")}
    published = json.loads(sgs(root, "publish", *as_of, "--by", "月通报", "--json"))
    cli_arrive(root, sc, files, bulletin, early)
    seen_early = cli_seen(root, early, ())
    cli_arrive(root, sc, files, early, LAST_DAY)
    return Office(sc, root, wanted, seen_early, at_publication, published)


def test_two_months_through_the_cli_match_the_oracle(office):
    """Grown to 10-10 (September's ledger due day: the late correction not yet in, E's zero
    report not yet contradicted), then to the end; holding everything, as of 10-10 and of
    11-05 (E's report contradicted, October's ledgers due the day before; the county's zero
    report contradicted by its departments' decisions, one of which has no report yet)."""
    root, wanted = office.root, office.wanted
    early, middle = date(2026, 10, 10), date(2026, 11, 5)
    compare(wanted[early], office.early, f"grown to {early}")
    everyone = (*UPLOADING, UNIT_E, UNIT_F, *FAMILY)
    compare(wanted[LAST_DAY], cli_seen(root, LAST_DAY, everyone), "everything")
    compare(wanted[early], cli_seen(root, early, UPLOADING), f"everything, as of {early}")
    compare(wanted[middle], cli_seen(root, middle, ()), f"everything, as of {middle}")
    # The office cannot know tomorrow: a day after its today is refused.
    tomorrow = (office_today() + timedelta(days=1)).isoformat()
    out = str(root / "反馈.xlsx")
    for args in (("rates", "--period", "2026-10"), ("points", "--period", "2026-10"),
                 ("rates", "--period", "2026-10", "--details", "unlisted"),
                 ("feedback", "--unit", UNIT_E, "--out", out)):  # fmt: skip
        run = invoke(root, *args, "--as-of", tomorrow)
        assert run.exit_code == 2, (args, run.output)


def unstamped(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in STAMP} for r in rows]


def unit_names() -> dict[str, str]:
    """The scenario's units by their name in the shipped registry (the 修订 sheet's 单位)."""
    with (PROJECT_ROOT / "config" / "units.csv").open(encoding="utf-8") as fh:
        names = {r["code"]: r["name"] for r in csv.DictReader(fh) if r["code"] in UNITS}
    assert len(set(names.values())) == len(UNITS)
    return {name: code for code, name in names.items()}


def revision_rows(path: Path) -> list[dict]:
    """The 修订 sheet's table as dicts (title, stamp, blank row, then the header)."""
    rows = list(openpyxl.load_workbook(path)["修订"].iter_rows(min_row=4, values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(r)]


#: The figures of the 修订 sheet the oracle computes: (类别, 项目) -> (table, field, kind or
#: None for the points).
ORACLE_FIGURES = {
    **{(f"三率·{part}", label): ("rates", field, kind)
       for kind, part in (("permit", "行政许可"), ("penalty", "行政处罚"))
       for field, label in (("uploaded", "上报条数"), ("timely", "及时条数"),
                            ("timeliness_undecided", "及时性未判定"), ("compliant", "合规条数"),
                            ("ledger_entries", "台账条数"), ("ledger_matched", "台账已上报"))},
    **{("积分", f"{item[5:]}.{name}"): ("points", item, None)
       for item, name in (("item_5", "台账报送"), ("item_6", "及时率"), ("item_7", "合规率"),
                          ("item_8", "完整率"), ("item_9", "错误认领"))},
}  # fmt: skip


def oracle_figure(exp: Expected, unit: str, part: str, item: str) -> float | None:
    table, field, kind = ORACLE_FIGURES[(part, item)]
    if table == "rates":
        return exp.rates[(unit, kind, P)][field]
    return exp.points[(unit, P)][field]


def shown(text: str) -> float | None:
    """A figure as the 修订 sheet shows it: "—" when not applicable."""
    return None if text == "—" else float(text)


def test_a_published_month_stays_and_its_revisions_are_what_the_oracle_sees_change(office):
    """Issue 19, item 3, on the generated month: September published on its bulletin's day
    (10-04) from the store as it stood then; everything after it arrives (the late correction
    of A's 〔2026〕50号, the September ledgers due 10-10, E's contradicting upload…).  The
    published figures stay those of 10-04 (the oracle's and sgs's own at publication); the
    修订 sheet of a bulletin as of the last day names, of the figures the oracle computes,
    exactly those whose oracle value changed from 10-04 to then; a second revision equals the
    live figures."""
    root, bulletin = office.root, BULLETIN[P]
    before, after = office.wanted[bulletin], office.wanted[LAST_DAY]
    assert (office.published["revision"], office.published["as_of"]) == (1, bulletin.isoformat())
    # The published figures after the later ingests: as at publication, and the oracle's.
    published = {cmd: sgs_json(root, cmd, "--period", P, "--published")
                 for cmd in ("rates", "points")}  # fmt: skip
    for cmd, rows in published.items():
        assert unstamped(rows) == office.at_publication[cmd], cmd
        assert {(r["revision"], r["as_of"]) for r in rows} == {(1, bulletin.isoformat())}
    compare(before, Seen(published["rates"], {P: published["points"]}, {}, None),
            f"published as of {bulletin}", months=(P,))  # fmt: skip

    # The 修订 sheet of the bulletin as of the last day, against revision 1.
    out = root / "月通报_修订.xlsx"
    sgs(root, "report", "--period", P, "--as-of", LAST_DAY.isoformat(), "--out", str(out))
    names = unit_names()
    rows = [
        ((names[r["单位"]], r["类别"], r["项目"]), r)
        for r in revision_rows(out)
        if r["单位"] in names and (r["类别"], r["项目"]) in ORACLE_FIGURES
    ]
    listed = dict(rows)
    assert len(listed) == len(rows), "a figure listed twice"
    changed = {
        (unit, part, item)
        for unit in UNITS
        for part, item in ORACLE_FIGURES
        if oracle_figure(before, unit, part, item) != oracle_figure(after, unit, part, item)
    }
    assert changed, "the later files change some figure the oracle computes"
    assert set(listed) == changed, (
        f"missing {sorted(changed - set(listed))}, unexpected {sorted(set(listed) - changed)}"
    )
    for (unit, part, item), r in listed.items():  # published → now, as the oracle has them
        for exp, text in ((before, r["发布值（第 1 版）"]), (after, r["现值"])):
            want, got = oracle_figure(exp, unit, part, item), shown(text)
            assert (got is None) == (want is None), (unit, part, item, text, want)
            assert want is None or abs(got - want) <= 0.0051, (unit, part, item, text, want)
    # The late correction of A's September error (〔2026〕50号, received after the bulletin)
    # changes no figure of seed 1: A's item 9 is 0 as of 10-04 already (its other errors were
    # over ten workdays late) and stays 0.  A's figures change through its later uploads that
    # its ledger lists (台账已上报, item 8); its rows name the files received since, the
    # correction among them, with its 文书号.
    a = UPLOADING[0]
    fix = next(up for up in office.sc.uploads if up.unit == a and up.received > bulletin
               and any("〔2026〕50号" in ln.doc and not ln.broken for ln in up.lines))  # fmt: skip
    texts = {r[RECORDS] for (unit, *_), r in listed.items() if unit == a}
    assert len(texts) == 1, texts
    (text,) = texts
    assert f"{fix.name}（" in text and "〔2026〕50号" in text, text

    # A second revision equals the live figures; the first stays as it was.
    again = json.loads(sgs(root, "publish", "--period", P, "--json"))
    assert again["revision"] == 2
    for cmd in ("rates", "points"):
        live = sgs_json(root, cmd, "--period", P)
        assert unstamped(sgs_json(root, cmd, "--period", P, "--published")) == live, cmd
        first = sgs_json(root, cmd, "--period", P, "--published", "--revision", "1")
        assert unstamped(first) == office.at_publication[cmd], cmd


# ----------------------------------------------------------------------------- in-process


def stretch(sc: Scenario, files: list[Landed], after: date, day: date) -> list[Landed | Zero]:
    """What was received in (after, day]: files and zero reports."""
    return [*(f for f in files if after < f.received <= day),
            *(z for z in sc.zeros if after < z.received <= day)]  # fmt: skip


def arrive(root: Path, items: list[Landed | Zero], order: random.Random | None = None) -> None:
    """Ingest in-process, in the order given or shuffled by ``order``: the files between two
    zero reports in one :func:`ingest_files` run (which stores what file after file stores,
    tests/test_validate_together.py), each zero report on its own."""
    from sgs.store.ingest import ingest_files, ingest_ledger

    chunk = list(items)
    if order:
        order.shuffle(chunk)
    for is_file, run in itertools.groupby(chunk, key=lambda item: isinstance(item, Landed)):
        if is_file:
            outcomes = ingest_files([item.path for item in run], root=root)
            assert all(getattr(r, "status", r) in ("stored", "skipped") for _, r in outcomes)
            continue
        for item in run:
            ingest_ledger(None, unit=item.unit, period=item.period, received=item.received,
                          zero=True, root=root)  # fmt: skip


def seen(root: Path, day: date) -> Seen:
    from sgs.measure.points import monthly_points
    from sgs.measure.problems import open_problems
    from sgs.measure.rates import details, rates
    from sgs.store import database

    with database.reader(root) as con:
        rows = [r for m in months_by(day) for r in rates(con, m, as_of=day).to_dicts()]
        points = {p: monthly_points(con, p, day).to_dicts() for p in PERIODS}
        unlisted = {p: details(con, p, "unlisted", as_of=day).to_dicts() for p in PERIODS}
        found = open_problems(con, as_of=day).filter(severity="error").to_dicts()
    problems: dict[str, list] = {u: [] for u in UNITS}
    for r in found:
        if r["unit_code"] in problems:
            problems[r["unit_code"]].append((r["file_name"], r["source_row"], r["field"]))
    return Seen(rows, points, unlisted, {u: sorted(p) for u, p in problems.items()})


@pytest.mark.parametrize("seed", [2])
def test_day_by_day_and_as_of_each_day_match_the_oracle(seed, tmp_path):
    """Grown day by day — within each stretch between two days the files arrive in any order —
    and computed as of each day; then, holding everything, as of each earlier day."""
    sc = generate(seed)
    files = land(sc, tmp_path / "files")
    store = tmp_path / "store"
    order = random.Random(seed)
    wanted = {day: expected(sc, files, day) for day in DAYS}
    after = date.min
    for day in DAYS:
        arrive(store, stretch(sc, files, after, day), order)
        compare(wanted[day], seen(store, day), f"grown to {day}")
        after = day
    for day in DAYS[:-1]:
        compare(wanted[day], seen(store, day), f"everything, as of {day}")
    before = db_fingerprint(store)[1]
    arrive(store, [*order.sample(files, 6), *sc.zeros])
    assert db_fingerprint(store)[1] == before


@pytest.mark.parametrize("seed", [3])
def test_any_ingest_order_gives_the_figures_as_of_each_day(seed, tmp_path):
    """Everything ingested at once in a shuffled order (corrections before the originals,
    later ledgers before earlier ones): the figures as of each day, every decision counted
    once, every row of the files stored."""
    from sgs.store import database

    sc = generate(seed)
    files = land(sc, tmp_path / "files")
    store = tmp_path / "store"
    arrive(store, stretch(sc, files, date.min, LAST_DAY), random.Random(seed))
    for day in (DAYS[0], DAYS[2], DAYS[4], LAST_DAY):  # the others: the test above
        compare(expected(sc, files, day), seen(store, day), f"shuffled, as of {day}")
    exp = expected(sc, files, LAST_DAY)
    with database.reader(store) as con:
        for table, kind in (("permits", "permit"), ("penalties", "penalty")):
            per_unit = dict(
                con.execute(
                    f"SELECT unit_code, count(DISTINCT record_key) FROM {table} GROUP BY 1"
                ).fetchall()
            )
            for unit in UNITS:
                assert per_unit.get(unit, 0) == exp.records.get((unit, kind), 0), (unit, kind)
                counted = sum(exp.own[(unit, kind, m)]["uploaded"] for m in MONTHS)
                assert counted == exp.records.get((unit, kind), 0), (unit, kind)
        stored = con.execute(
            "SELECT coalesce(sum(rows_stored), 0) FROM batches WHERE kind <> 'ledger'"
        ).fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    # Rows counted from the files themselves (csv module), each stored file once.
    assert quarantined == 0
    assert stored == exp.rows_in_files
    assert len(stored_uploads(files)) > len({f.path for f in files if f.upload}) // 2
