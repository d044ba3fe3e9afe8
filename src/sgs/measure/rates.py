"""The three rates of docs/policy.md, per unit, kind and month, as SQL over the store.

- 及时率 timeliness and 合规率 compliance belong to the month of **upload**: the records whose
  first version was received in the period.  A later re-submission (a correction) does not
  count again and does not change the original upload's verdict.
- 完整率 completeness belongs to the month of the **ledger**: the entries of the unit's
  current ledger for the period, matched on kind and normalised 文书号 against every stored
  record of the unit (any version, valid or not), whenever it arrived.
- Everything is as the office knew it at the end of ``as_of`` (default today): only batches
  received by then count (:mod:`sgs.store.known`), so a past figure can be recomputed.
- A zero-increment report is checked against the data: records of the unit decided in the
  month contradict it (``zero_report_contradicted``); the records decided in the month that
  the unit's ledger does not list are the 台账未列 drill-down (``unlisted``).

Timely ⇔ received on or before the 7th workday after the decision date, and not before the
decision date (a decision dated after its upload is a typo or a guess: not timely).  With running workday
numbers ``wn`` (the count of workdays up to a day), that is ``wn(received) < wn(decided) + 7``,
or equal when the received day is itself a workday — a join on the calendar, no loops.  A date
the calendar does not cover makes that record's timeliness *undecided*: it is left out of the
rate and the row carries ``calendar_gap = true``, never a silent guess.  A record whose decision
date cannot be read is late; one received on its decision date is timely whatever the calendar
says.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from sgs.periods import is_period, knowledge_day, period_bounds
from sgs.reference.catalogue import load_catalogue
from sgs.store import known
from sgs.store.sql import frame, run
from sgs.store.tables import RECORD_TABLES, VERSION_ORDER


def _params(period: str, as_of: date | None) -> dict:
    """The named parameters every query of this module takes."""
    from sgs.reference.settings import load_settings

    s = load_settings()
    start, end = period_bounds(period)
    return {
        "start": start, "end": end, "period": period, "as_of": knowledge_day(as_of),
        "deadline": s.deadline_workdays, "match_subject": s.match_subject_when_ambiguous,
    }  # fmt: skip


def months_with_data(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Months with uploads (by received date) or ledgers (by ledger month), oldest first."""
    found = run(
        con,
        """SELECT strftime(received_date, '%Y-%m') FROM batches WHERE kind <> 'ledger'
           UNION SELECT period FROM batches WHERE kind = 'ledger' AND period IS NOT NULL""",
    )
    return sorted({m for (m,) in found if is_period(m)})


def _uploads_sql(kind: str) -> str:
    """First versions of one kind received in [$start, $end), with their timeliness verdict.

    A record's first version is its earliest in ``VERSION_ORDER``; versions received
    after the period cannot be first, so they are left out before grouping.
    """
    decided = load_catalogue().kind(kind).decision_date
    return f"""
    WITH firsts AS (
        SELECT arg_min(r.record_id, ({VERSION_ORDER})) AS record_id
        FROM {known.records(kind)} r JOIN batches b USING (batch_id) WHERE r.received_date < $end
        GROUP BY r.record_key HAVING min(r.received_date) >= $start
    )
    SELECT r.record_id, r.unit_code, '{kind}' AS kind, r.batch_id, r.source_row,
           r.received_date, r."{decided}" AS decision_date, r.valid,
           dl.day AS deadline,
           CASE
             WHEN r."{decided}" IS NULL THEN false
             WHEN r."{decided}" > r.received_date THEN false  -- decided after it was received
             WHEN r.received_date = r."{decided}" THEN true
             WHEN dl.day IS NOT NULL THEN r.received_date <= dl.day
             -- the deadline lies beyond the calendar, but both dates are inside it
             WHEN cd.day IS NOT NULL AND cr.day IS NOT NULL THEN
                  cr.workday_no < cd.workday_no + $deadline
                  OR (cr.workday_no = cd.workday_no + $deadline AND cr.workday)
             ELSE NULL
           END AS timely
    FROM {known.records(kind)} r
    JOIN firsts USING (record_id)
    LEFT JOIN calendar cd ON cd.day = r."{decided}"
    LEFT JOIN calendar cr ON cr.day = r.received_date
    LEFT JOIN calendar dl ON dl.workday AND dl.workday_no = cd.workday_no + $deadline
    """


