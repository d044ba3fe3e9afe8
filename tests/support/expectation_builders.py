"""Batches for the Great Expectations tests: one passing and one failing batch per expectation.

Every expectation of every committed suite (``expectations/suites/*.json``) falls in one of three
groups, each with its own way to pass and to fail:

* **field** checks on the stored records (not null, value set, length, code shape, date pairs):
  a row of a generated upload is edited *to the boundary* in the passing batch (a text of exactly
  the maximum length, a validity period ending on the day it starts, a decision on the received
  date, an 「其他-…」 value) and *just past it* in the failing batch (one character too many, a day
  too early, a blank, a value outside the set).  One row per expectation, so in the failing
  batch each failing expectation has exactly one unexpected value.
* **batch** checks (rows read, received date present and not in the future): a clean upload
  whose store entries are tampered with afterwards (see :func:`tamper`), validated with a
  ``today`` before its received date.
* **store** checks (文书号 unique per unit and kind): a unit uploads a record, then a file with a
  different subject under the same 文书号 (and one unchanged re-submission), then a file of
  re-submissions only.

All batches go through the real path: ``samples.generate`` -> ``write_upload`` -> ``ingest_file``
into a temporary data root -> ``run_batch``.  A new expectation of a known type is covered
automatically; one of an unknown type makes :func:`group_of` raise until a recipe is added here.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from sgs.quality.examples import WRITTEN
from sgs.quality.expectations import SUITES_DIR, ExpectationOutcome, run_batch
from sgs.reference.catalogue import load_catalogue
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store import database, sql
from sgs.store.ingest import ingest_file
from sgs.store.tables import RECORD_TABLES
from support.rates_builders import shared_build

UNIT = "111404000448224608"  # 长治市行政审批服务管理局 in config/units.csv
RECEIVED = date(2026, 10, 31)
TODAY = date(2026, 11, 2)
DATE_FORMAT = "%Y/%m/%d"
KIND_OF_SUITE = {"permit_batch": "permit", "penalty_batch": "penalty"}
KINDS = ("permit", "penalty")
OUT_OF_SET = "不在标准范围内"
REGEX_MISFITS = ("不合规代码", "12345", "X")
# Values that fit a code-shape check when the generated column happens to be all blank.
REGEX_FITS = ("111404000448224608", "447268812", "其他-军官证")
# Cells a date or amount column cannot hold: the store keeps them in ``original``.
UNREADABLE = {"date": "2026.10.07", "amount": "壹万元整"}
READABLE = {"date": "2026/10/01", "amount": "1.5"}
Key = tuple[str, str, str | None]  # (suite, expectation type, column as run_batch reports it)


# ----------------------------------------------------------------------------- the suites


def suite_files() -> list[Path]:
    return sorted(SUITES_DIR.glob("*.json"))


def load_suites() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in suite_files()}


def committed_expectations() -> list[tuple[str, int, dict]]:
    """(suite name, index, expectation) of every committed expectation, in file order."""
    return [
        (name, i, exp)
        for name, suite in load_suites().items()
        for i, exp in enumerate(suite["expectations"])
    ]


def column_of(kwargs: dict) -> str | None:
    """The column an outcome names, computed as ``run_batch`` does."""
    column = kwargs.get("column") or kwargs.get("column_A")
    if not column and kwargs.get("column_list"):
        column = ",".join(kwargs["column_list"])
    return column


def record_column(column: str) -> str:
    """The upload field behind a GE column (``XK_JDRQ__written`` is XK_JDRQ as written)."""
    return column.removesuffix(WRITTEN)


def is_parse_check(exp: dict) -> bool:
    """A "为可识别的日期/金额" check: a pattern on the cells as written."""
    column = exp["kwargs"].get("column") or ""
    return exp["type"] == "expect_column_values_to_match_regex" and column.endswith(WRITTEN)


def field_type(suite: str, exp: dict) -> str:
    spec = load_catalogue().kind(KIND_OF_SUITE[suite])  # type: ignore[arg-type]
    return spec.field(record_column(exp["kwargs"]["column"])).type


def key_of(suite: str, exp: dict) -> Key:
    return (suite, exp["type"], column_of(exp["kwargs"]))


def outcome_key(o: ExpectationOutcome) -> Key:
    return (o.suite, o.expectation, o.column)


BATCH_LEVEL = {
    ("expect_table_row_count_to_equal", None),
    ("expect_column_values_to_not_be_null", "received_date"),
    ("expect_column_max_to_be_between", "received_date"),
}
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
FIELD_TYPES = {
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_match_regex",
    "expect_column_value_lengths_to_be_between",
    PAIR,
}


def group_of(suite: str, exp: dict) -> str:
    """Which batches make this expectation pass and fail: "field", "batch" or "store"."""
    _, kind, column = key_of(suite, exp)
    if (kind, column) in BATCH_LEVEL:
        return "batch"
    if suite in KIND_OF_SUITE and kind in FIELD_TYPES:
        codes = set(load_catalogue().kind(KIND_OF_SUITE[suite]).codes)  # type: ignore[arg-type]
        kw = exp["kwargs"]
        columns = [kw["column"]] if "column" in kw else [kw["column_A"], kw["column_B"]]
        columns = [record_column(c) for c in columns]
        if set(columns) <= codes | {"received_date"} and any(c in codes for c in columns):
            return "field"
    if kind == "expect_compound_columns_to_be_unique" and exp["kwargs"]["column_list"] == [
        "unit_code",
        "kind",
        "doc_key",
    ]:
        return "store"
    raise AssertionError(
        f"no recipe for {suite}/{kind}/{column}: add one to tests/expectation_builders.py"
    )


# ----------------------------------------------------------------------------- row edits


def _parse(text: str | None) -> date | None:
    if text is None:
        return None
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


def _fmt(d: date) -> str:
    return d.strftime(DATE_FORMAT)


def _date_of(row: dict, column: str) -> date | None:
    return RECEIVED if column == "received_date" else _parse(row[column])


def _pair_holds(row: dict, kw: dict) -> bool:
    a, b = _date_of(row, kw["column_A"]), _date_of(row, kw["column_B"])
    return a is None or b is None or a >= b


def edit(row: dict, exp: dict, mode: str, suite: str = "") -> dict | None:
    """The row edited to satisfy ``exp`` at its boundary (``mode`` "pass") or to break it just
    past the boundary ("fail"); None when the row cannot carry the edit (or needs none)."""
    kind, kw, new = exp["type"], exp["kwargs"], dict(row)
    if kind == "expect_column_values_to_not_be_null":
        if mode == "pass":
            return None  # generated records fill every mandatory field
        new[record_column(kw["column"])] = None
    elif is_parse_check(exp):
        if mode == "pass":
            return None  # generated dates and amounts are readable
        new[record_column(kw["column"])] = UNREADABLE[field_type(suite, exp)]
    elif kind == "expect_column_values_to_be_in_set":
        if mode == "pass":
            return None  # generated values come from the catalogue
        assert OUT_OF_SET not in kw["value_set"]
        new[kw["column"]] = OUT_OF_SET
    elif kind == "expect_column_values_to_match_regex":
        values = REGEX_FITS if mode == "pass" else REGEX_MISFITS
        fits = [v for v in values if (re.search(kw["regex"], v) is not None) == (mode == "pass")]
        if mode == "pass" and not (fits and fits[0].startswith("其他-")):
            return None  # an 「其他-…」 value is the boundary; other columns get one if all blank
        new[kw["column"]] = fits[0]
    elif kind == "expect_column_value_lengths_to_be_between":
        assert "min_value" not in kw, "a minimum length needs its own recipe"
        new[kw["column"]] = "长" * (kw["max_value"] + (0 if mode == "pass" else 1))
    elif kind == PAIR:
        assert kw.get("or_equal"), "a strict comparison needs its own boundary"
        a, b = kw["column_A"], kw["column_B"]
        if a == "received_date":  # the record's date is the one to move
            new[b] = _fmt(RECEIVED + timedelta(days=0 if mode == "pass" else 10))
        else:
            base = _parse(row[b])
            if base is None:
                return None
            new[a] = _fmt(base - timedelta(days=0 if mode == "pass" else 1))
    else:
        raise AssertionError(f"no row edit for {kind}")
    return new


def _fill_blank_columns(rows: list[dict], exps: list[dict], suite: str) -> None:
    """A passing batch must exercise every checked column: give a code column (or an amount)
    left blank in every row a value that fits its shape (in one of the last rows, after the
    boundary edits)."""
    for exp in exps:
        kw = exp["kwargs"]
        if exp["type"] != "expect_column_values_to_match_regex":
            continue
        column = record_column(kw["column"])
        if any(r[column] is not None for r in rows):
            continue
        if is_parse_check(exp):
            fit = READABLE[field_type(suite, exp)]
        else:
            fit = next(v for v in REGEX_FITS if re.search(kw["regex"], v))
        rows[-1 - exps.index(exp) % len(rows)][column] = fit


def edited_frame(frame: pl.DataFrame, exps: list[dict], mode: str, suite: str) -> pl.DataFrame:
    """``frame`` with one row edited per expectation of ``exps`` (``mode`` as for :func:`edit`);
    an edit goes to a row where every *other* date-pair check still holds afterwards, so only
    the targeted check moves."""
    rows = frame.to_dicts()
    pairs = [e for e in exps if e["type"] == PAIR]
    used: set[int] = set()
    for exp in exps:
        for i, row in enumerate(rows):
            if i in used:
                continue
            new = edit(row, exp, mode, suite)
            if new is None and mode == "pass" and exp["type"] != PAIR:
                break  # nothing to edit: the generated records satisfy it
            if new is None:
                continue  # this row cannot carry the edit (a blank date)
            others = [p for p in pairs if p is not exp]
            if all(_pair_holds(new, p["kwargs"]) for p in others):
                rows[i] = new
                used.add(i)
                break
        else:
            raise AssertionError(f"no row of the sample can carry {mode} edit {exp}")
    if mode == "pass":
        _fill_blank_columns(rows, exps, suite)
    return pl.DataFrame(rows, schema=frame.schema)


# ----------------------------------------------------------------------------- batches


@dataclass
class Batch:
    """One stored batch, what it is for, its validation and its stored records."""

    name: str
    kind: str
    batch_id: int
    today: date
    expected_failures: dict[Key, int | None] = field(default_factory=dict)  # key -> unexpected
    outcomes: list[ExpectationOutcome] = field(default_factory=list)
    records: pl.DataFrame | None = None
    errors: pl.DataFrame | None = None  # what the upload validator found, as stored

    def outcome(self, key: Key) -> ExpectationOutcome:
        found = [o for o in self.outcomes if outcome_key(o) == key]
        assert len(found) == 1, f"{self.name}: {len(found)} outcomes for {key}"
        return found[0]

    def failed(self) -> set[Key]:
        return {outcome_key(o) for o in self.outcomes if not o.success}


def _ingest(root: Path, frame: pl.DataFrame, name: str, received: date = RECEIVED) -> int:
    path = write_upload(frame, root.parent / "uploads" / f"{name}.csv")
    result = ingest_file(path, unit=UNIT, received=received, root=root)
    assert result.status == "stored", result.message
    assert result.rows_read == frame.height
    return result.batch_id  # type: ignore[return-value]


def _sample(kind: str, n: int, seed: int, serial_start: int) -> pl.DataFrame:
    return generate(
        kind, n, seed=seed, unit=UNIT, start=date(2026, 1, 1), end=RECEIVED,
        serial_start=serial_start,
    ).frame  # fmt: skip


def _suite_groups(kind: str) -> tuple[str, list[dict], list[dict]]:
    suite = f"{kind}_batch"
    exps = load_suites()[suite]["expectations"]
    fields = [e for e in exps if group_of(suite, e) == "field"]
    batch = [e for e in exps if group_of(suite, e) == "batch"]
    return suite, fields, batch


def tamper(root: Path, kind: str, batch_id: int) -> None:
    """What ingest can never produce, written straight into the DuckDB file with a plain
    read-write connection: a lost row (``rows_read`` one more than the rows stored) and a record
    without a received date (the column is NOT NULL, so the constraint is dropped first)."""
    table = RECORD_TABLES[kind]
    with duckdb.connect(str(database.db_path(root))) as con:
        con.execute("UPDATE batches SET rows_read = rows_read + 1 WHERE batch_id = ?", [batch_id])
        con.execute(f"ALTER TABLE {table} ALTER COLUMN received_date DROP NOT NULL")
        con.execute(
            f"UPDATE {table} SET received_date = NULL WHERE record_id = "
            f"(SELECT min(record_id) FROM {table} WHERE batch_id = ?)",
            [batch_id],
        )


def build_batches(root: Path) -> dict[str, Batch]:
    """Ingest every scenario into ``root`` (document numbers kept apart by ``serial_start``)."""
    batches: dict[str, Batch] = {}
    to_tamper: list[tuple[str, int]] = []
    for k, kind in enumerate(KINDS):
        suite, fields, batch_level = _suite_groups(kind)
        n = len(fields) + 6
        clean = edited_frame(_sample(kind, n, 100 + k, 1), fields, "pass", suite)
        broken = edited_frame(_sample(kind, n, 200 + k, 1001), fields, "fail", suite)
        batches[f"clean_{kind}"] = Batch(
            f"clean_{kind}", kind, _ingest(root, clean, f"clean_{kind}"),
            # permits: today after the received date; penalties: today is the received date
            TODAY if kind == "permit" else RECEIVED,
        )  # fmt: skip
        batches[f"broken_{kind}"] = Batch(
            f"broken_{kind}", kind, _ingest(root, broken, f"broken_{kind}"), TODAY,
            {key_of(suite, e): 1 for e in fields},
        )  # fmt: skip
        tampered = _ingest(root, _sample(kind, 5, 300 + k, 2001), f"tampered_{kind}")
        expected: dict[Key, int | None] = {}
        for e in batch_level:
            expected[key_of(suite, e)] = 1 if e["type"].startswith("expect_column_values") else None
        batches[f"tampered_{kind}"] = Batch(
            f"tampered_{kind}", kind, tampered, RECEIVED - timedelta(days=1), expected
        )
        to_tamper.append((kind, tampered))

    # The store suite: same unit, same kind, one 文书号 for two different subjects — the second
    # file names both (a lone other subject would be a correction of the first, one record).
    first = _sample("permit", 4, 400, 5001)
    other = _sample("permit", 4, 401, 6001)
    subject = ("XK_XDR_SHXYM", "XK_XDR_ZJHM", "XK_XDR_MC")
    first_rows, other_rows = first.to_dicts(), other.to_dicts()
    assert next(r[c] for r in first_rows[:1] for c in subject if r[c]) != next(
        r[c] for r in other_rows[:1] for c in subject if r[c]
    )
    conflict = dict(other_rows[0], XK_WSH=first_rows[0]["XK_WSH"])
    second = pl.DataFrame(
        [conflict, first_rows[0], first_rows[1], other_rows[1]], schema=first.schema
    )
    resubmitted = pl.DataFrame(first_rows[2:], schema=first.schema)
    store_key = key_of("store_unique", load_suites()["store_unique"]["expectations"][0])
    for name, frame, expected_store in (
        # validated after the conflicting file arrived: the check looks at the store as it is now
        ("store_first", first, {store_key: 2}),
        # the two current records under that 文书号; the unchanged re-submission is no duplicate
        ("store_conflict", second, {store_key: 2}),
        ("store_resubmitted", resubmitted, {}),
    ):
        batches[name] = Batch(name, "permit", _ingest(root, frame, name), TODAY, expected_store)

    for kind, batch_id in to_tamper:
        tamper(root, kind, batch_id)
    return batches


def validate_all(root: Path, batches: dict[str, Batch]) -> None:
    with database.reader(root) as con:
        for b in batches.values():
            b.outcomes = run_batch(con, b.batch_id, today=b.today)
            table = RECORD_TABLES[b.kind]
            b.records = sql.frame(
                con, f"SELECT * FROM {table} WHERE batch_id = $b", {"b": b.batch_id}
            )
            b.errors = sql.frame(con, "SELECT * FROM errors WHERE batch_id = $b", {"b": b.batch_id})


def shared_batches(tmp_path_factory) -> tuple[Path, dict[str, Batch]]:
    """The batches and their validation, built once per session (also under pytest-xdist, where
    the first worker builds and the others load them).  The data root is only read afterwards:
    a test that writes works on a :func:`private_copy`."""

    def build(folder: Path) -> None:
        root = folder / "data"
        batches = build_batches(root)
        validate_all(root, batches)
        (folder / "batches.pickle").write_bytes(pickle.dumps(batches))

    folder = shared_build(tmp_path_factory, "expectation_batches", build)
    return folder / "data", pickle.loads((folder / "batches.pickle").read_bytes())


def private_copy(root: Path, target: Path) -> Path:
    """A copy of the store of ``root`` to write to (results, Data Docs)."""
    shutil.copytree(database.curated_dir(root), database.curated_dir(target))
    return target


def record_field(exp: dict) -> str:
    """The upload field a field check is about (for a date pair: the date that was moved)."""
    kw = exp["kwargs"]
    if "column" in kw:
        return record_column(kw["column"])
    return kw["column_B"] if kw["column_A"] == "received_date" else kw["column_A"]


def passing_and_failing(suite: str, exp: dict) -> tuple[str, str]:
    """The names of the batch where ``exp`` must pass and the one where it must fail."""
    group = group_of(suite, exp)
    if group == "store":
        return "store_resubmitted", "store_conflict"
    kind = KIND_OF_SUITE[suite]
    return f"clean_{kind}", f"{'broken' if group == 'field' else 'tampered'}_{kind}"


def html_resource_refs(text: str) -> Iterator[tuple[str, str, str]]:
    """(tag, attribute, value) of every src/href in an HTML page."""
    from html.parser import HTMLParser

    found: list[tuple[str, str, str]] = []

    class Refs(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if name in ("src", "href", "srcset", "data") and value is not None:
                    found.append((tag, name, value))

    Refs().feed(text)
    yield from found
