"""Great Expectations: every committed expectation passes on one batch and fails on another;
the suite files are the catalogue's, readable Chinese JSON; results are kept one run per batch
and rendered as offline Chinese Data Docs.

The batches are built once per module (see ``tests/expectation_builders.py``): a clean and a
broken upload per kind (one row per field check, edited to the boundary or just past it), a
clean upload per kind whose store entries are tampered with (rows read, received date), and three
uploads of one unit around a 文书号 used for two subjects.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import polars as pl
import pytest
from support.expectation_builders import (
    KIND_OF_SUITE,
    RECEIVED,
    TODAY,
    Batch,
    committed_expectations,
    group_of,
    html_resource_refs,
    key_of,
    load_suites,
    outcome_key,
    passing_and_failing,
    private_copy,
    record_field,
    shared_batches,
    suite_files,
)

from sgs.quality.data_docs import render
from sgs.quality.expectations import (
    SUITES,
    data_docs_dir,
    render_suite,
    run_batch,
    store_outcomes,
    suite_path,
)
from sgs.store import database

CASES = committed_expectations()
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> tuple[Path, dict[str, Batch]]:
    with pytest.MonkeyPatch.context() as mp:
        # nothing may touch the project's own data root
        mp.setenv("SGS_DATA_DIR", str(tmp_path_factory.mktemp("unused") / "data"))
        return shared_batches(tmp_path_factory)


@pytest.fixture(scope="module")
def batches(shared) -> dict[str, Batch]:
    return shared[1]


@pytest.fixture
def root(shared, tmp_path, monkeypatch) -> Path:
    """A private copy of the batches' data root, for the tests that write results."""
    monkeypatch.setenv("SGS_DATA_DIR", str(tmp_path / "data"))
    return private_copy(shared[0], tmp_path / "data")


def _case_id(case: tuple[str, int, dict]) -> str:
    suite, i, exp = case
    _, kind, column = key_of(suite, exp)
    return f"{suite}-{i:02d}-{kind.removeprefix('expect_')}-{column or 'table'}"


# ----------------------------------------------------------------------------- one pass, one fail


def test_every_committed_suite_has_expectations():
    assert {p.stem for p in suite_files()} == set(SUITES)
    assert all(any(s == name for s, _, _ in CASES) for name in SUITES)


@pytest.mark.parametrize("suite", sorted(load_suites()))
def test_outcomes_are_identified_by_suite_type_and_column(suite):
    keys = [key_of(suite, e) for e in load_suites()[suite]["expectations"]]
    assert len(keys) == len(set(keys)), "two expectations of a suite would share one outcome key"


def _exercised(batch: Batch, suite: str, exp: dict) -> None:
    """The passing batch really tests the expectation: its columns hold values, at the boundary."""
    group, kw = group_of(suite, exp), exp["kwargs"]
    o = batch.outcome(key_of(suite, exp))
    if group == "store":
        assert o.element_count == 2  # the two re-submitted records, each compared once
        return
    if group != "field":
        return
    records = batch.records
    assert records is not None
    if exp["type"] == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = records[kw["column_A"]], records[kw["column_B"]]
        assert (a == b).any(), "the passing batch has no row on the boundary (A == B)"
        return
    values = records[kw["column"]].drop_nulls()
    assert values.len() > 0, f"{kw['column']} is blank in every row of the passing batch"
    if exp["type"] == "expect_column_value_lengths_to_be_between":
        assert values.str.len_chars().max() == kw["max_value"]
    if exp["type"] == "expect_column_values_to_match_regex" and "其他-" in kw["regex"]:
        assert values.str.starts_with("其他-").any()


@pytest.mark.parametrize(("suite", "index", "exp"), CASES, ids=[_case_id(c) for c in CASES])
def test_expectation_passes_on_one_batch_and_fails_on_another(batches, suite, index, exp):
    key = key_of(suite, exp)
    passing_name, failing_name = passing_and_failing(suite, exp)
    passing, failing = batches[passing_name], batches[failing_name]

    ok = passing.outcome(key)
    assert ok.success, f"{passing_name}: {ok}"
    assert ok.description == exp["meta"]["说明"]
    _exercised(passing, suite, exp)

    bad = failing.outcome(key)
    assert not bad.success, f"{failing_name}: {bad}"
    assert bad.description == exp["meta"]["说明"]
    expected_unexpected = failing.expected_failures[key]
    if expected_unexpected is not None:
        assert bad.unexpected_count == expected_unexpected, bad
    # nothing but the violations built into the failing batch fails there
    assert failing.failed() == set(failing.expected_failures)


