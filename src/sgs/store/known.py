"""What the office knew at the end of a day: the store seen as of ``$as_of``.

Every figure the office publishes must be recomputable as it stood on any past day, so every
read behind rates, points, problem lists and drill-downs goes through these relations instead of
the raw tables: a batch (an upload or a ledger) counts when its **received date** is on or
before ``$as_of`` — the received date, not the time it was ingested, so a file with an earlier
received date stored later does change the figures as of that date (publication freezes what
was published).  Record identities depend only on earlier versions (store/identity.py), so the
store as of a day is a prefix of the store in version order and filtering it is enough.

Each function returns a parenthesised SQL relation that expects the named parameter
``$as_of`` (a DATE) in the query that uses it.
"""

from __future__ import annotations

from sgs.store.tables import LEDGER_ORDER, RECORD_TABLES, VERSION_ORDER


def batches() -> str:
    """Batches received on or before ``$as_of``."""
    return "(SELECT * FROM batches WHERE received_date <= $as_of)"


def records(kind: str) -> str:
    """Stored rows (every version) of one kind received on or before ``$as_of``."""
    return f"(SELECT * FROM {RECORD_TABLES[kind]} WHERE received_date <= $as_of)"


def versions(kind: str) -> str:
    """The ``*_versions`` view as of the day: version numbers, count and current version among
    the versions received by then (a later correction is not yet known)."""
    return f"""(
    SELECT r.*,
        row_number() OVER w_{kind} AS version,
        count(*) OVER (PARTITION BY record_key) AS versions,
        row_number() OVER w_{kind} = count(*) OVER (PARTITION BY record_key) AS is_current,
        first_value(record_id) OVER w_{kind} AS first_record_id
    FROM {records(kind)} r JOIN batches b USING (batch_id)
    WINDOW w_{kind} AS (PARTITION BY record_key ORDER BY {VERSION_ORDER}
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))"""


def ledgers() -> str:
    """The ``ledgers`` view as of the day: the current ledger of a unit and month is the latest
    received by then, and ``first_received`` its month's first receipt by then (item 5)."""
    return f"""(
    SELECT b.*,
        row_number() OVER (PARTITION BY unit_code, period ORDER BY {LEDGER_ORDER}) = 1
            AS is_current,
        min(received_date) OVER (PARTITION BY unit_code, period) AS first_received
    FROM batches b WHERE kind = 'ledger' AND received_date <= $as_of)"""
