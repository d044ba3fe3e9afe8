"""The store is the same whatever order its files were ingested in (docs/policy.md section 5).

A store must equal the one built by ingesting its files one at a time in version order
(received date, file name, content hash, place in file): a row's identity depends only on the
versions before it, so the store as of a day is a prefix of the store.  One set of upload files
of one unit holds every kind of history a record can have — a joint decision whose subjects are
corrected by code and by name, a subject dropped from a later file, a single subject sent
alone then with a second one (the F1/F2/F3 case of issue 18), two files received the same day,
and a copy of a file received later than the original — and is ingested in many orders, split
into runs, with the figures read in between.

The second half pins each tie-break of the version order (and of the ledgers' order) with a
case where two versions differ only in the later criteria, so that dropping a criterion changes
the first or current version, and the rule that the same bytes keep the earliest received date.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from support import warm_sgs
from support.rates_builders import UNIT_A, Row, company, land, upload_frame, write_ledger

from sgs.config import PROJECT_ROOT
from sgs.intake.landing import sha256_of
from sgs.measure.rates import rates
from sgs.samples.writers import write_upload
from sgs.store import database
from sgs.store.ingest import ingest_file, ingest_files, ingest_ledger

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_identity_order")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
D = {i: f"长审批许〔2026〕{i}号" for i in range(1, 10)}
OCTOBER = "2026/10/09"  # a Friday; received by 2026-10-19 is timely
NOVEMBER = "2026/11/02"  # a Monday


def wrong_code(i: int) -> str:
    """Subject ``i``'s credit code with a wrong check character (a ``uscc_check`` error)."""
    code = company(i)[1]
    return code[:-1] + ("1" if code[-1] != "1" else "2")


# The files, by a short name: (received day, file name, rows).  Worked out in version order
# (A, B, C, A2 = A again, E, then F, which sorts after E by name on the same day):
# - D1, a joint decision: A has subjects 5 and 6 (6's code wrong); B corrects 6's code (same
#   name: matched by name) and adds subject 7 (a new record); C renames 5 (matched by code).
#   Three October records, one of them (6) failing on its first version.
# - D2: a name corrected (C); D3: a code corrected (C, matched by name; failing first version).
# - D4: subjects 10 and 11 (A); F sends 10 alone: 11 is dropped and stays a record of its own.
# - D5, F1/F2/F3: A has subject 12 (F1); B has 13 alone (F2): the file's single subject and the
#   store's single record, so it continues 12's record; F has 12 and 13 (F3): 12 continues
#   that record by code (the earlier row wins it), 13 becomes a new record — November, late.
# - D6: E (许可_1.csv) and F (许可_2.csv) the same day: E's failing row is the first version.
# - D8, a key already taken: A has 15, B 16 alone (continuing 15's record); F has 16 then 15:
#   16, the earlier row, wins the record, and 15 is a new record whose plain key 15's record
#   already has — it gets a key made unique by the file's content hash and row (November, late).
# - D9, a tie between records: A has 18 named 同名, B 18 again and 19 (another name, a new
#   record), C 19 renamed 同名; F names 同名 under a new code: the name matches both records and
#   the one first received (18's, A) wins, whatever order the files were ingested in.
# - A row of B without a 文书号: a record of its own (failing: the number is required).
# October: 12 records, all timely, 9 compliant.  November: D5's and D8's new records (late,
# valid) and D6 (timely, failing first version): 3 records, 1 timely, 2 compliant.
SHARED = "长治市同名商贸有限公司"
FILES: dict[str, tuple[str, str, list[Row]]] = {
    "A": ("2026-10-12", "许可.csv", [
        Row(D[1], OCTOBER, subject=5),
        Row(D[1], OCTOBER, subject=6, code=wrong_code(6)),
        Row(D[2], OCTOBER, subject=8),
        Row(D[3], OCTOBER, subject=9, code=wrong_code(9)),
        Row(D[4], OCTOBER, subject=10),
        Row(D[4], OCTOBER, subject=11),
        Row(D[5], OCTOBER, subject=12),
        Row(D[8], OCTOBER, subject=15),
        Row(D[9], OCTOBER, subject=18, name=SHARED),
    ]),
    "B": ("2026-10-14", "许可.csv", [
        Row(D[1], OCTOBER, subject=6),
        Row(D[1], OCTOBER, subject=7),
        Row(D[5], OCTOBER, subject=13),
        Row(D[8], OCTOBER, subject=16),
        Row(D[9], OCTOBER, subject=18, name=SHARED),
        Row(D[9], OCTOBER, subject=19),
        Row("", OCTOBER, subject=17),
    ]),
    "C": ("2026-10-20", "许可.csv", [
        Row(D[2], OCTOBER, subject=8, name="长治市更正后名称有限公司"),
        Row(D[3], OCTOBER, subject=9),
        Row(D[1], OCTOBER, subject=5, name="长治市改名后的第五公司"),
        Row(D[9], OCTOBER, subject=19, name=SHARED),
    ]),
    "E": ("2026-11-03", "许可_1.csv", [Row(D[6], NOVEMBER, subject=14, broken=True)]),
    "F": ("2026-11-03", "许可_2.csv", [
        Row(D[4], OCTOBER, subject=10),
        Row(D[5], OCTOBER, subject=12),
        Row(D[5], OCTOBER, subject=13),
        Row(D[6], NOVEMBER, subject=14),
        Row(D[8], OCTOBER, subject=16),
        Row(D[8], OCTOBER, subject=15),
        Row(D[9], OCTOBER, subject=20, name=SHARED),
    ]),
}  # fmt: skip
COPY = ("A2", "A", "2026-10-30")  # the same bytes as A, received later (the same name)
VERSION_ORDER = ["A", "B", "C", "A2", "E", "F"]
RECEIVED = {"A": "2026-10-12", "B": "2026-10-14", "C": "2026-10-20", "A2": "2026-10-30",
            "E": "2026-11-03", "F": "2026-11-03"}  # fmt: skip