@pytest.mark.parametrize(
    "name",
    [
        "clean_permit", "broken_permit", "tampered_permit",
        "clean_penalty", "broken_penalty", "tampered_penalty",
        "store_first", "store_conflict", "store_resubmitted",
    ],
)  # fmt: skip
def test_each_batch_fails_exactly_what_it_was_built_to_fail(batches, name):
    batch = batches[name]
    suites = load_suites()
    suite = f"{batch.kind}_batch"
    expected_keys = [key_of(suite, e) for e in suites[suite]["expectations"]] + [
        key_of("store_unique", e) for e in suites["store_unique"]["expectations"]
    ]
    assert sorted(map(outcome_key, batch.outcomes), key=str) == sorted(expected_keys, key=str)
    assert {o.batch_id for o in batch.outcomes} == {batch.batch_id}
    assert batch.failed() == set(batch.expected_failures)
    for key, count in batch.expected_failures.items():
        if count is not None:
            assert batch.outcome(key).unexpected_count == count


def test_failing_outcomes_show_the_offending_values(batches):
    broken = batches["broken_permit"]
    examples = {o.column: o.examples for o in broken.outcomes if not o.success}
    assert "不在标准范围内" in examples["XK_XDR_LB"]
    assert "不合规代码" in examples["XK_XDR_SHXYM"]
    conflict = batches["store_conflict"].outcome(
        ("store_unique", "expect_compound_columns_to_be_unique", "unit_code,kind,doc_key")
    )
    assert "长审批" in conflict.examples  # the shared 文书号, in Chinese


@pytest.mark.parametrize("kind", ["permit", "penalty"])
def test_the_upload_validator_flags_what_the_suite_flags(batches, kind):
    """Each field check failing on the broken batch has a validator error on that field, and a
    blanked mandatory field is stored as null with a ``required`` error."""
    broken, suite = batches[f"broken_{kind}"], f"{kind}_batch"
    errors, records = broken.errors, broken.records
    assert errors is not None and records is not None
    flagged = set(errors.filter(pl.col("severity") == "error")["field"])
    required = set(errors.filter(pl.col("rule") == "required")["field"])
    for exp in load_suites()[suite]["expectations"]:
        if group_of(suite, exp) != "field":
            continue
        field = record_field(exp)
        assert field in flagged, f"GE flags {field} ({exp['meta']['说明']}), the validator does not"
        if exp["type"] == "expect_column_values_to_not_be_null":
            assert field in required
            assert records[field].null_count() == 1


def test_received_date_today_is_not_in_the_future(batches):
    """The clean penalty batch is validated with today == its received date, and passes."""
    clean = batches["clean_penalty"]
    assert clean.today == RECEIVED
    o = clean.outcome(("penalty_batch", "expect_column_max_to_be_between", "received_date"))
    assert o.success


# ----------------------------------------------------------------------------- suite files


@pytest.mark.parametrize("name", sorted(SUITES))
def test_committed_suite_is_what_the_catalogue_generates(name):
    assert suite_path(name).read_text(encoding="utf-8") == render_suite(name), (
        f"expectations/suites/{name}.json is out of date: regenerate it with write_suites()"
    )


@pytest.mark.parametrize("path", suite_files(), ids=lambda p: p.stem)
def test_suite_file_is_readable_chinese_json(path):
    raw = path.read_bytes()
    suite = json.loads(raw.decode("utf-8"))
    assert b"\\u" not in raw, "Chinese must be written as is, not as \\u escapes"
    assert "说明".encode() in raw
    if path.stem in KIND_OF_SUITE:
        assert "必填".encode() in raw
        assert b"\\u5fc5" not in raw
    assert suite["name"] == path.stem
    assert CJK.search(suite["meta"]["说明"])
    assert suite["expectations"]
    for exp in suite["expectations"]:
        assert list(exp) == ["type", "kwargs", "meta"]
        assert exp["type"].startswith("expect_")
        assert isinstance(exp["meta"]["说明"], str) and CJK.search(exp["meta"]["说明"]), exp
    descriptions = [e["meta"]["说明"] for e in suite["expectations"]]
    assert len(descriptions) == len(set(descriptions)), "descriptions name distinct checks"


