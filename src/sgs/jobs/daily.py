"""The daily monitoring cycle as plain functions (日监测、日反馈): the flow only composes them.

Find what arrived in the landing zone, ingest each file, check each stored batch with Great
Expectations, recompute the rates of the months those files touch, and write each affected
unit's feedback list.  Everything here runs and is tested without Prefect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from sgs.clock import office_today
from sgs.intake.landing import ArrivalProblem, arrival, raw_dir, sha256_of, survey
from sgs.store import database
from sgs.store.batches import CONFIGURATION_REASONS, IngestResult
from sgs.store.database import curated_dir
from sgs.store.sql import one


def new_arrivals(root: Path | None = None) -> list[Path]:
    """Uploads and ledgers of the landing zone that still need an ingest.

    A file is done when its bytes were stored *for the unit and kind it arrives as*, or were
    quarantined for that unit, as that declared kind, for a reason of content (the same bytes
    get the same verdict).  So the same file sent by another unit is new, and a file
    quarantined for a reason of configuration (unknown unit, manifest, no period…) is tried by
    every run until it is stored — once the office has fixed the registry or the manifest.
    """
    files = survey([raw_dir(root)]).files if raw_dir(root).exists() else []
    if not files or not database.store_exists(root):
        return files
    from sgs.reference.units import load_units, resolve_unit

    units = load_units()
    out = []
    with database.reader(root) as con:
        for f in files:
            try:
                arr = arrival(f, root=root)
                unit_code = str(resolve_unit(arr.unit or "", units)["code"])
            except (ArrivalProblem, KeyError):
                out.append(f)  # a problem of configuration: try again
                continue
            if not _done(con, sha256_of(f), unit_code, arr.kind, arr.period):
                out.append(f)
    return out


def ignored_by_name(root: Path | None = None) -> list[Path]:
    """Files of the landing zone left alone by their name (temporary, hidden, notes)."""
    return survey([raw_dir(root)]).ignored if raw_dir(root).exists() else []


def _done(
    con: duckdb.DuckDBPyConnection, sha: str, unit: str, kind: str | None, period: str | None
) -> bool:
    """Stored for this unit (as this kind, and for a declared ledger this month), or
    quarantined for this unit and declared kind for a reason of its content."""
    stored = one(
        con,
        "SELECT count(*) FROM batches WHERE sha256 = $sha AND unit_code = $unit"
        " AND ($kind IS NULL OR kind = $kind)"
        " AND ($kind IS DISTINCT FROM 'ledger' OR $period IS NULL OR period = $period)",
        {"sha": sha, "unit": unit, "kind": kind, "period": period},  # type: ignore[arg-type]
    )
    if stored and stored[0]:
        return True
    refused = one(
        con,
        "SELECT count(*) FROM quarantine WHERE sha256 = $sha AND unit_code = $unit"
        " AND kind IS NOT DISTINCT FROM $kind AND NOT list_contains($config, reason_code)",
        {"sha": sha, "unit": unit, "kind": kind, "config": list(CONFIGURATION_REASONS)},  # type: ignore[arg-type]
    )
    return bool(refused and refused[0])


def affected_periods(results: list[IngestResult], root: Path | None = None) -> list[str]:
    """Months whose rates these ingests can change: upload months, the months of ledgers
    received, and the months of ledgers that list a record received."""
    periods: set[str] = set()
    batches = [r.batch_id for r in results if r.status == "stored" and r.batch_id is not None]
    for r in results:
        if r.status == "stored" and r.received:
            periods.add(r.received[:7])
    if batches:
        with database.reader(root) as con:
            ledgers = con.execute(
                f"SELECT DISTINCT period FROM batches WHERE kind = 'ledger' AND batch_id IN "
                f"({','.join(map(str, batches))})"
            ).fetchall()
            periods |= {p for (p,) in ledgers if p}
            # A new record can only change the completeness of a ledger that lists it.
            for table, kind in (("permits", "permit"), ("penalties", "penalty")):
                rows = con.execute(
                    f"SELECT DISTINCT e.period FROM ledger_entries e JOIN {table} r "
                    f"ON r.unit_code = e.unit_code AND r.doc_key = e.doc_key "
                    f"WHERE e.kind = '{kind}' AND r.batch_id IN ({','.join(map(str, batches))})"
                ).fetchall()
                periods |= {p for (p,) in rows if p}
    return sorted(periods)


def rates_snapshot(
    period: str, root: Path | None = None, as_of: date | None = None
) -> tuple[pl.DataFrame, Path]:
    """Compute a month's rates as of ``as_of`` (default today; the daily run passes yesterday,
    the last day that has ended) and keep them as ``curated/rates/rates_<period>.csv``."""
    from sgs.measure.rates import rates

    with database.reader(root) as con:
        table = rates(con, period, as_of=as_of)
    path = curated_dir(root) / "rates" / f"rates_{period}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.write_csv(path)
    return table, path


def affected_units(results: list[IngestResult]) -> list[str]:
    return sorted({r.unit_code for r in results if r.unit_code and r.status == "stored"})


def write_unit_feedback(
    unit_code: str, today: date | None = None, root: Path | None = None
) -> Path:
    """The unit's current feedback list, as ``curated/feedback/<unit>/反馈清单_<date>.xlsx``."""
    from sgs.measure.problems import open_problems
    from sgs.reference.units import resolve_unit
    from sgs.report.feedback import feedback_path, write_feedback

    today = today or office_today()
    with database.reader(root) as con:
        problems = open_problems(con, unit_code)
    return write_feedback(
        feedback_path(unit_code, today, root), resolve_unit(unit_code), problems, today
    )