PERIODS = ("2026-10", "2026-11")


def landed(root: Path, name: str) -> Path:
    day, file_name = (COPY[2], FILES[COPY[1]][1]) if name == COPY[0] else FILES[name][:2]
    return root / "raw" / UNIT_A / day / file_name


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """The files in a landing zone, written once: every store is built from these bytes."""
    root = tmp_path_factory.mktemp("order-source")
    for day, file_name, rows in FILES.values():
        land(root, UNIT_A, day, file_name, "permit", rows)
    copy = landed(root, COPY[0])
    copy.parent.mkdir(parents=True)
    shutil.copyfile(landed(root, COPY[1]), copy)
    return root


def fresh(source: Path, base: Path) -> Path:
    root = Path(tempfile.mkdtemp(dir=base))
    shutil.copytree(source / "raw", root / "raw")
    return root


def ingest(root: Path, names: list[str]) -> None:
    """The files in this order, in one run (as file after file would store them)."""
    for _, result in ingest_files([landed(root, name) for name in names], root=root):
        assert result.status in ("stored", "skipped"), result


def figures(root: Path, as_of: date | None = None) -> dict[str, list[dict]]:
    """``sgs rates --period P --json`` of the unit's permits, computed in this process."""
    with database.reader(root) as con:
        return {
            p: json.loads(rates(con, p, UNIT_A, "permit", as_of=as_of).write_json())
            for p in PERIODS
        }


def store(root: Path) -> list[tuple]:
    """Every stored row with its key, version and content: all but the ids, which follow the
    order of ingestion."""
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        return con.execute(
            """SELECT v.* EXCLUDE (record_id, batch_id, first_record_id),
                      b.sha256, b.file_name, b.received_date AS batch_received
               FROM permit_versions v JOIN batches b USING (batch_id) ORDER BY ALL"""
        ).fetchall()


