"""A month of real life, replayed: the store's figures equal an independent oracle's.

:mod:`support.month_scenario` generates a month of uploads, corrections, re-sent files,
ledgers and a zero report; :mod:`support.month_oracle` computes by its own loops what the
office should see.  The first test runs it as the office does (``sgs ingest``, ``sgs ledger``,
``sgs rates``, ``sgs points``, ``sgs feedback``); the properties run more seeds in-process:
ingest order does not change the figures, re-ingesting changes nothing, every decision counts
once per unit, and the rows in the files equal the rows stored plus the rows quarantined.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from support.month_oracle import Expected, expected, stored_uploads
from support.month_scenario import AS_OF, PERIOD, UPLOADING, ZERO_UNIT, Landed, generate, land
from support.rates_builders import db_fingerprint

from sgs.config import PROJECT_ROOT

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
MONTHS = ("2026-10", "2026-11", "2026-12")
UNITS = (*UPLOADING, ZERO_UNIT)
KINDS = ("permit", "penalty")
ITEMS = ("item_5", "item_6", "item_7", "item_8", "item_9")
COUNTS = ("uploaded", "timely", "compliant", "ledger_entries", "ledger_matched")


def expected_rates(exp: Expected) -> dict[tuple[str, str, str], tuple[int, ...]]:
    return {
        (u, k, m): tuple(exp.rates.get((u, k, m), {}).get(c, 0) for c in COUNTS)
        for u in UNITS
        for k in KINDS
        for m in MONTHS
    }


def compare(exp: Expected, rates: list[dict], points: list[dict], problems: dict) -> None:
    got = {
        (r["unit_code"], r["kind"], r["period"]): tuple(r[c] for c in COUNTS)
        for r in rates
        if r["unit_code"] in UNITS
    }
    want = expected_rates(exp)
    diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not diff, f"(got, expected) by (unit, kind, month): {diff}"
    for r in rates:
        if r["unit_code"] in UNITS and r["period"] == PERIOD:
            assert r["ledger_unclassified"] == exp.unclassified.get(r["unit_code"], 0)
    by_unit = {p["unit_code"]: p for p in points}
    for unit in UNITS:
        for item in ITEMS:
            want_item, got_item = exp.points[unit][item], by_unit[unit][item]
            assert (got_item is None) == (want_item is None), (unit, item, got_item, want_item)
            if want_item is not None:
                assert got_item == pytest.approx(want_item, abs=0.0051), (unit, item)
    assert problems == {u: exp.open_problems.get(u, []) for u in UNITS}


# ----------------------------------------------------------------------------- as the office


def sgs(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    env.pop("SGS_UNITS_FILE", None)
    return subprocess.run([SGS, *args], capture_output=True, text=True, env=env, timeout=300)


def feedback_problems(root: Path, unit: str) -> list[tuple[str, int, str]]:
    out = root / f"反馈_{unit}.xlsx"
    run = sgs(root, "feedback", "--unit", unit, "--out", str(out), "--as-of", AS_OF.isoformat())
    assert run.returncode == 0, run.stderr
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "类别")
    cols = {name: rows[head].index(name) for name in ("文件", "行号", "字段代码", "级别")}
    return sorted(
        (r[cols["文件"]], int(r[cols["行号"]]), r[cols["字段代码"]])
        for r in rows[head + 1 :]
        if r and r[cols["字段代码"]] and r[cols["级别"]] == "错误"
    )


def send_ledgers(root: Path, files: list[Landed]) -> None:
    for f in sorted((f for f in files if f.ledger), key=lambda f: f.received):
        run = sgs(root, "ledger", str(f.path), "--unit", f.unit, "--period", PERIOD,
                  "--received", f.received.isoformat())  # fmt: skip
        assert run.returncode == 0, run.stderr
    run = sgs(root, "ledger", "--zero", "--unit", ZERO_UNIT, "--period", PERIOD,
              "--received", "2026-12-01")  # fmt: skip
    assert run.returncode == 0, run.stderr


def test_a_month_through_the_cli_matches_the_oracle(tmp_path):
    sc = generate(seed=1)
    files = land(sc, tmp_path)
    exp = expected(sc, files)
    run = sgs(tmp_path, "ingest", str(tmp_path / "raw"))
    assert run.returncode == 0, run.stdout + run.stderr
    send_ledgers(tmp_path, files)
    rates = []
    for month in MONTHS:
        run = sgs(tmp_path, "rates", "--period", month, "--json")
        assert run.returncode == 0, run.stderr
        rates += json.loads(run.stdout)
    run = sgs(tmp_path, "points", "--period", PERIOD, "--as-of", AS_OF.isoformat(), "--json")
    assert run.returncode == 0, run.stderr
    problems = {u: feedback_problems(tmp_path, u) for u in UNITS}
    compare(exp, rates, json.loads(run.stdout), problems)


# ----------------------------------------------------------------------------- properties


def ingest_all(root: Path, files: list[Landed], order: random.Random | None) -> None:
    from sgs.store.ingest import ingest_file
    from sgs.store.ledger import ingest_ledger

    uploads = [f for f in files if f.upload]
    if order:
        order.shuffle(uploads)
    for f in uploads:
        assert ingest_file(f.path, root=root).status in ("stored", "skipped")
    for f in files:
        if f.ledger:
            ingest_ledger(f.path, unit=f.unit, period=PERIOD, received=f.received, root=root)
    ingest_ledger(None, unit=ZERO_UNIT, period=PERIOD, received=date(2026, 12, 1), zero=True,
                  root=root)  # fmt: skip


def figures(root: Path) -> tuple[list[dict], list[dict], dict]:
    from sgs.measure.points import monthly_points
    from sgs.measure.problems import open_problems
    from sgs.measure.rates import rates
    from sgs.store import database

    with database.reader(root) as con:
        rows = [r for m in MONTHS for r in rates(con, m).to_dicts()]
        points = monthly_points(con, PERIOD, AS_OF).to_dicts()
        problems = {}
        for unit in UNITS:
            found = open_problems(con, unit).filter(severity="error")
            problems[unit] = sorted(
                (r["file_name"], r["source_row"], r["field"]) for r in found.to_dicts()
            )
    return rows, points, problems


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_ingest_order_and_reingest_do_not_change_the_figures(seed, tmp_path):
    sc = generate(seed)
    files = land(sc, tmp_path / "files")
    exp = expected(sc, files)
    in_order, shuffled = tmp_path / "in_order", tmp_path / "shuffled"
    ingest_all(in_order, files, None)
    ingest_all(shuffled, files, random.Random(seed))
    compare(exp, *figures(in_order))
    compare(exp, *figures(shuffled))
    before = db_fingerprint(in_order)[1]
    ingest_all(in_order, files, random.Random(seed + 100))
    assert db_fingerprint(in_order)[1] == before


@pytest.mark.parametrize("seed", [2, 5])
def test_every_decision_counts_once_and_every_row_is_accounted_for(seed, tmp_path):
    from sgs.store import database

    sc = generate(seed)
    files = land(sc, tmp_path / "files")
    exp = expected(sc, files)
    ingest_all(tmp_path / "store", files, random.Random(seed))
    with database.reader(tmp_path / "store") as con:
        for table in ("permits", "penalties"):
            per_unit = dict(
                con.execute(
                    f"SELECT unit_code, count(DISTINCT record_key) FROM {table} GROUP BY 1"
                ).fetchall()
            )
            kind = "permit" if table == "permits" else "penalty"
            for unit in UPLOADING:
                counted = sum(exp.rates.get((unit, kind, m), {}).get("uploaded", 0) for m in MONTHS)
                assert per_unit.get(unit, 0) == counted, (unit, kind)
        stored = con.execute(
            "SELECT coalesce(sum(rows_stored), 0) FROM batches WHERE kind <> 'ledger'"
        ).fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
    # Rows counted from the files themselves (csv module), each stored file once.
    assert quarantined == 0
    assert stored == exp.rows_in_files
    assert len(stored_uploads(files)) > len({f.path for f in files if f.upload}) // 2