@dataclass
class BatchCheck:
    batch_id: int
    file_name: str
    passed: int
    failed: int
    failures: list[str]
    unit_code: str = ""


CHECKED_KINDS = ("permit", "penalty")  # ledgers have no expectation suite


def unchecked_batches(root: Path | None = None) -> list[tuple[int, str]]:
    """Upload batches of the store with no expectation result yet, as (batch id, sha256).

    A batch lacks its Data Docs exactly when ``expectation_results`` holds no row for it: the
    pages are rendered from that table, every page on each render.  So a batch stored by
    ``sgs ingest`` (which never runs the suites, to stay fast), by an earlier run whose check
    failed, or into a rebuilt store is checked by the next daily run or ``sgs docs``; a batch
    checked once is not checked again (running twice adds nothing).
    """
    if not database.store_exists(root):
        return []
    with database.reader(root) as con:
        has_results = one(
            con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'expectation_results'"
        )[0]  # type: ignore[index]
        done = (
            " AND NOT EXISTS (SELECT 1 FROM expectation_results r WHERE r.batch_id = b.batch_id)"
            if has_results
            else ""
        )
        rows = con.execute(
            "SELECT batch_id, sha256 FROM batches b WHERE list_contains($kinds, kind)"
            + done
            + " ORDER BY batch_id",
            {"kinds": list(CHECKED_KINDS)},
        ).fetchall()
    return [(int(batch_id), str(sha)) for batch_id, sha in rows]


@dataclass
class DocsBuild:
    checks: list  # the BatchCheck of each batch checked now
    index: Path  # the Data Docs' index.html


def build_data_docs(today: date | None = None, root: Path | None = None) -> DocsBuild:
    """``sgs docs``: check every stored batch that has no result yet, then write the Data Docs
    (the daily flow does the same in its own tasks)."""
    from sgs.quality.data_docs import render

    checks = [check_batch(batch_id, today, root) for batch_id, _ in unchecked_batches(root)]
    with database.reader(root) as con:
        index = render(con, root)
    return DocsBuild(checks=checks, index=index)


def check_batch(batch_id: int, today: date | None = None, root: Path | None = None) -> BatchCheck:
    """Run the expectation suites on a stored batch, keep the results, summarise them."""
    from sgs.quality.expectations import run_batch, store_outcomes

    with database.reader(root) as con:
        outcomes = run_batch(con, batch_id, today)
        batch = one(con, "SELECT file_name, unit_code FROM batches WHERE batch_id = ?", [batch_id])
    with database.writer(root) as con:
        store_outcomes(con, outcomes)
    failures = [o.description for o in outcomes if not o.success]
    return BatchCheck(
        batch_id=batch_id,
        file_name=batch[0] if batch else "",
        passed=sum(o.success for o in outcomes),
        failed=len(failures),
        failures=failures,
        unit_code=batch[1] if batch else "",
    )