def keys(root: Path) -> dict[tuple, tuple[str, date]]:
    """Each row (file content, sheet, row) → (record key, received date)."""
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        rows = con.execute(
            """SELECT b.sha256, r.source_sheet, r.source_row, r.record_key, r.received_date
               FROM permits r JOIN batches b USING (batch_id)"""
        ).fetchall()
    return {(sha, sheet, row): (key, received) for sha, sheet, row, key, received in rows}


@pytest.fixture(scope="module")
def reference(source, tmp_path_factory) -> tuple[Path, list[tuple], dict]:
    """The store built in version order, and its figures (worked out above by hand)."""
    root = fresh(source, tmp_path_factory.mktemp("order-reference"))
    ingest(root, VERSION_ORDER)
    found = figures(root)
    october, november = found["2026-10"][0], found["2026-11"][0]
    assert [october[k] for k in ("uploaded", "timely", "compliant")] == [12, 12, 9]
    assert [november[k] for k in ("uploaded", "timely", "compliant")] == [3, 1, 2]
    return root, store(root), found


# A handful of orders (each costs six ingests): the reverse of version order — F3 before F1
# and F2, the later copy before the original, every correction before what it corrects; C
# first, so that D9's second record has the lowest record ids when F is matched, and the copy
# last; and a few drawn ones, the same on every run.
@settings(max_examples=2, deadline=None, derandomize=True)
@given(order=st.permutations(VERSION_ORDER), split=st.integers(0, len(VERSION_ORDER)))
@example(order=VERSION_ORDER[::-1], split=3)
@example(order=["C", "B", "A", "F", "E", "A2"], split=2)
def test_any_order_and_split_gives_the_same_store_and_figures(
    source, reference, tmp_path_factory, order, split
):
    _, ref_store, ref_figures = reference
    root = fresh(source, tmp_path_factory.getbasetemp())
    ingest(root, order[:split])
    if split:
        figures(root)  # a run reads the figures, then the rest arrives
    ingest(root, order[split:])
    assert store(root) == ref_store
    assert figures(root) == ref_figures


def test_the_store_as_of_a_day_is_a_prefix_of_the_store(source, reference, tmp_path):
    """After the files received by day D, in any order, the rows have exactly the keys the
    full store gives the rows received by D, and the figures are the full store's as of D."""
    full = keys(reference[0])
    root = fresh(source, tmp_path)
    for run in [["B", "A"], ["C"], ["A2"], ["F", "E"]]:  # a day's files, in the wrong order
        ingest(root, run)
        day = date.fromisoformat(max(RECEIVED[n] for n in run))
        assert keys(root) == {k: v for k, v in full.items() if v[1] <= day}
        assert figures(root, day) == figures(reference[0], day)


@pytest.mark.parametrize("order", list(itertools.permutations(["F1", "F2", "F3"])), ids="-".join)
def test_one_subject_then_the_other_alone_then_both_in_any_order(tmp_path, order):
    # Issue 18: D1 for subject 12 (F1, 10-12), for 13 alone (F2, 10-14: continues the single
    # stored record), for both (F3, 11-03: 12 continues it, 13 is a new record).  Whatever the
    # order of ingestion: October 1 record (timely), November 1 (late).
    files = {
        "F1": land(tmp_path, UNIT_A, "2026-10-12", "许可.csv", "permit", [Row(D[1], OCTOBER, 12)]),
        "F2": land(tmp_path, UNIT_A, "2026-10-14", "许可.csv", "permit", [Row(D[1], OCTOBER, 13)]),
        "F3": land(tmp_path, UNIT_A, "2026-11-03", "许可.csv", "permit", [
            Row(D[1], OCTOBER, 12), Row(D[1], OCTOBER, 13),
        ]),
    }  # fmt: skip
    for name in order:
        ingest_file(files[name], root=tmp_path)
    found = figures(tmp_path)
    october, november = found["2026-10"][0], found["2026-11"][0]
    assert (october["uploaded"], october["timely"]) == (1, 1)
    assert (november["uploaded"], november["timely"]) == (1, 0)


