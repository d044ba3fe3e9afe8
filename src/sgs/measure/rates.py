"""The three rates of docs/policy.md, per unit, kind and month, as SQL over the store.

- 及时率 timeliness and 合规率 compliance belong to the month of **upload**: the records whose
  first version was received in the period.  A later re-submission (a correction) does not
  count again and does not change the original upload's verdict.
- 完整率 completeness belongs to the month of the **ledger**: the entries of the unit's
  current ledger for the period, matched on kind and normalised 文书号 against every stored
  record of the unit (any version, valid or not), whenever it arrived.

Timely ⇔ received on or before the 7th workday after the decision date.  With running workday
numbers ``wn`` (the count of workdays up to a day), that is ``wn(received) < wn(decided) + 7``,
or equal when the received day is itself a workday — a join on the calendar, no loops.  A date
the calendar does not cover makes that record's timeliness *undecided*: it is left out of the
rate and the row carries ``calendar_gap = true``, never a silent guess.  A record whose decision
date cannot be read is late; one received on or before its decision date is timely whatever the
calendar says.
"""

from __future__ import annotations

import duckdb
import polars as pl

from sgs.periods import is_period, period_bounds
from sgs.reference.catalogue import load_catalogue
from sgs.store.sql import frame, run
from sgs.store.tables import RECORD_TABLES, VERSION_ORDER


def _settings_params() -> dict:
    from sgs.reference.settings import load_settings

    s = load_settings()
    return {"deadline": s.deadline_workdays, "match_subject": s.match_subject_when_ambiguous}


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
    table = RECORD_TABLES[kind]
    decided = load_catalogue().kind(kind).decision_date
    return f"""
    WITH firsts AS (
        SELECT arg_min(r.record_id, ({VERSION_ORDER})) AS record_id
        FROM {table} r JOIN batches b USING (batch_id) WHERE r.received_date < $end
        GROUP BY r.record_key HAVING min(r.received_date) >= $start
    )
    SELECT r.record_id, r.unit_code, '{kind}' AS kind, r.batch_id, r.source_row,
           r.received_date, r."{decided}" AS decision_date, r.valid,
           dl.day AS deadline,
           CASE
             WHEN r."{decided}" IS NULL THEN false
             WHEN r.received_date <= r."{decided}" THEN true
             WHEN dl.day IS NOT NULL THEN r.received_date <= dl.day
             -- the deadline lies beyond the calendar, but both dates are inside it
             WHEN cd.day IS NOT NULL AND cr.day IS NOT NULL THEN
                  cr.workday_no < cd.workday_no + $deadline
                  OR (cr.workday_no = cd.workday_no + $deadline AND cr.workday)
             ELSE NULL
           END AS timely
    FROM {table} r
    JOIN firsts USING (record_id)
    LEFT JOIN calendar cd ON cd.day = r."{decided}"
    LEFT JOIN calendar cr ON cr.day = r.received_date
    LEFT JOIN calendar dl ON dl.workday AND dl.workday_no = cd.workday_no + $deadline
    """


#: The entries that count for a period: those of each unit's current ledger, each repeat once.
CURRENT_ENTRIES = """
    SELECT e.* FROM ledger_entries e
    JOIN ledgers l ON l.batch_id = e.batch_id AND l.is_current
    WHERE e.period = $period AND NOT e.duplicate"""


def _ledger_sql(kind: str) -> str:
    """Entries of the current ledgers of a period with whether a stored record matches them."""
    table = RECORD_TABLES[kind]
    p = load_catalogue().kind(kind).prefix  # type: ignore[arg-type]
    return f"""
    WITH entries AS (SELECT * FROM ({CURRENT_ENTRIES}) WHERE kind = '{kind}'),
    stored AS (
        SELECT unit_code, doc_key, count(DISTINCT record_key) AS records,
               list(DISTINCT upper(coalesce("{p}_XDR_SHXYM", "{p}_XDR_ZJHM"))) AS codes,
               list(DISTINCT "{p}_XDR_MC") AS names
        FROM {table}
        WHERE doc_key IN (SELECT doc_key FROM entries)
        GROUP BY ALL
    )
    SELECT e.*,
           s.doc_key IS NOT NULL
           AND (NOT $match_subject OR s.records = 1 OR e.subject_code IS NULL
                OR list_contains(s.codes, upper(e.subject_code))
                OR list_contains(s.names, e.subject_name)) AS matched
    FROM entries e
    LEFT JOIN stored s ON s.unit_code = e.unit_code AND s.doc_key = e.doc_key
    """


