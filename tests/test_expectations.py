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
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support.expectation_builders import (
    KIND_OF_SUITE,
    RECEIVED,
    TODAY,
    UNIT,
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
from sgs.reference.settings import public_url
from sgs.store import database

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_expectations")

CASES = committed_expectations()
PAIR = "expect_column_pair_values_a_to_be_greater_than_b"
NOT_NULL = "expect_column_values_to_not_be_null"
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
    values = records[record_field(exp)].drop_nulls()
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


def test_two_passes_give_what_one_summary_pass_of_ge_gives(shared, batches):
    """The validation asks GE for ``BASIC`` results, then ``SUMMARY`` for the failed checks
    only; GE asked once for ``SUMMARY`` and the index columns for every check (as the store
    did before) gives the same outcomes, failed and passed, in the same order."""
    import great_expectations as gx

    import sgs.quality.expectations as checks

    def one_pass(context, suite_dict, data, params, index):
        suite = context.suites.add(gx.ExpectationSuite(**suite_dict))
        source = context.data_sources.add_pandas(f"src_{suite_dict['name']}")
        definition = source.add_dataframe_asset("batch").add_batch_definition_whole_dataframe("w")
        validation = gx.ValidationDefinition(data=definition, suite=suite, name=suite_dict["name"])
        fmt = {"result_format": "SUMMARY", "unexpected_index_column_names": index}
        done = validation.run(batch_parameters={"dataframe": checks._pandas(data)},
                              expectation_parameters=params, result_format=fmt)  # fmt: skip
        return list(done.results)

    with pytest.MonkeyPatch.context() as patch, database.reader(shared[0]) as con:
        patch.setattr(checks, "_validate", one_pass)
        for name in ("broken_permit", "tampered_penalty", "store_conflict", "clean_permit"):
            batch = batches[name]
            assert run_batch(con, batch.batch_id, today=batch.today) == batch.outcomes, name


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
            # one blank row; a date or amount also has a row whose text could not be read,
            # null in its typed column too but kept as written (and not a required error)
            unread = records["original"].str.json_path_match(f"$.{field}").drop_nulls()
            assert records[field].null_count() == 1 + unread.len()
            assert unread.len() == (1 if exp["kwargs"]["column"] != field else 0)


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
    # The one link out, followed only by a click (no resource): back to the web app's month
    # page (issue 21), at the public_url setting's address.
    month = f'<a id="month-page" href="{public_url("/")}">返回月度数据</a>'
    assert text.count(month) == 1, f"{page.name}: no link back to the month page"
    text = text.replace(month, "")
    assert "<script" not in text.lower()
    assert not re.search(r"url\(|@import", text, re.IGNORECASE), "CSS must not load resources"
    for tag, attr, value in html_resource_refs(text):
        assert not re.match(r"^\s*([a-z][a-z0-9+.-]*:|//)", value, re.IGNORECASE), (
            f"{page.name}: <{tag} {attr}={value!r}> points outside the folder"
        )
        target, _, fragment = value.partition("#")
        if target:
            assert (page.parent / target).is_file(), f"{page.name}: broken link {value}"
        else:  # a link within the page: its target exists
            assert f'id="{fragment}"' in text, f"{page.name}: broken link {value}"
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


# ----------------------------------------------------------------------------- honest reports

NOT_FOR_PEOPLE = re.compile(r"\b(?:NaN|NaT|None|nan|null)\b|\d{2}:\d{2}:\d{2}|\d{4}/\d")


def _lines(outcome) -> list[str]:
    lines = json.loads(outcome.examples)
    assert isinstance(lines, list) and all(isinstance(line, str) for line in lines), outcome
    return lines


def test_failing_checks_show_places_and_values_for_people(batches):
    """Every failure has example lines; none shows NaN/NaT/None or a raw timestamp, and the
    lines say where (the row as the spreadsheet shows it) and what the unit wrote."""
    for b in batches.values():
        for o in b.outcomes:
            if o.success:
                assert o.examples is None
                continue
            lines = _lines(o)
            assert lines, o
            for line in lines:
                assert not NOT_FOR_PEOPLE.search(line), (b.name, o.description, line)
    broken, permit = batches["broken_permit"], "permit_batch"
    pair = broken.outcome((permit, PAIR, "received_date"))
    # the decision date was moved to 10 days after the received date 2026-10-31
    assert re.fullmatch(r"第 \d+ 行：许可决定日期 2026-11-10，接收日期 2026-10-31", _lines(pair)[0])
    assert _lines(broken.outcome((permit, NOT_NULL, "XK_XKJG")))[0].endswith("：未填写")
    tampered = batches["tampered_permit"]
    assert _lines(tampered.outcome((permit, "expect_table_row_count_to_equal", None))) == [
        "入库 5 行，文件读取 6 行"
    ]
    assert _lines(
        tampered.outcome((permit, "expect_column_max_to_be_between", "received_date"))
    ) == ["最晚的接收日期 2026-10-31，晚于检查日 2026-10-30"]
    conflict = batches["store_conflict"].outcome(
        ("store_unique", "expect_compound_columns_to_be_unique", "unit_code,kind,doc_key")
    )
    assert all(re.fullmatch(r"批次 \d+，第 \d+ 行：行政许可决定文书号「长审批.+」", line)
               for line in _lines(conflict)), _lines(conflict)  # fmt: skip


@pytest.mark.parametrize(
    ("suite", "column", "written"),
    [
        ("permit_batch", "XK_YXQZI__written", "2026.10.07"),
        ("penalty_batch", "CF_JDRQ__written", "2026.10.07"),
        ("penalty_batch", "CF_NR_FK__written", "壹万元整"),
    ],
)
def test_a_value_that_could_not_be_read_is_reported_as_written(batches, suite, column, written):
    """The broken batch has one unreadable cell per date and amount field: the check
    "为可识别的…" fails on it showing the text as written, and "必填" does not count it."""
    broken = batches[f"broken_{suite.removesuffix('_batch')}"]
    parse = broken.outcome((suite, "expect_column_values_to_match_regex", column))
    assert not parse.success and parse.unexpected_count == 1
    assert re.fullmatch(rf"第 \d+ 行：无法解析（原值「{written}」）", _lines(parse)[0])
    assert parse.field == column.removesuffix("__written")
    required = [o for o in broken.outcomes if o.column == column and o.expectation == NOT_NULL]
    for o in required:  # one blank row only, shown as blank
        assert o.unexpected_count == 1 and _lines(o)[0].endswith("：未填写")


def test_blank_like_text_is_missing_and_other_text_is_unreadable(tmp_path, monkeypatch):
    """「/」 in a date is a blank (必填 fails there), 「2026.10.07」 is a date that could not be
    read (the parse check fails there, 必填 does not)."""
    from sgs.samples.generator import generate
    from sgs.samples.writers import write_upload
    from sgs.store.ingest import ingest_file

    root = tmp_path / "data"
    monkeypatch.setenv("SGS_DATA_DIR", str(root))
    sample = generate("permit", 3, seed=5, unit=UNIT, start=date(2026, 10, 1), end=RECEIVED)
    frame = sample.frame.with_columns(
        pl.Series("XK_YXQZI", ["/", "2026.10.07", sample.frame["XK_YXQZI"][2]])
    )
    path = write_upload(frame, tmp_path / "upload.csv")
    result = ingest_file(path, unit=UNIT, received=RECEIVED, root=root)
    with database.reader(root) as con:
        outcomes = run_batch(con, result.batch_id, today=TODAY)
    by_check = {o.description: o for o in outcomes}
    required, parse = by_check["有效期至必填"], by_check["有效期至为可识别的日期"]
    assert (required.unexpected_count, _lines(required)) == (1, ["第 2 行：未填写"])
    assert (parse.unexpected_count, _lines(parse)) == (
        1,
        ["第 3 行：无法解析（原值「2026.10.07」）"],
    )


# The field a person must change for each kind of check (the page lists checks under it).
FIELD_OF_CHECK = {
    "批次入库行数等于读取的行数": None,
    "接收日期不晚于今天": "received_date",
    "许可决定日期不晚于接收日期": "XK_JDRQ",
    "有效期至不早于有效期自": "XK_YXQZI",
    "有效期至为可识别的日期": "XK_YXQZI",
    "有效期至必填": "XK_YXQZI",
    "同一单位、同一类别的现行记录中决定文书号唯一（含此前入库的记录）": "XK_WSH",
    "行政相对人类别取值在标准范围内": "XK_XDR_LB",
}


def _checks_by_field(page: str) -> dict[str, tuple[str, str]]:
    """Check name -> (the id of the field heading it is listed under, that heading's text)."""
    from html.parser import HTMLParser

    found: dict[str, tuple[str, str]] = {}

    class Walk(HTMLParser):
        heading = ("", "")
        cell = None
        in_heading = False

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "tr" and a.get("class") == "field":
                self.heading, self.in_heading = (a["id"], ""), True
            elif tag == "tr":
                self.in_heading, self.cell = False, None
            elif tag == "td" and self.cell is None and not self.in_heading:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag == "td" and self.cell is not None and self.cell != "done":
                found[self.cell] = self.heading
                self.cell = "done"

        def handle_data(self, data):
            if self.in_heading:
                self.heading = (self.heading[0], self.heading[1] + data)
            elif isinstance(self.cell, str) and self.cell != "done":
                self.cell += data

    Walk().feed(page)
    return found


def test_each_check_is_listed_under_the_field_to_change(batches, root):
    with database.writer(root) as con:
        for b in batches.values():
            store_outcomes(con, b.outcomes)
    with database.reader(root) as con:
        render(con, root)
    broken = batches["store_conflict"]  # a permit batch failing the store check
    page = (data_docs_dir(root) / f"batch_{broken.batch_id}.html").read_text(encoding="utf-8")
    listed = _checks_by_field(page)
    names = {None: "整个批次", "received_date": "接收日期", "XK_JDRQ": "许可决定日期",
             "XK_YXQZI": "有效期至", "XK_WSH": "行政许可决定文书号", "XK_XDR_LB": "行政相对人类别"}  # fmt: skip
    for check, field in FIELD_OF_CHECK.items():
        anchor, heading = listed[check]
        assert anchor == f"f-{field or 'batch'}", check
        assert heading.startswith(names[field]), (check, heading)
    for o in broken.outcomes:
        assert o.field == FIELD_OF_CHECK.get(o.description, o.field)
    # the failure summary links to the field
    assert '<a href="#f-XK_WSH">行政许可决定文书号</a>' in page
    assert not NOT_FOR_PEOPLE.search(re.sub(r"<[^>]+>", " ", page))