#: The entries that count for a period: those of each unit's current ledger (as of the day),
#: each repeat once.
CURRENT_ENTRIES = f"""
    SELECT e.* FROM ledger_entries e
    JOIN {known.ledgers()} l ON l.batch_id = e.batch_id AND l.is_current
    WHERE e.period = $period AND NOT e.duplicate"""


#: Each unit's family: a county's (or zone's) departments belong to it (``parent``), every
#: other unit is a family of its own.  Ledger entries of any member match records of any member.
FAMILIES = """
    SELECT code AS unit_code, coalesce(parent, code) AS family FROM units"""
#: The units a ``--unit`` drill-down covers: the unit and, for a county, its departments.
UNIT_FAMILY = "(SELECT code FROM units WHERE code = $unit OR parent = $unit)"


def _family_entries(kind: str) -> str:
    """The current ledger entries of one kind, each with its unit's family (needs ``fam``)."""
    return f"""
        SELECT e.*, coalesce(f.family, e.unit_code) AS family
        FROM ({CURRENT_ENTRIES}) e LEFT JOIN fam f ON f.unit_code = e.unit_code
        WHERE e.kind = '{kind}'"""


def _ledger_sql(kind: str) -> str:
    """Entries of the current ledgers of a period with whether a stored record of the unit's
    family matches them (a county may list its departments' decisions, and the other way)."""
    p = load_catalogue().kind(kind).prefix  # type: ignore[arg-type]
    return f"""
    WITH fam AS ({FAMILIES}),
    entries AS ({_family_entries(kind)}),
    stored AS (
        SELECT coalesce(f.family, r.unit_code) AS family, r.doc_key,
               count(DISTINCT r.record_key) AS records,
               list(DISTINCT upper(coalesce(r."{p}_XDR_SHXYM", r."{p}_XDR_ZJHM"))) AS codes,
               list(DISTINCT r."{p}_XDR_MC") AS names
        FROM {known.records(kind)} r LEFT JOIN fam f ON f.unit_code = r.unit_code
        WHERE r.doc_key IN (SELECT doc_key FROM entries)
        GROUP BY ALL
    )
    SELECT e.*,
           s.doc_key IS NOT NULL
           AND (NOT $match_subject OR s.records = 1 OR e.subject_code IS NULL
                OR list_contains(s.codes, upper(e.subject_code))
                OR list_contains(s.names, e.subject_name)) AS matched
    FROM entries e
    LEFT JOIN stored s ON s.family = e.family AND s.doc_key = e.doc_key
    """


def _contradicting_sql(kind: str) -> str:
    """Records of a kind with some version decided in the period (received by ``$as_of``):
    what contradicts a zero-increment report for that month — counted for the unit whose
    ledger covers them: the unit's own, or, for a department without a ledger of its own for
    the month, its county's (the county gathers its departments' ledgers)."""
    decided = load_catalogue().kind(kind).decision_date
    return f"""
    WITH fam AS ({FAMILIES}),
    with_ledger AS (
        SELECT DISTINCT unit_code FROM {known.ledgers()} WHERE period = $period AND is_current
    )
    SELECT CASE WHEN r.unit_code IN (SELECT unit_code FROM with_ledger) THEN r.unit_code
                ELSE coalesce(f.family, r.unit_code) END AS unit_code,
           '{kind}' AS kind, count(DISTINCT r.record_key) AS n
    FROM {known.records(kind)} r LEFT JOIN fam f ON f.unit_code = r.unit_code
    WHERE r."{decided}" >= $start AND r."{decided}" < $end
    GROUP BY ALL"""