def cli(root: Path, *args: str) -> str:
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    env.pop("SGS_UNITS_FILE", None)
    run = warm_sgs.run([*args], env=env, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_sgs_ingest_in_reverse_order_gives_the_same_figures(source, reference, tmp_path):
    root = fresh(source, tmp_path)
    cli(root, "ingest", *(str(landed(root, n)) for n in reversed(VERSION_ORDER)))
    for period in PERIODS:
        out = cli(root, "rates", "--period", period, "--unit", UNIT_A, "--kind", "permit", "--json")
        assert json.loads(out) == reference[2][period]
    assert store(root) == reference[1]


def test_a_store_keyed_again_replays_its_batches_in_version_order(source, reference, tmp_path):
    """Issue 18: re-keying a whole store (one keyed by older rules, on its next write) replays
    the batches in version order, not in the order they were stored: ingested in reverse, then
    keyed again, the store is the reference."""
    root = fresh(source, tmp_path)
    ingest(root, VERSION_ORDER[::-1])
    with duckdb.connect(str(database.db_path(root))) as con:  # as older rules left it
        con.execute("UPDATE permits SET record_key = 'permit|' || record_id")
        con.execute("DELETE FROM meta WHERE key IN ('schema', 'record_identity')")
    with database.writer(root):
        pass  # the next write finds the old rules and keys the store again
    assert store(root) == reference[1]
    assert figures(root) == reference[2]


# ----------------------------------------------------------------------------- the tie-breaks


def write_variant(path: Path, rows: list[Row], wanted) -> str:
    """Write ``rows`` as an upload at ``path`` with a title row varied until the content hash
    satisfies ``wanted`` (title rows are not data: the records stay the same)."""
    for n in range(200):
        write_upload(upload_frame("permit", UNIT_A, rows), path, title=f"行政许可信息（第{n}稿）")
        sha = sha256_of(path)
        if wanted(sha):
            return sha
    raise AssertionError("no variant found")


def first_and_current(root: Path) -> tuple[tuple, tuple]:
    """(file name, row) of the only record's first and current version."""
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        rows = con.execute(
            """SELECT b.file_name, v.source_row, v.version, v.is_current
               FROM permit_versions v JOIN batches b USING (batch_id) ORDER BY v.version"""
        ).fetchall()
        assert con.execute("SELECT count(DISTINCT record_key) FROM permits").fetchone() == (1,)
    first = next(r[:2] for r in rows if r[2] == 1)
    current = next(r[:2] for r in rows if r[3])
    return first, current


def compliant(root: Path, period: str = "2026-10") -> int:
    return figures(root)[period][0]["compliant"]


BROKEN = [Row(D[7], OCTOBER, subject=5, broken=True)]
FIXED = [Row(D[7], OCTOBER, subject=5)]


def test_the_earlier_received_date_is_the_first_version(tmp_path):
    # The original (failing) is received 10-12 as b.csv, the correction 10-13 as a.csv with the
    # smaller content hash, and ingested first: only the received date puts the original first.
    late = tmp_path / "in" / "a.csv"
    early = tmp_path / "in2" / "b.csv"
    sha_late = write_variant(late, FIXED, lambda s: True)
    write_variant(early, BROKEN, lambda s: s > sha_late)
    ingest_file(late, unit=UNIT_A, received=date(2026, 10, 13), root=tmp_path)
    ingest_file(early, unit=UNIT_A, received=date(2026, 10, 12), root=tmp_path)
    assert first_and_current(tmp_path) == (("b.csv", 3), ("a.csv", 3))
    assert compliant(tmp_path) == 0


def test_on_one_day_the_file_name_orders_the_versions(tmp_path):
    # The same day: 许可_1.csv (failing) and 许可_2.csv (the correction, smaller content hash,
    # ingested first): the name puts 许可_1 first.
    second = tmp_path / "in" / "许可_2.csv"
    first = tmp_path / "in" / "许可_1.csv"
    sha_second = write_variant(second, FIXED, lambda s: True)
    write_variant(first, BROKEN, lambda s: s > sha_second)
    for path in (second, first):
        ingest_file(path, unit=UNIT_A, received=date(2026, 10, 12), root=tmp_path)
    assert first_and_current(tmp_path) == (("许可_1.csv", 3), ("许可_2.csv", 3))
    assert compliant(tmp_path) == 0


def test_on_one_day_under_one_name_the_content_hash_orders_the_versions(tmp_path):
    # Two different files both named 许可.csv, received the same day: the one with the smaller
    # content hash (failing) is first although it is ingested second.
    big = tmp_path / "in" / "许可.csv"
    small = tmp_path / "in2" / "许可.csv"
    sha_big = write_variant(big, FIXED, lambda s: True)
    write_variant(small, BROKEN, lambda s: s < sha_big)
    for path in (big, small):
        ingest_file(path, unit=UNIT_A, received=date(2026, 10, 12), root=tmp_path)
    with duckdb.connect(str(database.db_path(tmp_path)), read_only=True) as con:
        (first_valid,) = con.execute(
            "SELECT valid FROM permit_versions WHERE version = 1"
        ).fetchone()
    assert first_valid is False
    assert compliant(tmp_path) == 0


def test_in_one_file_the_place_orders_the_versions(tmp_path):
    # One file repeats a row: the repeat (row 4, a ``duplicate`` error) is the second version.
    # The rows are then laid out in the table in reverse (DuckDB promises no physical order,
    # and a store rebuilt from an export need not keep it): the place still decides.
    path = tmp_path / "in" / "许可.csv"
    write_variant(path, [*FIXED, *FIXED], lambda s: True)
    ingest_file(path, unit=UNIT_A, received=date(2026, 10, 12), root=tmp_path)
    with database.writer(tmp_path) as con:
        con.execute("CREATE TEMP TABLE laid AS SELECT * FROM permits ORDER BY record_id DESC")
        con.execute("DELETE FROM permits")
        con.execute("INSERT INTO permits SELECT * FROM laid")
    assert first_and_current(tmp_path) == (("许可.csv", 3), ("许可.csv", 4))
    assert compliant(tmp_path) == 1


def ledger_variant(path: Path, docs: list[str], wanted) -> str:
    """A ledger of ``docs`` at ``path``, its title row varied until its hash satisfies ``wanted``."""
    rows = [["1", "行政许可", d, company(5)[0], company(5)[1], "2026-10-09"] for d in docs]
    for n in range(200):
        write_ledger(path, rows, title_rows=[[f"行政许可台账（第{n}稿）"]])
        sha = sha256_of(path)
        if wanted(sha):
            return sha
    raise AssertionError("no variant found")


def current_ledger(root: Path) -> tuple[str, int]:
    """The current ledger's content hash (the ``ledgers`` view) and its entries in the rates."""
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        (sha,) = con.execute("SELECT sha256 FROM ledgers WHERE is_current").fetchone()
    return sha, figures(root)["2026-10"][0]["ledger_entries"]


TWO, THREE = [D[1], D[2]], [D[1], D[2], D[3]]


@pytest.mark.parametrize("case", ["received", "name", "hash"])
def test_the_current_ledger_is_the_last_by_received_date_then_name_then_hash(tmp_path, case):
    # The ledger that must be current (three entries) loses on every later criterion and is
    # ingested first, so dropping the deciding criterion makes the other one current.
    src = tmp_path / "in"
    if case == "received":
        current, other = src / "a" / "台账.csv", src / "b" / "台账_更正.csv"
        days = (date(2026, 11, 3), date(2026, 11, 2))
    elif case == "name":
        current, other = src / "a" / "台账_2.csv", src / "b" / "台账_1.csv"
        days = (date(2026, 11, 2), date(2026, 11, 2))
    else:
        current, other = src / "a" / "台账.csv", src / "b" / "台账.csv"
        days = (date(2026, 11, 2), date(2026, 11, 2))
    sha_current = ledger_variant(current, THREE, lambda s: True)
    # Up to the deciding criterion the other ledger wins the content hash (or, when the hash
    # decides, loses it): dropping the criterion hands the other one the place.
    ledger_variant(other, TWO, lambda s: (s < sha_current) == (case == "hash"))
    for path, day in zip((current, other), days, strict=True):
        ingest_ledger(path, unit=UNIT_A, period="2026-10", received=day, root=tmp_path)
    assert current_ledger(tmp_path) == (sha_current, 3)


# ----------------------------------------------------------------------------- the same bytes


def test_the_same_bytes_keep_the_earliest_received_date_and_are_keyed_again(tmp_path):
    # F1 (subject 12 alone) is received 10-12 as 许可.csv and again 11-02 as 重发.csv; F2
    # (subject 13 alone) 10-20.  Ingested: the copy of 11-02, F2, then the original of 10-12.
    # The batch takes 10-12 and the name 许可.csv, counts in October, and the records are keyed
    # as in version order: F1 first, F2 continuing its record (one record, two versions).
    f1 = land(tmp_path, UNIT_A, "2026-10-12", "许可.csv", "permit", [Row(D[5], OCTOBER, 12)])
    f2 = land(tmp_path, UNIT_A, "2026-10-20", "许可.csv", "permit", [Row(D[5], OCTOBER, 13)])
    copy = tmp_path / "raw" / UNIT_A / "2026-11-02" / "重发.csv"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(f1, copy)
    reference = tmp_path / "reference"
    shutil.copytree(tmp_path / "raw", reference / "raw")
    for path in (copy, f2, f1):
        ingest_file(path, root=tmp_path)
    with duckdb.connect(str(database.db_path(tmp_path)), read_only=True) as con:
        batch = con.execute(
            "SELECT received_date, file_name FROM batches WHERE sha256 = ?", [sha256_of(f1)]
        ).fetchall()
    assert batch == [(date(2026, 10, 12), "许可.csv")]
    found = figures(tmp_path)
    assert (found["2026-10"][0]["uploaded"], found["2026-11"][0]["uploaded"]) == (1, 0)
    for path in (f1, f2):
        ingest_file(reference / path.relative_to(tmp_path), root=reference)
    assert keys(tmp_path) == keys(reference)


def test_an_earlier_copy_is_validated_against_its_own_received_date(tmp_path):
    """A decision of 10-19 received on 10-18 fails 'decided no later than received'; the same
    bytes received again on 10-20 would pass.  Whichever copy is ingested first, the store holds
    the upload as received on 10-18: not valid, with the error (found by the oracle's seed 5)."""
    stores = {}
    for order in ("original first", "copy first"):
        root = tmp_path / order.replace(" ", "_")
        original = land(root, UNIT_A, "2026-10-18", "许可.csv", "permit",
                        [Row(D[7], "2026/10/19", 14)])  # fmt: skip
        copy = root / "raw" / UNIT_A / "2026-10-20" / "许可.csv"
        copy.parent.mkdir(parents=True)
        shutil.copyfile(original, copy)
        for path in (original, copy) if order == "original first" else (copy, original):
            ingest_file(path, root=root)
        with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
            stores[order] = (
                con.execute("SELECT received_date, valid, errors FROM permits").fetchall(),
                con.execute("SELECT field, rule FROM errors ORDER BY ALL").fetchall(),
                con.execute("SELECT received_date, file_name, rows_valid FROM batches").fetchall(),
            )
    assert stores["copy first"] == stores["original first"]
    (records, errors, batches) = stores["copy first"]
    assert records == [(date(2026, 10, 18), False, 1)]
    assert ("XK_JDRQ", "date_range") in errors
    assert batches == [(date(2026, 10, 18), "许可.csv", 0)]
