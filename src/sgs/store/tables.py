"""The store's tables and views, as DDL: what every batch, record, error and ledger becomes.

Record tables are generated from the catalogue (one typed column per field code), so a new
field in ``schemas/standard.toml`` is a new column; the rest is written out here.  (The
catalogue is the standard's schema, :mod:`sgs.validate.pandera_schema` the validation schema;
this module is only the database's.)

The DDL is what DuckLake accepts as well (issue 23): no PRIMARY KEY, UNIQUE or ON CONFLICT,
literal defaults only, one ``WINDOW`` name per statement.  Ids are unique because they are
allotted under the writer's lock (``max() + 1``: store/write.py, store/ledger.py); the tests
check it with a query (tests/support/store_keys.py).  Stores created before keep their keys:
a key adds nothing a writer relies on.
"""

from __future__ import annotations

from sgs.reference.catalogue import KINDS, Field, load_catalogue

RECORD_TABLES = {"permit": "permits", "penalty": "penalties"}
#: The order of a record's versions, over ``{table} r JOIN batches b``: by received date, then
#: file name and content, then the row's place in the file (record ids are given in file order,
#: sheet by sheet) — never by the order files were ingested, so ingesting the
#: same files in another order gives the same first and current versions.
VERSION_ORDER = "r.received_date, b.file_name, b.sha256, r.record_id"
VERSION_VIEWS = {"permit": "permit_versions", "penalty": "penalty_versions"}
#: The order of a unit's ledgers of one month, latest first: the current one is the first.
LEDGER_ORDER = "received_date DESC, file_name DESC, sha256 DESC, batch_id DESC"


def _sql_type(f: Field) -> str:
    return {"date": "DATE", "amount": "DECIMAL(18, 6)"}.get(f.type, "VARCHAR")


def _record_table_ddl(kind: str) -> str:
    spec = load_catalogue().kind(kind)  # type: ignore[arg-type]
    fields = ",\n    ".join(f'"{f.code}" {_sql_type(f)}' for f in spec.fields)
    table = RECORD_TABLES[kind]
    return f"""
CREATE TABLE IF NOT EXISTS {table} (
    record_id BIGINT NOT NULL,     -- unique: allotted under the writer's lock
    batch_id BIGINT NOT NULL,
    source_row INTEGER NOT NULL,
    source_sheet VARCHAR,          -- the workbook sheet of the row (null for a CSV)
    unit_code VARCHAR NOT NULL,
    received_date DATE NOT NULL,
    record_key VARCHAR NOT NULL,   -- one decision across uploads (store/identity.py)
    doc_key VARCHAR,
    subject_key VARCHAR,
    valid BOOLEAN NOT NULL,        -- no error on upload (warnings allowed)
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    {fields},
    original JSON,                 -- cells a typed column could not hold, as written
    extras JSON                    -- columns the standard does not know, as written
);
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS source_sheet VARCHAR;
CREATE OR REPLACE VIEW {VERSION_VIEWS[kind]} AS
SELECT r.*,
    row_number() OVER w_{kind} AS version,
    count(*) OVER (PARTITION BY record_key) AS versions,
    row_number() OVER w_{kind} = count(*) OVER (PARTITION BY record_key) AS is_current,
    first_value(record_id) OVER w_{kind} AS first_record_id
FROM {table} r JOIN batches b USING (batch_id)
WINDOW w_{kind} AS (PARTITION BY record_key ORDER BY {VERSION_ORDER}
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);
"""


TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL, value VARCHAR);  -- a key once
CREATE TABLE IF NOT EXISTS units (
    code VARCHAR NOT NULL, name VARCHAR NOT NULL, type VARCHAR NOT NULL, parent VARCHAR
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id BIGINT NOT NULL,       -- unique: allotted under the writer's lock
    sha256 VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    source_path VARCHAR,
    unit_code VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,          -- permit | penalty | ledger
    period VARCHAR,                 -- ledgers: YYYY-MM
    zero_report BOOLEAN NOT NULL DEFAULT false,
    layout VARCHAR,
    format VARCHAR,
    encoding VARCHAR,
    sheet VARCHAR,                  -- the sheets read, joined with "、" (null for a CSV)
    header_row INTEGER,
    received_date DATE NOT NULL,
    received_from VARCHAR,          -- option | manifest | folder | file time | today
    ingested_at TIMESTAMP NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_stored INTEGER NOT NULL,
    rows_valid INTEGER NOT NULL,
    rows_failing INTEGER NOT NULL,
    blank_rows INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    unknown_columns VARCHAR[],
    status VARCHAR NOT NULL         -- stored
);
CREATE TABLE IF NOT EXISTS errors (
    batch_id BIGINT NOT NULL,
    record_id BIGINT,               -- null for ledger rows
    sheet VARCHAR,                  -- the sheet of the row (null for a CSV)
    "row" INTEGER NOT NULL,         -- the row as the unit's spreadsheet (that sheet) shows it
    field VARCHAR NOT NULL,
    rule VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    value VARCHAR,
    suggestion VARCHAR              -- the corrected value where the fix is determined
);
CREATE TABLE IF NOT EXISTS quarantine (
    sha256 VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    source_path VARCHAR,
    stored_path VARCHAR NOT NULL,
    unit_code VARCHAR,
    kind VARCHAR,
    received_date DATE,
    reason_code VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_entries (
    entry_id BIGINT NOT NULL,       -- unique: allotted under the writer's lock
    batch_id BIGINT NOT NULL,
    source_row INTEGER NOT NULL,
    source_sheet VARCHAR,
    unit_code VARCHAR NOT NULL,
    period VARCHAR NOT NULL,
    kind VARCHAR,                   -- permit | penalty (null when 类别 is unreadable)
    doc_number VARCHAR,
    doc_key VARCHAR,
    subject_name VARCHAR,
    subject_code VARCHAR,
    decision_date DATE,
    valid BOOLEAN NOT NULL,
    duplicate BOOLEAN NOT NULL DEFAULT false  -- repeats an earlier entry: counted once
);
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS duplicate BOOLEAN DEFAULT false;
-- Stores made before sheets were recorded gain the columns (null: one sheet or a CSV).
ALTER TABLE errors ADD COLUMN IF NOT EXISTS sheet VARCHAR;
-- ... and before fix suggestions were (null: none was made then).
ALTER TABLE errors ADD COLUMN IF NOT EXISTS suggestion VARCHAR;
ALTER TABLE ledger_entries ADD COLUMN IF NOT EXISTS source_sheet VARCHAR;
-- Publication (sgs/report/publication.py): each revision of a month's published figures.
CREATE TABLE IF NOT EXISTS publications (
    period VARCHAR NOT NULL,
    revision INTEGER NOT NULL,      -- 1, 2, ... per period, never reused
    published_at TIMESTAMP NOT NULL,  -- office time
    as_of DATE NOT NULL,            -- the figures are what the office knew at the end of it
    published_by VARCHAR NOT NULL,
    bulletin BLOB NOT NULL,         -- the bulletin's bytes as published
    bulletin_format VARCHAR NOT NULL,  -- xlsx
    rates_sha256 VARCHAR NOT NULL,  -- of each table's canonical CSV (docs/policy.md section 8)
    points_sha256 VARCHAR NOT NULL,
    ranking_sha256 VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS published_rows (
    period VARCHAR NOT NULL,
    revision INTEGER NOT NULL,
    table_name VARCHAR NOT NULL,    -- rates | points | ranking
    position INTEGER NOT NULL,      -- the row's place in the output, from 0
    row_json JSON NOT NULL          -- the object exactly as `sgs rates|points --json` printed it
);
CREATE OR REPLACE VIEW ledgers AS
SELECT b.*,
    row_number() OVER (PARTITION BY unit_code, period ORDER BY {LEDGER_ORDER}) = 1 AS is_current,
    min(received_date) OVER (PARTITION BY unit_code, period) AS first_received
FROM batches b WHERE kind = 'ledger';
"""


def tables_ddl() -> str:
    """The whole DDL, run (idempotently) whenever a writer opens the store."""
    return TABLES + "".join(_record_table_ddl(k) for k in KINDS)