def rates(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit: str | None = None,
    kind: str | None = None,
    *,
    as_of: date | None = None,
) -> pl.DataFrame:
    """One row per unit and kind (every registered unit, both kinds unless filtered), as the
    office knew it at the end of ``as_of`` (default today; a later day is a PeriodError)."""
    kinds = [kind] if kind else list(RECORD_TABLES)
    params = _params(period, as_of)
    uploads = " UNION ALL ".join(f"SELECT * FROM ({_uploads_sql(k)})" for k in kinds)
    ledger = " UNION ALL ".join(f"SELECT * FROM ({_ledger_sql(k)})" for k in kinds)
    contradicting = " UNION ALL ".join(f"SELECT * FROM ({_contradicting_sql(k)})" for k in kinds)
    kinds_sql = ", ".join(f"('{k}')" for k in kinds)
    query = f"""
    WITH up AS ({uploads}),
    led AS ({ledger}),
    up_agg AS (
        SELECT unit_code, kind, count(*) AS uploaded,
               count(*) FILTER (WHERE timely) AS timely,
               count(*) FILTER (WHERE timely IS NULL) AS undecided,
               count(*) FILTER (WHERE valid) AS compliant
        FROM up GROUP BY ALL
    ),
    led_agg AS (
        SELECT unit_code, kind, count(*) AS ledger_entries,
               count(*) FILTER (WHERE matched) AS ledger_matched
        FROM led GROUP BY ALL
    ),
    unclassified AS (
        SELECT unit_code, count(*) AS n FROM ({CURRENT_ENTRIES}) WHERE kind IS NULL GROUP BY ALL
    ),
    ledger_state AS (
        SELECT unit_code, bool_or(zero_report) AS zero_report, min(first_received) AS ledger_received
        FROM {known.ledgers()} WHERE period = $period AND is_current GROUP BY ALL
    ),
    contra AS ({contradicting}),
    grid AS (SELECT u.code AS unit_code, u.name AS unit_name, u.type AS unit_type,
                    u.parent AS parent_code, k.kind
             FROM units u CROSS JOIN (VALUES {kinds_sql}) k(kind))
    SELECT g.unit_code, g.unit_name, g.unit_type, g.kind, $period AS period,
           coalesce(a.uploaded, 0) AS uploaded,
           coalesce(a.timely, 0) AS timely,
           coalesce(a.undecided, 0) AS timeliness_undecided,
           coalesce(a.compliant, 0) AS compliant,
           CASE WHEN coalesce(a.uploaded, 0) - coalesce(a.undecided, 0) > 0
                THEN a.timely / (a.uploaded - a.undecided) END AS timeliness_rate,
           CASE WHEN coalesce(a.uploaded, 0) > 0 THEN a.compliant / a.uploaded END AS compliance_rate,
           ls.ledger_received,
           coalesce(ls.zero_report, false) AS zero_report,
           CASE WHEN coalesce(ls.zero_report, false) THEN coalesce(c.n, 0) ELSE 0 END
               AS zero_report_contradicted,
           coalesce(l.ledger_entries, 0) AS ledger_entries,
           coalesce(l.ledger_matched, 0) AS ledger_matched,
           CASE WHEN coalesce(l.ledger_entries, 0) > 0
                THEN l.ledger_matched / l.ledger_entries END AS completeness_rate,
           coalesce(uc.n, 0) AS ledger_unclassified,
           coalesce(a.undecided, 0) > 0 AS calendar_gap,
           g.parent_code
    FROM grid g
    LEFT JOIN up_agg a USING (unit_code, kind)
    LEFT JOIN led_agg l USING (unit_code, kind)
    LEFT JOIN ledger_state ls USING (unit_code)
    LEFT JOIN unclassified uc USING (unit_code)
    LEFT JOIN contra c USING (unit_code, kind)
    ORDER BY g.unit_type, g.unit_code, g.kind
    """
    out = roll_up(frame(con, query, params))
    return out.filter(pl.col("unit_code") == unit) if unit else out


def roll_up(per_unit: pl.DataFrame) -> pl.DataFrame:
    """A county's (or zone's) row counts its own data plus its departments' (docs/policy.md
    section 1): counts summed and the rates recomputed from the sums; the ledger received is
    the family's latest first receipt (complete once the last member's ledger is in); the
    family has a zero report when every member that sent something for the month sent one.
    Departments keep their own rows, with ``parent_code``."""
    members = per_unit.filter(pl.col("parent_code").is_not_null())
    if members.height == 0:
        return per_unit
    family = pl.coalesce("parent_code", "unit_code").alias("unit_code")
    sent = pl.col("ledger_received").is_not_null()
    sums = (
        per_unit.group_by(family, "kind")
        .agg(
            *[pl.col(c).sum() for c in (*COUNTS, "ledger_unclassified")],
            pl.col("ledger_received").max(),
            (pl.col("zero_report").any() & (pl.col("zero_report") | ~sent).all()).alias(
                "zero_report"
            ),
            pl.col("calendar_gap").any(),
        )
        .with_columns(ratios())
    )
    heads = pl.col("unit_code").is_in(members["parent_code"].unique().implode())
    rolled = per_unit.filter(heads).select("unit_code", "kind").join(sums, on=["unit_code", "kind"])
    return per_unit.update(rolled, on=["unit_code", "kind"], include_nulls=True)