# ----------------------------------------------------------------------------- results, Data Docs


def _results(con, batch_id: int) -> list[tuple]:
    return con.execute(
        "SELECT suite, expectation, column_name, success, run_at FROM expectation_results "
        "WHERE batch_id = ?",
        [batch_id],
    ).fetchall()


def test_store_outcomes_keeps_one_run_per_batch(batches, root):
    tampered, clean = batches["tampered_permit"], batches["clean_permit"]
    # A second run, now that today is after the received date: only the tampered rows fail.
    with database.reader(root) as con:
        rerun = run_batch(con, tampered.batch_id, today=TODAY)
    future = ("permit_batch", "expect_column_max_to_be_between", "received_date")
    assert {outcome_key(o) for o in rerun if not o.success} == set(tampered.expected_failures) - {
        future
    }

    with database.writer(root) as con:
        store_outcomes(con, tampered.outcomes)
        store_outcomes(con, clean.outcomes)
        first = _results(con, tampered.batch_id)
        assert len(first) == len(tampered.outcomes)
        assert sum(not r[3] for r in first) == len(tampered.expected_failures)
        store_outcomes(con, rerun)
        second = _results(con, tampered.batch_id)
        clean_rows = _results(con, clean.batch_id)
    assert len(second) == len(rerun)  # replaced, not appended
    assert {(r[0], r[1], r[2]) for r in second if not r[3]} == {
        outcome_key(o) for o in rerun if not o.success
    }
    assert len({r[4] for r in second}) == 1  # one run
    assert len(clean_rows) == len(clean.outcomes)  # other batches untouched
    assert all(r[3] for r in clean_rows)


def _row_of(index_html: str, batch_id: int) -> str:
    rows = [r for r in index_html.split("<tr>") if f'href="batch_{batch_id}.html"' in r]
    assert len(rows) == 1, f"batch {batch_id} is listed {len(rows)} times in index.html"
    return rows[0]


def _assert_offline(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert not re.search(r"url\(|@import", text, re.IGNORECASE), "CSS must not load resources"
    for tag, attr, value in html_resource_refs(text):
        assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", value, re.IGNORECASE), (
            f"{page.name}: <{tag} {attr}={value!r}> points outside the folder"
        )
        assert (page.parent / value.split("#")[0]).is_file(), f"{page.name}: broken link {value}"
    assert "http://" not in text and "https://" not in text
    assert '<meta charset="utf-8">' in text.lower()
    assert 'lang="zh-CN"' in text


def test_data_docs_render_offline_in_chinese(batches, root):
    with database.writer(root) as con:
        for b in batches.values():
            store_outcomes(con, b.outcomes)
    with database.reader(root) as con:
        index = render(con, root)
    assert index == data_docs_dir(root) / "index.html"
    index_html = index.read_text(encoding="utf-8")
    assert "数据质量检查" in index_html
    _assert_offline(index)
    for b in batches.values():
        failed = [o for o in b.outcomes if not o.success]
        row = _row_of(index_html, b.batch_id)
        passed = len(b.outcomes) - len(failed)
        assert f"{passed} / {len(b.outcomes)}" in row
        assert ("未通过" in row) == bool(failed) and ('class="bad"' in row) == bool(failed)

        page = data_docs_dir(root) / f"batch_{b.batch_id}.html"
        assert page.is_file()
        _assert_offline(page)
        text = page.read_text(encoding="utf-8")
        for o in b.outcomes:
            assert html.escape(o.description) in text, o.description
        assert text.count('class="bad"') == len(failed)
        assert text.count('class="ok"') == passed
    broken = (data_docs_dir(root) / f"batch_{batches['broken_permit'].batch_id}.html").read_text(
        encoding="utf-8"
    )
    assert "行政相对人类别取值在标准范围内" in broken and "不在标准范围内" in broken


def test_data_docs_without_results(tmp_path, monkeypatch):
    monkeypatch.setenv("SGS_DATA_DIR", str(tmp_path / "data"))
    with database.reader(tmp_path / "data") as con:
        index = render(con, tmp_path / "data")
    assert "尚无检查结果" in index.read_text(encoding="utf-8")
    _assert_offline(index)