def rates(
    con: duckdb.DuckDBPyConnection,
    period: str,
    unit: str | None = None,
    kind: str | None = None,
) -> pl.DataFrame:
    """One row per unit and kind (every registered unit, both kinds unless filtered)."""
    start, end = period_bounds(period)
    kinds = [kind] if kind else list(RECORD_TABLES)
    params = {"start": start, "end": end, "period": period, **_settings_params()}
    uploads = " UNION ALL ".join(f"SELECT * FROM ({_uploads_sql(k)})" for k in kinds)
    ledger = " UNION ALL ".join(f"SELECT * FROM ({_ledger_sql(k)})" for k in kinds)
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
        FROM ledgers WHERE period = $period AND is_current GROUP BY ALL
    ),
    grid AS (SELECT u.code AS unit_code, u.name AS unit_name, u.type AS unit_type, k.kind
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
           coalesce(l.ledger_entries, 0) AS ledger_entries,
           coalesce(l.ledger_matched, 0) AS ledger_matched,
           CASE WHEN coalesce(l.ledger_entries, 0) > 0
                THEN l.ledger_matched / l.ledger_entries END AS completeness_rate,
           coalesce(uc.n, 0) AS ledger_unclassified,
           coalesce(a.undecided, 0) > 0 AS calendar_gap
    FROM grid g
    LEFT JOIN up_agg a USING (unit_code, kind)
    LEFT JOIN led_agg l USING (unit_code, kind)
    LEFT JOIN ledger_state ls USING (unit_code)
    LEFT JOIN unclassified uc USING (unit_code)
    WHERE $unit IS NULL OR g.unit_code = $unit
    ORDER BY g.unit_type, g.unit_code, g.kind
    """
    return frame(con, query, {**params, "unit": unit})


def details(
    con: duckdb.DuckDBPyConnection,
    period: str,
    which: str,
    unit: str | None = None,
    kind: str | None = None,
) -> pl.DataFrame:
    """Drill-downs: ``late`` and ``failing`` records of the period, ``missing`` ledger entries."""
    start, end = period_bounds(period)
    kinds = [kind] if kind else list(RECORD_TABLES)
    params = {"start": start, "end": end, "period": period, "unit": unit, **_settings_params()}
    parts = []
    for k in kinds:
        table = RECORD_TABLES[k]
        p = "XK" if k == "permit" else "CF"
        if which in ("late", "failing"):
            cond = "up.timely IS NOT TRUE" if which == "late" else "NOT up.valid"
            parts.append(f"""
            SELECT up.unit_code, up.kind, b.file_name, r.source_sheet AS sheet,
                   up.source_row AS "row",
                   r."{p}_WSH" AS doc_number, r."{p}_XDR_MC" AS subject_name,
                   up.decision_date, up.received_date, up.deadline,
                   CASE WHEN up.timely IS NULL AND up.decision_date IS NOT NULL THEN '日历未覆盖'
                        WHEN up.decision_date IS NULL THEN '决定日期无法识别'
                        ELSE NULL END AS note,
                   r.errors, r.warnings,
                   (SELECT string_agg(DISTINCT e.field || ':' || e.rule, '; ' ORDER BY e.field || ':' || e.rule)
                    FROM errors e WHERE e.batch_id = up.batch_id AND e.record_id = up.record_id
                      AND e.severity = 'error') AS problems
            FROM ({_uploads_sql(k)}) up
            JOIN {table} r USING (record_id)
            JOIN batches b ON b.batch_id = up.batch_id
            WHERE {cond} AND ($unit IS NULL OR up.unit_code = $unit)
            """)
        elif which == "missing":
            parts.append(f"""
            SELECT e.unit_code, e.kind, b.file_name, e.source_sheet AS sheet,
                   e.source_row AS "row", e.doc_number,
                   e.subject_name, e.subject_code, e.decision_date, b.received_date AS ledger_received,
                   CASE WHEN e.doc_key IS NULL THEN '{MISSING_REASONS["no_doc_number"]}'
                        ELSE '{MISSING_REASONS["not_uploaded"]}' END AS reason
            FROM ({_ledger_sql(k)}) e JOIN batches b USING (batch_id)
            WHERE NOT e.matched AND ($unit IS NULL OR e.unit_code = $unit)
            """)
        else:
            raise ValueError(f"unknown drill-down {which!r}")
    if which == "missing" and kind is None:
        parts.append(f"""
        SELECT e.unit_code, e.kind, b.file_name, e.source_sheet AS sheet,
               e.source_row AS "row", e.doc_number,
               e.subject_name, e.subject_code, e.decision_date, b.received_date AS ledger_received,
               '{MISSING_REASONS["unclassified"]}' AS reason
        FROM ({CURRENT_ENTRIES}) e JOIN batches b USING (batch_id)
        WHERE e.kind IS NULL AND ($unit IS NULL OR e.unit_code = $unit)
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
          "ledger_matched")  # fmt: skip


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
    out = per_kind.group_by("unit_code", "unit_name", "unit_type", maintain_order=True).agg(
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