def _unlisted_sql(kind: str) -> str:
    """台账未列: records decided in the period (their current version, as of the day) of a unit
    whose family has a current ledger or zero report for the period, which no entry of the
    family's ledgers lists — the same match as completeness, in the other direction: same kind
    and 文书号, and when the family has several records with that 文书号 (and
    ``match_subject_when_ambiguous``), an entry naming one of this record's subject codes or
    names, or naming no code."""
    p = load_catalogue().kind(kind).prefix  # type: ignore[arg-type]
    decided = load_catalogue().kind(kind).decision_date
    return f"""
    WITH fam AS ({FAMILIES}),
    entries AS ({_family_entries(kind)}),
    with_ledger AS (
        SELECT DISTINCT coalesce(f.family, l.unit_code) AS family
        FROM {known.ledgers()} l LEFT JOIN fam f ON f.unit_code = l.unit_code
        WHERE l.period = $period AND l.is_current
    ),
    per_doc AS (
        SELECT coalesce(f.family, r.unit_code) AS family, r.doc_key,
               count(DISTINCT r.record_key) AS records
        FROM {known.records(kind)} r LEFT JOIN fam f ON f.unit_code = r.unit_code
        WHERE r.doc_key IS NOT NULL GROUP BY ALL
    ),
    subjects AS (
        SELECT record_key,
               list(DISTINCT upper(coalesce("{p}_XDR_SHXYM", "{p}_XDR_ZJHM"))) AS codes,
               list(DISTINCT "{p}_XDR_MC") AS names
        FROM {known.records(kind)} GROUP BY record_key
    ),
    current AS (
        SELECT v.*, coalesce(f.family, v.unit_code) AS family
        FROM {known.versions(kind)} v LEFT JOIN fam f ON f.unit_code = v.unit_code
        WHERE v.is_current AND v."{decided}" >= $start AND v."{decided}" < $end
          AND coalesce(f.family, v.unit_code) IN (SELECT family FROM with_ledger)
    )
    SELECT c.unit_code, '{kind}' AS kind, b.file_name, c.source_sheet AS sheet,
           c.source_row AS "row", c."{p}_WSH" AS doc_number, c."{p}_XDR_MC" AS subject_name,
           c."{decided}" AS decision_date, c.received_date
    FROM current c
    JOIN batches b ON b.batch_id = c.batch_id
    LEFT JOIN per_doc d ON d.family = c.family AND d.doc_key = c.doc_key
    LEFT JOIN subjects s ON s.record_key = c.record_key
    WHERE NOT EXISTS (
        SELECT 1 FROM entries e
        WHERE e.family = c.family AND e.doc_key = c.doc_key
          AND (NOT $match_subject OR d.records = 1 OR e.subject_code IS NULL
               OR list_contains(s.codes, upper(e.subject_code))
               OR list_contains(s.names, e.subject_name))
    )
    AND ($unit IS NULL OR c.unit_code IN {UNIT_FAMILY})
    """


#: The drill-downs of :func:`details`.
DRILL_DOWNS = ("late", "failing", "missing", "unlisted")


def details(
    con: duckdb.DuckDBPyConnection,
    period: str,
    which: str,
    unit: str | None = None,
    kind: str | None = None,
    *,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Drill-downs: ``late`` and ``failing`` records of the period, ``missing`` ledger entries
    (应报未报), ``unlisted`` records the ledger does not list (台账未列); as of ``as_of``."""
    kinds = [kind] if kind else list(RECORD_TABLES)
    params = {**_params(period, as_of), "unit": unit}
    parts = []
    for k in kinds:
        p = "XK" if k == "permit" else "CF"
        if which in ("late", "failing"):
            cond = "up.timely IS NOT TRUE" if which == "late" else "NOT up.valid"
            parts.append(f"""
            SELECT up.unit_code, up.kind, b.file_name, r.source_sheet AS sheet,
                   up.source_row AS "row",
                   r."{p}_WSH" AS doc_number, r."{p}_XDR_MC" AS subject_name,
                   up.decision_date, up.received_date, up.deadline,
                   CASE WHEN up.decision_date > up.received_date THEN '决定日期晚于上报日期'
                        WHEN up.timely IS NULL AND up.decision_date IS NOT NULL THEN '日历未覆盖'
                        WHEN up.decision_date IS NULL THEN '决定日期无法识别'
                        ELSE NULL END AS note,
                   r.errors, r.warnings,
                   (SELECT string_agg(DISTINCT e.field || ':' || e.rule, '; ' ORDER BY e.field || ':' || e.rule)
                    FROM errors e WHERE e.batch_id = up.batch_id AND e.record_id = up.record_id
                      AND e.severity = 'error') AS problems
            FROM ({_uploads_sql(k)}) up
            JOIN {RECORD_TABLES[k]} r USING (record_id)
            JOIN batches b ON b.batch_id = up.batch_id
            WHERE {cond} AND ($unit IS NULL OR up.unit_code IN {UNIT_FAMILY})
            """)
        elif which == "missing":
            parts.append(f"""
            SELECT e.unit_code, e.kind, b.file_name, e.source_sheet AS sheet,
                   e.source_row AS "row", e.doc_number,
                   e.subject_name, e.subject_code, e.decision_date, b.received_date AS ledger_received,
                   CASE WHEN e.doc_key IS NULL THEN '{MISSING_REASONS["no_doc_number"]}'
                        ELSE '{MISSING_REASONS["not_uploaded"]}' END AS reason
            FROM ({_ledger_sql(k)}) e JOIN batches b USING (batch_id)
            WHERE NOT e.matched AND ($unit IS NULL OR e.unit_code IN {UNIT_FAMILY})
            """)
        elif which == "unlisted":
            parts.append(f"SELECT * FROM ({_unlisted_sql(k)})")
        else:
            raise ValueError(f"unknown drill-down {which!r}")
    if which == "missing" and kind is None:
        parts.append(f"""
        SELECT e.unit_code, e.kind, b.file_name, e.source_sheet AS sheet,
               e.source_row AS "row", e.doc_number,
               e.subject_name, e.subject_code, e.decision_date, b.received_date AS ledger_received,
               '{MISSING_REASONS["unclassified"]}' AS reason
        FROM ({CURRENT_ENTRIES}) e JOIN batches b USING (batch_id)
        WHERE e.kind IS NULL AND ($unit IS NULL OR e.unit_code IN {UNIT_FAMILY})
        """)
    query = " UNION ALL ".join(parts) + ' ORDER BY unit_code, kind, file_name, sheet, "row"'
    return frame(con, query, params)


#: Why a ledger entry is in the 应报未报 list (``details(..., "missing")["reason"]``).
MISSING_REASONS = {
    "not_uploaded": "未上报",
    "no_doc_number": "台账文书号无法识别",
    "unclassified": "台账类别无法识别（应为行政许可或行政处罚）",
}

COUNTS = ("uploaded", "timely", "timeliness_undecided", "compliant", "ledger_entries",
          "ledger_matched", "zero_report_contradicted")  # fmt: skip


def ratios() -> list[pl.Expr]:
    """The three rates from summed counts, as defined above (null when the denominator is empty);
    for totals over several rows — both kinds of a unit, or the whole city."""
    decided = pl.col("uploaded") - pl.col("timeliness_undecided")
    return [
        pl.when(decided > 0).then(pl.col("timely") / decided).alias("timeliness_rate"),
        pl.when(pl.col("uploaded") > 0)
        .then(pl.col("compliant") / pl.col("uploaded"))
        .alias("compliance_rate"),
        pl.when(pl.col("ledger_entries") > 0)
        .then(pl.col("ledger_matched") / pl.col("ledger_entries"))
        .alias("completeness_rate"),
    ]


def unit_rates(per_kind: pl.DataFrame) -> pl.DataFrame:
    """Both kinds together per unit (what points items 6–8 and the summaries use): the counts are
    added and the rates recomputed from them; the uploads of each kind stay visible as
    ``uploaded_permit`` / ``uploaded_penalty``.  The ledger entries whose 类别 cannot be read
    (``ledger_unclassified``, the same on each kind's row) join the unit's entries, unmatched."""
    per_type = [
        pl.col("uploaded").filter(pl.col("kind") == k).sum().alias(f"uploaded_{k}")
        for k in ("permit", "penalty")
    ]
    keys = [
        c for c in ("unit_code", "unit_name", "unit_type", "parent_code") if c in per_kind.columns
    ]
    out = per_kind.group_by(*keys, maintain_order=True).agg(
        *[pl.col(c).sum() for c in COUNTS],
        *per_type,
        pl.col("ledger_unclassified").first(),
        pl.col("zero_report").any(),
        pl.col("ledger_received").first(),
        pl.col("calendar_gap").any(),
    )
    # Entries whose 类别 cannot be read belong to no kind, but to the unit's ledger: unmatched.
    out = out.with_columns(pl.col("ledger_entries") + pl.col("ledger_unclassified"))
    return out.with_columns(ratios())
